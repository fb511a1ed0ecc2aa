"""python -m tools.explore PROGRAM [ARGS...] --runs N: a race explorer (docs/explore.md).

Runs PROGRAM under many schedules, in parallel host processes, and judges each run: the
output must match --expect (if given), the exit status must be 0, and the kernel must not
find a deadlock, hit the time limit or kill a process for a fault. It reports how many
schedules failed, the first failing one and the shortest, each as a schedule string that
--replay runs again exactly (--replay S --debug: in the debugger, stopped at the failure).

A schedule is the machine's seed (the order harts take turns in each round) plus forced
preemption points (kernel/boot.py's `preempt`, the scheduler's preempt_at): at virtual
time T, the thread on hart H is preempted, or its hart stalls one quantum when nothing
else may run there. As in PCT (probabilistic concurrency testing, Burckhardt et al. 2010),
each run draws depth-1 points uniformly over the instructions the program's threads ran
in the base run (where they ran, on which hart), so a bug that needs d-1 particular
preemptions is found by one run with probability at least 1/(n * k^(d-1)), k that number
of instructions and n the threads, and much more often when, as in a loop, the right
points are many. The
runs are drawn from --seed only: the same command gives the same report.

    SCHEDULE := "s" SEED ":c" CPUS [":q" QUANTUM] [":p" HART "@" TIME ("," HART "@" TIME)*]
"""
import argparse
import multiprocessing
import os
import random
import re
import sys
from typing import NamedTuple

from kernel.boot import BootError, KernelPanic, System
from tools import run as trun

DEFAULT_QUANTUM = 10_000


class Schedule(NamedTuple):
    seed: int
    cpus: int
    quantum: int = DEFAULT_QUANTUM
    points: tuple = ()                      # (hart, virtual ns) pairs, sorted by time

    def __str__(self):
        s = f"s{self.seed}:c{self.cpus}"
        if self.quantum != DEFAULT_QUANTUM:
            s += f":q{self.quantum}"
        if self.points:
            s += ":p" + ",".join(f"{h}@{t}" for h, t in self.points)
        return s

    @staticmethod
    def parse(text: str) -> "Schedule":
        """ValueError for anything but the grammar above."""
        m = re.fullmatch(r"s(\d+):c(\d+)(?::q(\d+))?(?::p(\d+@\d+(?:,\d+@\d+)*))?", text.strip())
        if m is None:
            raise ValueError(f"not a schedule: {text!r} (expected s<seed>:c<cpus>[:q<quantum>][:p<hart>@<ns>,...])")
        pts = tuple(sorted(((int(h), int(t)) for h, t in (p.split("@") for p in m.group(4).split(","))),
                           key=lambda p: (p[1], p[0]))) if m.group(4) else ()
        return Schedule(int(m.group(1)), int(m.group(2)), int(m.group(3) or DEFAULT_QUANTUM), pts)


class Verdict(NamedTuple):
    schedule: Schedule
    ok: bool
    reason: str                             # "" when ok; else what failed
    status: int
    end: int                                # virtual ns when the machine halted
    output: str
    log: str


def run_once(program, args, sched: Schedule, expect=None, max_time=None, trace=False):
    """Run PROGRAM under sched: (Verdict, events or None). Deterministic in its arguments."""
    files, disk, path = trun.root(program)
    log = []
    with System(path, args, cpus=sched.cpus, quantum=sched.quantum, seed=sched.seed, files=files, disk=disk,
                log=log.append, trace=trace, max_time=max_time, preempt=sched.points) as s:
        try:
            status = s.run()
            panic = None
        except KernelPanic as e:
            status, panic = -1, str(e).splitlines()[0]
        events = s.inspect.events() if trace else None
        end = s.machine.clock.now
        output = bytes(s.machine.console.output).decode("utf-8", "replace")
    text = "".join(log)
    return Verdict(sched, *judge(status, output, text, expect, panic), status, end, output, text), events


def judge(status, output, log, expect, panic=None):
    """(ok, reason) for one run's exit status, console output and kernel log."""
    if panic is not None:
        return False, f"kernel panic: {panic}"
    if "(deadlock)" in log:
        return False, "deadlock"
    if "virtual time limit reached" in log:
        return False, "time limit (livelock?)"
    m = re.search(r"pid \d+ \([^)]*\): killed by (SIG\w+)", log)
    if m:
        return False, f"fault: killed by {m.group(1)}"
    if expect is not None and not re.search(expect, output):
        return False, f"output does not match {expect!r}"
    if status:
        return False, f"exit status {status}"
    return True, ""


def window(events, program) -> tuple:
    """The stretches (hart, start, end) in which a thread of PROGRAM ran on a hart: the
    steps of the run that PCT's points are drawn from."""
    name = os.path.basename(program)
    pids, open_, out = set(), {}, []
    for ev in events:
        if ev.kind == "exec":
            if os.path.basename(str(ev.detail.get("path", ""))) == name:
                pids.add(ev.pid)
                open_[ev.hart] = (ev.lwp, ev.time)
        elif ev.kind == "switch" and ev.pid in pids:
            open_[ev.hart] = (ev.lwp, ev.time)
        elif ev.kind == "off" and ev.hart in open_ and open_[ev.hart][0] == ev.lwp:
            _, start = open_.pop(ev.hart)
            if ev.time > start:
                out.append((ev.hart, start, ev.time))
    return tuple(out)


