"""The exercises of tools.exercise, in the order of the tour's sections (docs/tour/).

Each exercise draws its parameters from a random.Random seeded by its key and the student's
seed (so adding an exercise changes no other's numbers), names the tools.run command lines
that answer it, and computes its answer from what those runs print: no answer is typed in
here. `check` says how a student's answer is compared with the computed one. `needs` names a
tools.run option the exercise cannot run without (`check` skips it until the option exists).
"""
import re
from dataclasses import dataclass
from typing import Callable, Optional

from tools.sweep import METRICS

SECTIONS = {1: ("The process", "docs/tour/1-process.md"), 2: ("The thread", "docs/tour/2-thread.md"),
            3: ("User-level threads", "docs/tour/3-user-threads.md"),
            4: ("Upcalls: scheduler activations", "docs/tour/4-upcalls.md"),
            5: ("Kernel threads", "docs/tour/5-kernel-threads.md"),
            6: ("Solaris: LWPs", "docs/tour/6-solaris.md"), 7: ("The summary", "docs/tour/7-summary.md")}


class ExerciseError(Exception):
    """The experiment did not print what the exercise reads: the program or the exercise changed."""


class Exact:
    """An integer, compared exactly."""
    describe = "an integer, exact"

    def parse(self, text: str):
        return int(text.strip().replace(",", "").replace("_", ""))

    def accepts(self, given, right) -> bool:
        return given == right

    def wrong(self, right):
        return right + 1 + abs(right) // 10


class Within:
    """A measured figure: right within rel (a fraction of the answer) or abs, whichever is larger."""

    def __init__(self, rel=0.0, abs=0.0):
        self.rel, self.abs = rel, abs
        self.describe = "a number, within " + (f"{100 * rel:g}%" if rel else f"{abs:g}")

    def parse(self, text: str):
        return float(text.strip().rstrip("x%"))

    def margin(self, right) -> float:
        return max(self.abs, self.rel * abs(right))

    def accepts(self, given, right) -> bool:
        return abs(given - right) <= self.margin(right) + 1e-9

    def wrong(self, right):
        return right + 3 * self.margin(right) + 1


class OneOf:
    """One of a set of words, compared without regard to case."""

    def __init__(self, *choices):
        self.choices = choices
        self.describe = "one of: " + ", ".join(choices)

    def parse(self, text: str):
        for c in self.choices:
            if c.lower() == text.strip().lower():
                return c
        raise ValueError(f"not one of {', '.join(self.choices)}")

    def accepts(self, given, right) -> bool:
        return given == right

    def wrong(self, right):
        return next(c for c in self.choices if c != right)


@dataclass
class Exercise:
    key: str                        # stable: seeds the parameters and names the cache entry
    section: int                    # the tour's section (SECTIONS)
    claim: str
    title: str
    params: Callable                # random.Random -> dict
    question: str                   # formatted with the parameters
    commands: Callable              # params -> [tools.run argv, ...]
    answer: Callable                # ([CompletedProcess, ...], params) -> the answer
    check: object                   # Exact, Within or OneOf
    explain: str                    # shown after a right answer
    needs: Optional[str] = None     # a tools.run option this exercise cannot run without


def grab(pattern: str, text: str, conv=int):
    """The first match of pattern's group in text, converted."""
    m = re.search(pattern, text, re.MULTILINE)
    if m is None:
        raise ExerciseError(f"the output has no match for {pattern!r}")
    return conv(m.group(1))


def fig(program: str, name: str, conv=int):
    """An answer function reading the named figure of tools.sweep's table from run i's output."""
    return lambda outs, p, i=0: grab(METRICS[program][name], outs[i].stdout, conv)


def stats(name_re: str):
    return lambda outs, p: grab(name_re, outs[0].stderr)


def on(p, *args) -> list:
    """tools.run's options for params p (harts, machine seed), then the program and its arguments."""
    return ["--no-disk", "--cpus", str(p.get("cpus", 4)), "--seed", str(p["mseed"])] + [str(a) for a in args]


def base(rng, cpus=(4,)) -> dict:
    return {"mseed": rng.randrange(100), "cpus": rng.choice(cpus)}


