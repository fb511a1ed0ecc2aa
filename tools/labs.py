"""The labs of tools.lab and their checks (docs/labs.md).

Each check runs programs on a fresh machine (tools.run.simulate) and raises AssertionError
with a one-line reason when the lab's code is wrong, or returns a short note. Every run has
a virtual-time limit, so a skeleton that loses a thread ends the run instead of hanging it;
a lab's checks take a few seconds of host time.
"""
import os
import re
from dataclasses import dataclass
from typing import Callable

LIMIT_NS = 2_000_000_000          # virtual time of one run, at most


class Grader:
    """What a check may use: runs of this tree's programs, and guest test programs built
    from tests/guest/ on demand (into build/labs-grade/)."""

    def __init__(self, root):
        self.root = root
        self.built = {}

    def run(self, program, *args, **kw):
        from tools.run import simulate
        kw.setdefault("max_time", LIMIT_NS)
        return simulate(program, args, **kw)

    def guest(self, name):
        """tests/guest/NAME.c built against this tree's libc; its path."""
        if name not in self.built:
            from tools.cc import build
            out = os.path.join(self.root, "build", "labs-grade", name)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            self.built[name] = build([os.path.join(self.root, "tests", "guest", name + ".c")], out)
        return self.built[name]


def expect(r, text, what):
    """r printed text (and exited 0); else fail with what and the output's last line."""
    if r.status != 0 or text not in r.output:
        tail = (r.output.strip().splitlines() or ["(no output)"])[-1]
        raise AssertionError(f"{what}: status {r.status}, last line: {tail}")


def figure(pattern, text, what):
    m = re.search(pattern, text, re.M)
    if not m:
        raise AssertionError(f"{what}: {pattern!r} not in the output")
    return m.group(1)


@dataclass
class Check:
    name: str
    points: int
    run: Callable


@dataclass
class Lab:
    title: str
    checks: list


# ---- uswitch: the user-level context switch and yield (M:1) ----

def uswitch_s9(g):
    r = g.run("s9_onelwp", cpus=2)
    expect(r, "S9 OK", "s9_onelwp")
    return "8 user threads, 1 LWP"


def uswitch_s8(g):
    r = g.run("s8_switch", cpus=1)
    expect(r, "S8 OK", "s8_switch")
    per = float(figure(r"plain:\s+\d+ instructions, ([\d.]+) per switch, no system call", r.output, "s8_switch"))
    assert per <= 200, f"a switch takes {per:g} instructions: more than 200"
    return f"{per:g} instructions per switch, no system call"


def uswitch_api(g):
    r = g.run(g.guest("utest"), "api", "m1", cpus=1)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), \
        "utest api m1: " + next((l for l in r.output.splitlines() if "FAIL" in l), f"status {r.status}")
    return "create, join, mutexes, conditions, semaphores, errno and fp registers per thread"


def uswitch_preempt(g):
    r = g.run("s12_preempt", "preempt", cpus=1)
    expect(r, "S12 OK", "s12_preempt preempt")
    return "the timer's handler switches threads"


def uswitch_s11(g):
    r = g.run("s11_parallel", cpus=4)
    expect(r, "S11 OK", "s11_parallel")
    return "M:1 on 4 harts"


# ---- stride: a scheduling policy in the kernel ----

def shares(r):
    """[(measured, stride's)] per process of nice_share's output."""
    rows = re.findall(r"share ([\d.]+) \(stride: \d+/\d+ = ([\d.]+)\)", r.output)
    if r.status != 0 or not rows:
        raise AssertionError(f"nice_share: status {r.status}, no shares printed")
    return [(float(a), float(b)) for a, b in rows]


def within(rows, tol):
    worst = max(abs(a - b) for a, b in rows)
    assert worst <= tol, "shares " + ", ".join(f"{a:.3f}" for a, _ in rows) + \
        " where stride gives " + ", ".join(f"{b:.3f}" for _, b in rows)
    return "shares " + ", ".join(f"{a:.3f}" for a, _ in rows)


def stride_tickets(g):
    return within(shares(g.run("nice_share", "0", "10", "15", cpus=1, sched="stride")), 0.02)


def stride_threads(g):
    return within(shares(g.run("nice_share", "0x4", "0", cpus=1, sched="stride")), 0.02)


def stride_mixed(g):
    return within(shares(g.run("nice_share", "-s", "0.2", "5x3", "-10", "19x2", cpus=1, sched="stride")), 0.02)


def stride_share(g):
    r = g.run("sched_share", "4", "0.1", cpus=1, sched="stride")
    share = float(figure(r"^share of A: ([\d.]+)", r.output, "sched_share"))
    assert abs(share - 0.5) <= 0.03, f"sched_share: the 4-thread process got {share:.3f}, not 0.5"
    return f"the 4-thread process got {share:.3f}"