def draw(rng: random.Random, cpus, quantum, win, depth) -> Schedule:
    """One PCT-style schedule: a seed, and depth-1 preemption points drawn uniformly over
    the instructions the program's threads ran in the base run (win, from window())."""
    total = sum(e - s for _, s, e in win)
    pts = []
    for _ in range(depth - 1 if total else 0):
        x = rng.randrange(total)
        for h, s, e in win:
            if x < e - s:
                pts.append((h, s + x))
                break
            x -= e - s
    pts.sort(key=lambda p: (p[1], p[0]))
    return Schedule(rng.randrange(1 << 16), cpus, quantum, tuple(pts))


def _work(job):
    program, args, sched, expect, max_time = job
    return run_once(program, args, sched, expect, max_time)[0]


def explore(program, args, runs, seed=0, cpus=2, quantum=DEFAULT_QUANTUM, depth=3, expect=None, max_time=None,
            jobs=None, base=None):
    """(base Verdict, window, [Verdict] in the order drawn). The first run is the base one
    (seed `seed`, no points); the others are drawn from Random(seed)."""
    base = base or run_once(program, args, Schedule(seed, cpus, quantum), expect, max_time, trace=True)
    b, events = base
    win = window(events, program)
    if max_time is None:
        max_time = max(20 * b.end, 100_000_000)
    rng = random.Random(seed)
    scheds = [draw(rng, cpus, quantum, win, depth) for _ in range(runs)]
    todo = [(program, args, s, expect, max_time) for s in scheds]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and runs > 1:
        with multiprocessing.get_context("fork").Pool(min(jobs, runs)) as pool:
            verdicts = pool.map(_work, todo, chunksize=1)
    else:
        verdicts = [_work(j) for j in todo]
    return b, win, verdicts


def shortest(failed, program, args, expect=None, max_time=None):
    """The failing run with the fewest forced preemptions, then the earliest halt, made
    shorter still: each of its points is dropped in turn while the run still fails."""
    if not failed:
        return None
    best = min(failed, key=lambda v: (len(v.schedule.points), v.end))
    for p in best.schedule.points:
        pts = tuple(x for x in best.schedule.points if x != p)
        v, _ = run_once(program, args, best.schedule._replace(points=pts), expect, max_time)
        if not v.ok:
            best = v
    return best


def side_by_side(path, program, args, fail: Schedule, ok: Schedule, max_time=None) -> None:
    """One HTML page: the timelines of a failing and a passing run, next to each other."""
    import html
    import json
    from tools import timeline, trace as ttrace
    panes = []
    for label, sched in (("failing", fail), ("passing", ok)):
        v, events = run_once(program, args, sched, max_time=max_time, trace=True)
        meta = {"program": os.path.basename(program), "args": list(args), "seed": sched.seed, "quantum": sched.quantum}
        page = timeline.render(json.loads(ttrace.dumps(ttrace.chrome(ttrace.build(events, sched.cpus, v.end), meta))))
        panes.append(f'<div class="pane"><h2>{label}: {html.escape(str(sched))}</h2>'
                     f'<iframe srcdoc="{html.escape(page)}"></iframe></div>')
    with open(path, "w", encoding="utf-8") as f:
        f.write("<!doctype html><meta charset=utf-8><title>explore: "
                + html.escape(" ".join([program, *args])) + "</title><style>body{margin:0;font:13px sans-serif}"
                ".row{display:flex;gap:6px}.pane{flex:1;min-width:0}h2{font-size:14px;margin:6px}"
                "iframe{width:100%;height:92vh;border:1px solid #ccc}</style><div class=row>"
                + "".join(panes) + "</div>\n")


def parser():
    ap = argparse.ArgumentParser(prog="python -m tools.explore", description=__doc__.splitlines()[0])
    ap.add_argument("program", help="a program of build/bin, or a host path to one")
    ap.add_argument("args", nargs="*", help="its arguments (after -- if one starts with -)")
    ap.add_argument("--runs", type=int, default=50, help="schedules to try (default 50)")
    ap.add_argument("--seed", type=int, default=0, help="the explorer's seed: the same seed, the same schedules")
    ap.add_argument("--cpus", type=int, default=2, help="harts (default 2)")
    ap.add_argument("--quantum", type=int, default=DEFAULT_QUANTUM, help="instructions per round")
    ap.add_argument("--depth", type=int, default=3, help="PCT depth d: d-1 forced preemptions per run (default 3)")
    ap.add_argument("--expect", metavar="REGEX", help="the output must match REGEX")
    ap.add_argument("--max-time", type=float, help="virtual seconds a run may take (default 20x the base run)")
    ap.add_argument("--jobs", type=int, help="host processes (default: one per host core)")
    ap.add_argument("--replay", metavar="SCHEDULE", help="run this schedule once and show its run")
    ap.add_argument("--debug", action="store_true", help="with --replay: open tools.debug at the failure")
    ap.add_argument("--timeline", metavar="OUT.html", help="a failing and a passing run side by side")
    return ap