def with_(d: dict, **more) -> dict:
    d.update(more)
    return d


def race_which(outs, p):
    lost = [grab(METRICS["race"]["lost"], o.stdout) > 0 for o in outs]
    return {(True, True): "both", (True, False): "first", (False, True): "second", (False, False): "neither"}[tuple(lost)]


def race_order(p):
    one = on(with_(dict(p), cpus=1), "race", p["n"])
    many = on(p, "race", p["n"])
    return [one, many] if p["one_first"] else [many, one]


def stack_gap(outs, p):
    local = {int(i): int(a, 16) for i, a in re.findall(r"^thread (\d+) \(lwp \d+\): local at (0x[0-9a-f]+)",
                                                        outs[0].stdout, re.MULTILINE)}
    if p["i"] not in local or p["j"] not in local:
        raise ExerciseError("s5_stacks printed no local address for those threads")
    return abs(local[p["i"]] - local[p["j"]]) // 1024


def giver_of_context(outs, p):
    out = outs[0].stdout
    blocked = grab(r"^blocked (\d+) work", out)
    seen = False
    for kind, ident in re.findall(r"^upcall (\w+) id (\d+)", out, re.MULTILINE):
        if seen and int(ident) == blocked:
            return kind
        seen = seen or (kind == "BLOCKED" and int(ident) == blocked)
    raise ExerciseError("no upcall named the blocked activation after BLOCKED")


def ps_rows_of_main(outs, p):
    out = outs[0].stdout
    pid = grab(r"^main: pid (\d+)", out)
    return len(re.findall(rf"^\s+{pid}\s+\d+\s+\w\s", out, re.MULTILINE))


def fastest(outs, p):
    speed = {m: grab(METRICS["sa_speedup"][m], outs[0].stdout, float) for m in ("M:1", "M:N", "1:1", "SA")}
    return max(speed, key=lambda m: (speed[m], m))


COST_ENTRIES = ("TRAP_ENTRY", "KTHREAD_SWITCH", "ASPACE_SWITCH", "TLB_REFILL", "PTE_COPY")


def closest_entry(outs, p):
    gap = {e: abs(grab(METRICS["solaris"]["T3-T4"], o.stdout) - grab(METRICS["solaris"]["T1-T3"], o.stdout))
           for e, o in zip(COST_ENTRIES, outs)}
    return min(COST_ENTRIES, key=lambda e: (gap[e], e))