def stride_deterministic(g):
    a = g.run("nice_share", "0", "10", cpus=1, sched="stride", seed=5).output
    b = g.run("nice_share", "0", "10", cpus=1, sched="stride", seed=5).output
    assert a == b, "two runs with the same seed printed different figures"
    within(shares(g.run("nice_share", "0", "10", cpus=1, sched="stride", seed=5)), 0.02)
    return "the same seed, the same figures"


# ---- syscall: a new system call end to end ----

def lwpcounts(g):
    r = g.run("lwpcount", cpus=2)
    assert r.status == 0, "lwpcount: " + ((r.output.strip().splitlines() or ["(no output)"])[-1])
    return dict(re.findall(r"^(.+?): (.+)$", r.output, re.M))


def syscall_self(g):
    got = lwpcounts(g)
    assert got.get("alone") == "1" and got.get("alone, by pid") == "1", \
        f"alone: {got.get('alone')}, by pid: {got.get('alone, by pid')}; 1 expected"
    return "1 LWP"


def syscall_threads(g):
    got = lwpcounts(g)
    assert got.get("with 3 threads") == "4" and got.get("after joining them") == "1", \
        f"with 3 threads: {got.get('with 3 threads')} (4 expected), after: {got.get('after joining them')} (1)"
    return "4, then 1"


def syscall_green(g):
    got = lwpcounts(g)
    m1, mn = got.get("M:1 child, 4 green threads"), got.get("M:N child, 4 green threads on 2 LWPs")
    assert m1 == "1" and mn == "2", f"M:1 child: {m1} (1 expected), M:N child: {mn} (2)"
    return "another process: M:1 1, M:N 2"


def syscall_errors(g):
    got = lwpcounts(g)
    e1, e2 = got.get("no such process", ""), got.get("negative pid", "")
    assert e1.startswith("-1 No such process") and e2.startswith("-1 Invalid argument"), \
        f"no such process: {e1!r}, negative pid: {e2!r}"
    return "ESRCH, EINVAL"


# ---- upcall: the end of the upcall handler (scheduler activations) ----

def upcall_s13(g):
    r = g.run("upcalls", cpus=4)
    expect(r, "S13 OK", "upcalls")
    return "BLOCKED and UNBLOCKED"


def upcall_s10(g):
    r = g.run("s10_block", "sa", "1", cpus=4)
    expect(r, "S10 OK", "s10_block sa 1")
    return figure(r"(\d+ chunks in \d+ us)", r.output, "s10_block")


def upcall_api(g):
    r = g.run(g.guest("utest"), "api", "sa", "2", cpus=2)
    assert r.status == 0 and r.output.endswith("ALL OK\n"), \
        "utest api sa 2: " + next((l for l in r.output.splitlines() if "FAIL" in l), f"status {r.status}")
    return "the library's API on 2 activations"


def upcall_stress(g):
    for cpus, vps, mode, seed in ((2, 2, "churn", 2), (3, 3, "tick", 3), (4, 2, "-", 1)):
        r = g.run(g.guest("utest"), "sastress", str(vps), mode, cpus=cpus, seed=seed)
        assert r.status == 0 and "counter 1200 " in r.output and r.output.endswith("ALL OK\n"), \
            f"utest sastress {vps} {mode} on {cpus} harts, seed {seed}: status {r.status}"
    return "3 machines, no thread lost"


LABS = {
    "uswitch": Lab("the user-level context switch and yield of the green-thread library", [
        Check("s9_onelwp: 8 user threads take turns on one LWP", 20, uswitch_s9),
        Check("s8_switch: yield switches, cheaply, without the kernel", 20, uswitch_s8),
        Check("utest api m1: the library's API under M:1", 30, uswitch_api),
        Check("s12_preempt preempt: switching from the timer's signal handler", 15, uswitch_preempt),
        Check("s11_parallel: M:1 on 4 harts", 15, uswitch_s11)]),
    "stride": Lab("stride scheduling in the kernel (--sched stride)", [
        Check("nice 0, 10, 15: shares 20:10:5", 30, stride_tickets),
        Check("4 threads against 1, same nice: half each", 25, stride_threads),
        Check("nice 5 (3 threads), -10, 19 (2 threads)", 15, stride_mixed),
        Check("sched_share 4: fair between processes", 15, stride_share),
        Check("deterministic with the seed", 15, stride_deterministic)]),
    "syscall": Lab("a new system call, lwpcount(pid), end to end", [
        Check("lwpcount(0) and lwpcount(getpid())", 25, syscall_self),
        Check("1:1 threads are LWPs", 25, syscall_threads),
        Check("green threads are not", 25, syscall_green),
        Check("errors: ESRCH, EINVAL", 25, syscall_errors)]),
    "upcall": Lab("the upcall handler: run the next thread on the new activation", [
        Check("upcalls: BLOCKED lets other work run, UNBLOCKED gives it back", 25, upcall_s13),
        Check("s10_block sa: the other threads run while one sleeps", 25, upcall_s10),
        Check("utest api sa 2: the library's API on activations", 25, upcall_api),
        Check("utest sastress: no thread lost, 3 machines", 25, upcall_stress)]),
}