def main(argv=None) -> int:
    ap = parser()
    o = ap.parse_intermixed_args(argv)
    args = o.args
    max_time = int(o.max_time * 1e9) if o.max_time else None
    try:
        if o.replay:
            sched = Schedule.parse(o.replay)
            if o.debug:
                return debug_at(o.program, args, sched, o.expect, max_time)
            v, _ = run_once(o.program, args, sched, o.expect, max_time or 10**10)
            sys.stdout.write(v.output)
            print(f"schedule {sched}: {'ok' if v.ok else 'FAILED: ' + v.reason} "
                  f"(status {v.status}, halted at {v.end} ns)")
            return 0 if v.ok else 1
        if o.runs < 1 or o.depth < 1:
            ap.error("--runs and --depth must be at least 1")
        b, win, vs = explore(o.program, args, o.runs, o.seed, o.cpus, o.quantum, o.depth, o.expect, max_time, o.jobs)
    except (BootError, trun.UsageError, ValueError) as e:
        print(f"tools.explore: {e}", file=sys.stderr)
        return 2
    failed = [v for v in vs if not v.ok]
    print(f"base run {b.schedule}: {'ok' if b.ok else 'FAILED: ' + b.reason}; the program ran "
          f"{sum(e - s for _, s, e in win)} ns on harts, in {len(win)} stretches: the points are drawn there")
    reasons = {}
    for v in failed:
        reasons[v.reason] = reasons.get(v.reason, 0) + 1
    print(f"{len(failed)} of {len(vs)} schedules failed"
          + (": " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) if failed else ""))
    import shlex
    cmd = "python -m tools.explore " + " ".join(shlex.quote(a) for a in [o.program, *args])
    if o.expect is not None:
        cmd += " --expect " + shlex.quote(o.expect)
    if failed:
        first = next(i for i, v in enumerate(vs) if not v.ok)
        short = shortest(failed, o.program, args, o.expect, max_time or max(20 * b.end, 100_000_000))
        print(f"first failing: run {first + 1}: {failed[0].schedule} ({failed[0].reason})")
        print(f"shortest:      {short.schedule} ({short.reason}, {len(short.schedule.points)} preemption(s), "
              f"halted at {short.end} ns)")
        print(f"replay:        {cmd} --replay {short.schedule} [--debug]")
    if o.timeline:
        good = next((v.schedule for v in [b, *vs] if v.ok), None)
        if not failed or good is None:
            print("no timeline: it needs a failing and a passing run", file=sys.stderr)
        else:
            side_by_side(o.timeline, o.program, args, short.schedule, good, max_time)
            print(f"timeline:      {o.timeline} (failing {short.schedule} | passing {good})")
    return 1 if failed else 0


def failure_moment(program, args, sched, max_time):
    """(hart, n): the moment of the program's last system call but exit (its last output,
    or the sleep it never woke from) as the debugger's goto takes it: that hart had
    retired n user instructions."""
    files, disk, path = trun.root(program)
    name = os.path.basename(program)
    mine, last = set(), None
    with System(path, args, cpus=sched.cpus, quantum=sched.quantum, seed=sched.seed, files=files, disk=disk,
                log=lambda line: None, max_time=max_time, preempt=sched.points) as s:
        def note(ev):
            nonlocal last
            if ev.kind == "exec":
                if os.path.basename(str(ev.detail.get("path", ""))) == name:
                    mine.add(ev.pid)
            if (ev.pid in mine and ev.hart >= 0 and ev.kind == "syscall"
                    and ev.detail.get("name") not in ("exit", "exit_group", "lwp_exit")):
                last = (ev.hart, s.inspect.hart(ev.hart).instret)
        s.inspect.subscribe(note, keep=False)
        s.run()
    return last


def debug_at(program, args, sched, expect, max_time) -> int:
    """Open tools.debug on PROGRAM under sched, stopped at the program's last system call."""
    from tools import debug as tdebug
    v, _ = run_once(program, args, sched, expect, max_time or 10**10)
    at = failure_moment(program, args, sched, max_time or 10**10)
    if at is None:
        print(f"schedule {sched}: the program never ran", file=sys.stderr)
        return 1
    print(f"schedule {sched}: {'ok' if v.ok else 'FAILED: ' + v.reason}; the debugger starts at its last "
          f"system call (moment @{at[0]}:{at[1]}); reverse-step, reverse-continue and watch walk back (docs/explore.md)")
    opts = tdebug.parser().parse_args(["--no-disk", "--cpus", str(sched.cpus), "--seed", str(sched.seed),
                                       "--quantum", str(sched.quantum), program, *args])
    cli = tdebug.make_session(opts)
    cli.s.opts["preempt"] = sched.points
    tdebug.run_command(cli, f"goto @{at[0]}:{at[1]}")
    tdebug.repl(cli)
    cli.s.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