S = SECTIONS
EXERCISES = [
    # 1. The process
    Exercise("s1-cow", 1, "S1", "What the parent reads after its child wrote", lambda r: base(r, (1, 2, 3, 4)),
             "s1_procmem (on {harts}, machine seed {mseed}) sets a global variable to 1 and forks; the "
             "child sets it to 2 at the same address. What value does the parent read there afterwards?",
             lambda p: [on(p, "s1_procmem")],
             lambda outs, p: re.findall(r"^parent \d+: global=(\d+)", outs[0].stdout, re.MULTILINE)[-1],
             OneOf("1", "2"),
             "fork gave the child a copy-on-write copy: its store faulted and got a page of its own, so the "
             "parent's frame never changed. The same address names different memory in two processes."),
    Exercise("s2-siblings", 1, "S2", "Children that survive a sibling's crash", lambda r: base(r, (1, 2, 3, 4)),
             "s2_crash (on {harts}, machine seed {mseed}) forks three children; one writes through a bad "
             "pointer. How many children exit normally (status 0)?",
             lambda p: [on(p, "s2_crash")],
             lambda outs, p: len(re.findall(r"^child \d+ exited 0$", outs[0].stdout, re.MULTILINE)),
             Exact(),
             "The fault is SIGSEGV for the faulting process only; its siblings' memory was never reachable from "
             "its page table, so they finish as if nothing happened."),
    Exercise("s3-create", 1, "S3", "The price of a new process",
             lambda r: with_(base(r), rounds=r.randrange(50, 301, 10)),
             "Run `costs {rounds}` (machine seed {mseed}). How many virtual ns does a process fork + exit + wait "
             "cost?",
             lambda p: [on(p, "costs", p["rounds"])], fig("costs", "process_create"), Within(rel=0.02),
             "fork copies every present page-table entry (PTE_COPY each), both sides then fault and copy the pages "
             "they write, and exit tears the table down: the address space is what a process costs."),
    Exercise("s3-switch", 1, "S3", "Process switch against thread switch",
             lambda r: with_(base(r), rounds=r.randrange(50, 301, 10)),
             "Run `costs {rounds}` (machine seed {mseed}). How many virtual ns more does a process switch (pipe "
             "ping-pong) cost than a thread switch (futex ping-pong)?",
             lambda p: [on(p, "costs", p["rounds"])],
             lambda outs, p: fig("costs", "process_switch")(outs, p) - fig("costs", "thread_switch")(outs, p),
             Within(rel=0.05, abs=5),
             "A process switch changes the address space (ASPACE_SWITCH) and, where the TLB keeps no tag for it "
             "(always under xv6, which flushes on every switch), refills it (TLB_REFILL); the rest of the "
             "difference is the pipe's path against the futex's."),
    # 2. The thread
    Exercise("s4-race-lost", 2, "S4", "Updates lost without a lock",
             lambda r: with_(base(r, (2, 3, 4)), n=r.randrange(20000, 40001, 1000)),
             "Run `race {n}` on {harts} (machine seed {mseed}): 4 threads add 1 to one counter {n} times "
             "each. How many updates are lost without a lock?",
             lambda p: [on(p, "race", p["n"])], fig("race", "lost"), Exact(),
             "Each increment is a load, an add and a store; whenever another hart stores between one thread's "
             "load and its store, one of the two updates is gone. The mutex makes the three one step."),
    Exercise("s4-race-which", 2, "S4", "Which interleaving loses updates",
             lambda r: with_(base(r, (2, 3, 4)), n=r.randrange(50000, 250001, 10000), one_first=r.random() < 0.5),
             "Run `race {n}` twice, as the two commands below: once on 1 hart, once on {harts}. Which "
             "run loses updates without a lock: first, second, both or neither?",
             race_order, race_which, OneOf("first", "second", "both", "neither"),
             "On one hart the threads take turns only when the timer ends a time slice (2 ms of virtual time); "
             "a loop of this length finishes inside its slice, so no thread is stopped between its load and its "
             "store. On several harts the threads run at the same instant and interleave all the time."),
    Exercise("s5-stacks", 2, "S5", "How far apart the stacks are",
             lambda r: with_(base(r, (1, 2, 3, 4)), **dict(zip("ij", sorted(r.sample(range(4), 2))))),
             "Run s5_stacks (on {harts}, machine seed {mseed}). How many KiB apart are the local variables of "
             "thread {i} and thread {j}?",
             lambda p: [on(p, "s5_stacks")], stack_gap, Exact(),
             "Each thread's stack is 64 KiB with an unmapped 4 KiB guard page below it, mapped one below the "
             "other: 68 KiB per thread. The guard page turns an overflow into a fault instead of a silent write."),
    Exercise("s6-switch", 2, "S6", "Kernel thread switch against user-level switch",
             lambda r: with_(base(r), rounds=r.randrange(50, 301, 10)),
             "Run `costs {rounds}` (machine seed {mseed}). How many times dearer is a thread switch (futex "
             "ping-pong) than an M:1 uthread switch (yield)? (thread switch ns / M:1 switch ns)",
             lambda p: [on(p, "costs", p["rounds"])],
             lambda outs, p: fig("costs", "thread_switch")(outs, p) / fig("costs", "m1_switch")(outs, p),
             Within(abs=0.1),
             "A kernel thread switch needs two system calls and the kernel's switch; the user-level switch is "
             "about a hundred instructions of library code and never enters the kernel."),
    Exercise("s7-lwps", 2, "S7", "LWPs that die with one faulting thread", lambda r: base(r, (1, 2, 3, 4)),
             "Run s7_threadcrash (on {harts}, machine seed {mseed}): thread 3 of a 4-thread child writes to "
             "address 0x10. How many LWPs does the kernel end?",
             lambda p: [on(p, "s7_threadcrash")],
             lambda outs, p: grab(r"all (\d+) LWPs of the process die", outs[0].stderr), Exact(),
             "SIGSEGV is delivered to the process, and its default action ends the process: every LWP of it "
             "(the 4 threads and main), wherever each one is. The sibling process lives on."),
    # 3. User-level threads
    Exercise("s8-instructions", 3, "S8", "Instructions per user-level switch",
             lambda r: with_(base(r), n=r.randrange(500, 5001, 100)),
             "Run `s8_switch {n} m1 plain` (machine seed {mseed}). How many guest instructions does one "
             "user-level switch take (per switch)?",
             lambda p: [on(p, "s8_switch", p["n"], "m1", "plain")], fig("s8_switch", "per_switch", float),
             Within(abs=0.5),
             "__uswitch saves and loads 26 registers; the rest is the loop, the call and the run queue. One "
             "instruction is one virtual ns, so the clock read before and after counts them."),
    Exercise("s8-syscalls", 3, "S8", "System calls of user-level switches",
             lambda r: with_(base(r), n1=r.randrange(200, 1001, 100), n2=r.randrange(2000, 5001, 100)),
             "Run `s8_switch {n1} m1 plain` and `s8_switch {n2} m1 plain` with --stats (machine seed {mseed}). How "
             "many more system calls does the kernel count in the second run than in the first?",
             lambda p: [on(p, "--stats", "s8_switch", p["n1"], "m1", "plain"),
                        on(p, "--stats", "s8_switch", p["n2"], "m1", "plain")],
             lambda outs, p: grab(r"^syscalls\s+(\d+)", outs[1].stderr) - grab(r"^syscalls\s+(\d+)", outs[0].stderr),
             Exact(),
             "A user-level switch is library code: more switches, not one more system call. The kernel's counters "
             "do not see them at all."),
    Exercise("s10-m1", 3, "S10", "Work done under M:1 while one thread sleeps",
             lambda r: with_(base(r), us=r.randrange(1000, 5001, 100)),
             "Run `s10_block m1 1 {us}` (machine seed {mseed}): under M:1 thread 1 sleeps {us} us in the kernel "
             "while threads 2-4 want to compute. How many chunks do threads 2-4 finish during the sleep?",
             lambda p: [on(p, "s10_block", "m1", 1, p["us"])], fig("s10_block", "during"), Exact(),
             "The sleep put the process's only LWP to sleep; threads 2-4 are runnable only in the library's run "
             "queue, and nothing runs it while the LWP sleeps."),
    Exercise("s10-mn", 3, "S10", "Work done under M:N while one thread sleeps",
             lambda r: with_(base(r), us=r.randrange(1000, 5001, 100)),
             "Run `s10_block mn 2 {us}` (machine seed {mseed}): under M:N with 2 LWPs, thread 1 sleeps {us} us "
             "in the kernel while threads 2-4 want to compute. How many chunks do threads 2-4 finish during the "
             "sleep?",
             lambda p: [on(p, "s10_block", "mn", 2, p["us"])], fig("s10_block", "during"), Exact(),
             "Thread 1's sleep holds one LWP; the library runs threads 2-4 on the other, so the process keeps "
             "working for the whole sleep (compare the M:1 exercise)."),
    Exercise("s11-m1", 3, "S11", "M:1 threads on many harts",
             lambda r: with_(base(r, (2, 3, 4, 6, 8)), iters=r.randrange(100000, 300001, 25000)),
             "Run `s11_parallel m1 1 {iters}` on {harts} (machine seed {mseed}). What is the ratio of the "
             "4 user threads' time to the serial time?",
             lambda p: [on(p, "s11_parallel", "m1", 1, p["iters"])], fig("s11_parallel", "ratio", float),
             Within(abs=0.02),
             "The kernel has one LWP of this process to run, so at most one hart works on it, however many the "
             "machine has: 4 threads take as long as the same work done serially."),
    Exercise("s12-preempt", 3, "S12", "Timer preemptions",
             lambda r: with_(base(r), q=r.randrange(300, 1501, 100)),
             "Run `s12_preempt preempt {q}` (machine seed {mseed}): 3 threads that never yield, preempted by "
             "SIGVTALRM every {q} us of user time. How many timer preemptions does it report?",
             lambda p: [on(p, "s12_preempt", "preempt", p["q"])], fig("s12_preempt", "preemptions"), Exact(),
             "The timer fires once per quantum of the process's user time and the library's handler yields: about "
             "the total user time (18 ms for the three threads) divided by the quantum."),
    # 4. Upcalls
    Exercise("s13-unblocked", 4, "S13", "The upcall that returns a blocked context",
             lambda r: base(r, (2, 3, 4)),
             "Run s13_upcalls on {harts} (machine seed {mseed}). After the BLOCKED upcall, which upcall "
             "hands main's context back to the program?",
             lambda p: [on(p, "s13_upcalls")], giver_of_context, OneOf("NEWPROC", "BLOCKED", "UNBLOCKED", "PREEMPTED"),
             "When the blocking call completes the kernel does not resume main itself: an UNBLOCKED upcall gives "
             "the library main's registers, and the library decides when to resume them."),
    Exercise("s13-sa-work", 4, "S13", "Work done under SA while one thread sleeps",
             lambda r: with_(base(r), us=r.randrange(1000, 5001, 100)),
             "Run `s10_block sa 1 {us}` (machine seed {mseed}): thread 1 sleeps {us} us under scheduler "
             "activations with one virtual processor. How many chunks do threads 2-4 finish during the sleep?",
             lambda p: [on(p, "s10_block", "sa", 1, p["us"])], fig("s10_block", "during"), Exact(),
             "The BLOCKED upcall arrives on a fresh activation at once, on the same processor, and the library "
             "runs threads 2-4 on it: one vp, and still no time lost to the sleep."),
    Exercise("s13-upcalls", 4, "S13", "Work on 2 virtual processors while a reader waits",
             lambda r: with_(base(r), us=r.randrange(1000, 4001, 100)),
             "Run `upcalls - {us}` (machine seed {mseed}): user threads on 2 vps; thread 1 sleeps {us} us while "
             "threads 2-4 compute. How many chunks do threads 2-4 finish while it waits?",
             lambda p: [on(p, "upcalls", "-", p["us"])], fig("upcalls", "chunks"), Exact(),
             "Both vps keep computing: the one whose activation blocked gets a new activation through the BLOCKED "
             "upcall, so about two harts' worth of chunks are done during the wait."),
    Exercise("s13-sa-speedup", 4, "S13", "SA's speedup on threads that block",
             lambda r: base(r, (2, 3, 4, 5, 6)),
             "Run sa_speedup on {harts} (machine seed {mseed}): 8 threads that compute and block. What speedup "
             "does SA reach?",
             lambda p: [on(p, "sa_speedup")], fig("sa_speedup", "SA", float), Within(rel=0.03),
             "Under SA a blocked thread's processor is handed back to the library at once, so one thread's I/O "
             "overlaps another's work; only the upcalls cost a little against 1:1."),
    # 5. Kernel threads
    Exercise("s14-flat", 5, "S14", "CPU share under the flat policy",
             lambda r: with_(base(r), cpus=1, t=(t := r.randrange(2, 9)), t1=t + 1),
             "Run `sched_share {t} 0.02` on 1 hart with --sched flat (machine seed {mseed}): process A has {t} "
             "CPU-bound threads, B has 1. What share of the CPU does A get?",
             lambda p: [on(p, "--sched", "flat", "sched_share", p["t"], "0.02")], fig("sched_share", "share", float),
             Within(abs=0.01),
             "The flat policy is one round robin over threads: A's threads are {t} of the {t1} competitors, so A "
             "gets close to {t}/{t1} whatever its process."),
    Exercise("s14-two-level", 5, "S14", "CPU share under the two-level policy",
             lambda r: with_(base(r), cpus=1, t=r.randrange(2, 9)),
             "Run `sched_share {t} 0.02` on 1 hart with --sched two-level (machine seed {mseed}). What share of "
             "the CPU does A, with {t} threads, get?",
             lambda p: [on(p, "--sched", "two-level", "sched_share", p["t"], "0.02")],
             fig("sched_share", "share", float), Within(abs=0.01),
             "The two-level policy first picks the process with the least CPU time, then one of its threads: "
             "processes share the hart evenly, however many threads each has."),
    Exercise("s15-ps", 5, "S15", "Rows of ps for a process of kernel threads",
             lambda r: with_(base(r, (1, 2, 3, 4)), n=r.randrange(2, 11)),
             "Run `s15_threads {n}` (on {harts}, machine seed {mseed}). How many rows does ps list for "
             "the process's pid?",
             lambda p: [on(p, "s15_threads", p["n"])], ps_rows_of_main, Exact(),
             "Every thread of the 1:1 library is an LWP the kernel knows, so ps lists one row per thread plus "
             "main: compare S9, where 8 user threads under M:1 are one row."),
    # 6. Solaris
    Exercise("s16-kthreads", 6, "S16", "Kernel threads that belong to no process", lambda r: base(r, (1, 2, 3, 4)),
             "Run s16_kthreads (on {harts}, machine seed {mseed}). How many pure kernel threads (PID 0) "
             "does ps list?",
             lambda p: [on(p, "s16_kthreads")],
             lambda outs, p: grab(r"(\d+) pure kernel threads:", outs[0].stdout), Exact(),
             "The scheduler runs one kind of object, the kernel thread; the kernel's own daemons are kernel "
             "threads with no process and no user registers, numbered among the LWPs."),
    Exercise("s17-pool", 6, "S17", "Parallelism of a pool of LWPs",
             lambda r: with_(base(r, (4, 6, 8)), lwps=r.choice((1, 2, 3, 4))),
             "Run `s11_parallel mn {lwps} 100000` on {harts} (machine seed {mseed}): 4 CPU-bound user "
             "threads on a pool of {lwps} LWP(s). What is the ratio of their time to the serial time?",
             lambda p: [on(p, "s11_parallel", "mn", p["lwps"], 100000)], fig("s11_parallel", "ratio", float),
             Within(abs=0.03),
             "The pool's size, not the machine's, sets the parallelism: 4 threads on {lwps} LWP(s) run in "
             "rounds, ceil(4/{lwps}) of them, each as long as one thread's share."),
    Exercise("s17-grow", 6, "S17", "LWPs the library adds",
             lambda r: with_(base(r), us=r.randrange(1000, 4001, 100)),
             "Run `s10_block mn 1 {us}` (machine seed {mseed}): M:N with a pool of 1 LWP, and thread 1 about to "
             "sleep {us} us. How many LWPs does the library add to its pool?",
             lambda p: [on(p, "s10_block", "mn", 1, p["us"])], fig("s10_block", "added"), Exact(),
             "Before the sleep would leave every LWP of the pool blocked with threads waiting, the library adds "
             "one (Solaris's SIGWAITING idea), and threads 2-4 run on it."),
    Exercise("s18-t1t3", 6, "S18", "Switching to another LWP of the process",
             lambda r: with_(base(r), rounds=r.randrange(100, 401, 20)),
             "Run `solaris {rounds}` (machine seed {mseed}). How many virtual ns does a T1-T3 switch (another "
             "LWP of the same process) cost?",
             lambda p: [on(p, "solaris", p["rounds"])], fig("solaris", "T1-T3"), Within(rel=0.02),
             "T1-T3 adds two system calls (a pipe's write and read) and a kernel thread switch to T1-T2's "
             "user-level switch, but no change of address space."),
    Exercise("s18-entry", 6, "S18", "The entry that makes a process switch cheap", needs="--cost",
             params=lambda r: with_(base(r), rounds=r.randrange(100, 401, 20)),
             question="In `solaris {rounds}` (machine seed {mseed}), which one cost-table entry, set to 0 with "
             "`--cost ENTRY=0`, brings T3-T4 (another process) closest to T1-T3 (another LWP)? One of "
             + ", ".join(COST_ENTRIES) + ".",
             commands=lambda p: [on(p, "--cost", f"{e}=0", "solaris", p["rounds"]) for e in COST_ENTRIES],
             answer=closest_entry, check=OneOf(*COST_ENTRIES),
             explain="What a process switch adds to a thread switch is the address space: the satp write "
             "(ASPACE_SWITCH), all of it when the TLB keeps both spaces tagged (linux), and the TLB refill "
             "after it where every switch flushes (xv6: TLB_REFILL, far larger)."),
    Exercise("s18-after", 6, "S18", "S18 with free address-space changes", needs="--cost",
             params=lambda r: with_(base(r), rounds=r.randrange(100, 401, 20)),
             question="Run `solaris {rounds}` with --cost ASPACE_SWITCH=0 --cost TLB_REFILL=0 (machine seed "
             "{mseed}). What is T3-T4 now, in virtual ns?",
             commands=lambda p: [on(p, "--cost", "ASPACE_SWITCH=0", "--cost", "TLB_REFILL=0", "solaris", p["rounds"])],
             answer=fig("solaris", "T3-T4"), check=Within(rel=0.03),
             explain="With the address-space change free, a switch to another process costs about what a "
             "switch to another LWP costs (both pass a byte through pipes): S18's order T1-T3 < T3-T4 rests on "
             "the address space alone."),
    # 7. The summary
    Exercise("s20-time", 7, "S20", "The virtual time of S20",
             lambda r: with_(base(r, (2, 3, 5, 6)), iters=r.randrange(200000, 1000001, 50000)),
             "Run `s20_parallel {iters}` on {harts} (machine seed {mseed}). How many virtual ns do the 4 "
             "threads take?",
             lambda p: [on(p, "s20_parallel", p["iters"])], fig("s20_parallel", "parallel_ns"), Within(rel=0.01),
             "Each thread is an LWP the kernel can put on any free hart. With 4 harts or more each thread has "
             "one and the 4 take one thread's time; with fewer, a thread waits in a hart's run queue until that "
             "hart is free or the running thread's 2 ms time slice ends, so the work takes longer."),
    Exercise("s20-speedup", 7, "S20", "Speedup of kernel threads",
             lambda r: with_(base(r, (1, 2, 3, 4, 5, 8)), iters=r.randrange(200000, 600001, 50000)),
             "Run `s20_parallel {iters}` on {harts} (machine seed {mseed}). What speedup over running the "
             "4 pieces one after another does it print?",
             lambda p: [on(p, "s20_parallel", p["iters"])], fig("s20_parallel", "speedup", float), Within(abs=0.05),
             "Kernel threads run in parallel up to the number of harts, and 4 pieces of work cannot use more than "
             "4: compare S11, where M:1 stays at 1. With fewer harts than threads, a thread waits in a run queue "
             "until a hart is free or a 2 ms time slice ends: on 3 harts the speedup lies between 2 (work "
             "shorter than a slice) and 3 (long work, evenly sliced)."),
    Exercise("s19-mn", 7, "S19", "M:N in the reference table", lambda r: base(r, (1, 2, 3, 5, 6)),
             "Run summary on {harts} (machine seed {mseed}). What speedup does the M:N row show?",
             lambda p: [on(p, "summary")], fig("summary", "M:N", float), Within(abs=0.05),
             "Given an LWP per hart, the same library that cannot use a second hart under M:1 runs the 4 "
             "workers in parallel: what M:1 lacks is kernel support, not anything in the library."),
    Exercise("s20-fastest", 7, "S20", "The fastest model on threads that block",
             lambda r: base(r, (2, 3, 4, 6)),
             "Run sa_speedup on {harts} (machine seed {mseed}). Which model has the highest speedup?",
             lambda p: [on(p, "sa_speedup")], fastest, OneOf("M:1", "M:N", "1:1", "SA"),
             "The models that overlap one thread's I/O with another's work on the same processor (1:1 and SA) "
             "beat M:N, whose LWP sits idle while its thread blocks; M:1 gets no parallelism at all."),
]
