"""python -m tools.soak [--calls N] [--examples N] [--scale N] [--only CAT,...]: the soak (make soak).

Runs, on fresh machines of 4 harts: the system-call fuzzer (tests/guest/sysfuzz.c) until it
has made --calls system calls, over several processes at once; the address-space state
machine (tests/test_aspace_model.py) for --examples examples; and the hostile programs
(tests/guest/hostile.c: exhaustion of every resource, signal storms, exec of garbage,
generated code across harts), each on its own disk image. Prints counts per category and
the host time against the virtual time and the guest's work, and ends with the totals:
Python exceptions, panics, leaked frames, fsck problems. Exit status 0 when all are zero
and every known failure (KNOWN, findings fixed on other branches) still fails; else 1.
docs/soak.md has the figures of a full run.
"""
import argparse
import collections
import os
import shutil
import sys
import tempfile
import time

from kernel.boot import KernelPanic, Run, System
from kernel.inspect import errno_name
from tools import fsck
from tools.cc import build
from tools.mkfs import make_image
from tools.run import ROOT, bin_files, root

GUEST = os.path.join(ROOT, "tests", "guest")
HOSTILE = ["procs", "lwps", "fds", "pipes", "frames", "disk", "inodes", "mappings", "signals", "altstack",
           "stopcont", "execgarbage", "gencode", "bio"]
# Categories that fail until another branch is merged: name -> reason. A known failure that
# passes is reported (remove it from here); one that fails does not fail the soak.
KNOWN = {}


class Totals:
    def __init__(self):
        self.exceptions = self.panics = self.leaked = self.fsck = 0
        self.timeouts = 0                # fuzz machines halted at their virtual-time limit
        self.unexpected = []             # known failures that passed
        self.rows = []                   # (category, host s, virtual s, instructions, syscalls, note)


class Outcomes:
    """Counts of system-call results over the soak's machines, from their event streams
    (each call's sysret event; a call without one did not return)."""

    def __init__(self):
        self.count = collections.Counter()
        self.calls = 0

    def on_event(self, ev) -> None:
        if ev.kind == "syscall":
            self.calls += 1
        elif ev.kind == "sysret":
            ret = ev.detail["ret"]          # None: the call set the registers (rt_sigreturn)
            self.count["ok" if ret is None or ret >= 0 or ret < -4095 else errno_name(-ret)] += 1

    def results(self) -> collections.Counter:
        returned = sum(self.count.values())
        return self.count + collections.Counter({"did not return (exit, fault)": self.calls - returned})


def simulate(prog, args, disk, max_time, seed, outcomes=None) -> Run:
    """tools.run.simulate on 4 harts, with outcomes (if given) counting the calls."""
    files, disk, path = root(prog, None, disk)
    log = []
    with System(path, args, cpus=4, mem=128, seed=seed, files=files, disk=disk, log=log.append,
                max_time=max_time) as s:
        if outcomes is not None:
            s.inspect.subscribe(outcomes.on_event, keep=False)
        status = s.run()
    return Run(s, status, "".join(log))


def boot(totals, name, prog, args, disk=None, max_time=600e9, check=None, outcomes=None):
    """One machine: run prog, check it, record its row. Returns the Run or None."""
    t0 = time.perf_counter()
    try:
        r = simulate(prog, args, disk, max_time, len(totals.rows), outcomes)
    except KernelPanic as e:
        totals.panics += 1
        print(f"  {name}: KERNEL PANIC: {str(e).splitlines()[0]}")
        return None
    except Exception as e:                 # the soak counts them: any one fails it
        totals.exceptions += 1
        print(f"  {name}: PYTHON EXCEPTION {type(e).__name__}: {e}")
        return None
    host = time.perf_counter() - t0
    st = r.inspect.stats()
    if "Traceback" in r.log:
        totals.exceptions += 1
        print(f"  {name}: a traceback in the kernel log")
    leaked = st.free_at_boot - st.free_frames
    if leaked:
        totals.leaked += leaked
        print(f"  {name}: {leaked} frames leaked")
    problems = []
    if disk is not None:
        problems, _summary = fsck.check(disk)
        totals.fsck += len(problems)
        for p in problems[:5]:
            print(f"  {name}: fsck: {p}")
    instr = sum(h.instret for h in st.harts)
    totals.rows.append((name, host, st.now / 1e9, instr, st.syscalls, ""))
    if check is not None:
        check(r)
    return r


def fresh_disk(tmp, files):
    path = os.path.join(tmp, "soak.img")
    total = sum(len(v) for v in files.values())
    make_image(path, files, size_mib=total * 3 // 2 // (1 << 20) + 24)
    return path


def run_sysfuzz(totals, tmp, calls, procs=6, per_child=300):
    prog = build([os.path.join(GUEST, "sysfuzz.c")], os.path.join(tmp, "sysfuzz"))
    made, batch, rounds = 0, 0, 40
    out = Outcomes()
    while made < calls:
        r = boot(totals, f"sysfuzz batch {batch}", prog, [str(batch + 1), str(rounds), str(per_child), str(procs)],
                 max_time=60e9, outcomes=out)
        if r is None:
            break
        if "parent alive" not in r.output:          # a guest's doing (a stuck round), not the kernel's
            totals.timeouts += 1
            print(f"  sysfuzz batch {batch}: the driver did not finish (status {r.status}): {r.output[-200:]}")
        made += r.inspect.stats().syscalls
        batch += 1
        print(f"  batch {batch}: {made} calls so far", flush=True)
    print(f"sysfuzz: {made} system calls in {batch} machines ({procs} fuzzing processes at once, 4 harts)")
    for what, n in out.results().most_common():
        print(f"  {n:9d}  {what}")
    return made


def run_model(totals, examples):
    sys.path.insert(0, ROOT)               # the state machine lives with the tests
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test
    from tests import test_aspace_model as M
    for name, cls, n in [("model", M.AddressSpaces, examples)]:
        M.AddressSpaces.STATS.clear()
        t0 = time.perf_counter()
        failure = None
        try:
            for steps in M.FOUND.values():     # what it once found, first
                M.replay(cls, steps)
            phases = (Phase.explicit, Phase.reuse, Phase.generate) + (() if name in KNOWN else (Phase.shrink,))
            run_state_machine_as_test(cls, settings=settings(
                max_examples=n, stateful_step_count=50, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                phases=phases))
        except KernelPanic as e:
            failure = f"panic: {str(e).splitlines()[0]}"
        except AssertionError as e:
            failure = f"model mismatch: {str(e).splitlines()[0]}"
            for note in getattr(e, "__notes__", []):       # hypothesis's minimal example
                print("    " + note.replace("\n", "\n    "))
        except Exception as e:
            failure = f"{type(e).__name__}: {e}"
        host = time.perf_counter() - t0
        st = M.AddressSpaces.STATS
        totals.rows.append((name, host, 0.0, 0, 0, f"{st['steps']} steps (no machine loop: no virtual time)"))
        print(f"{name}: {st['examples']} machines, {st['steps']} steps, {st['guest ok']} guest accesses, "
              f"{st['guest segv']} refused, {st['page faults']} page faults: "
              + ("ok" if failure is None else failure))
        settle(totals, name, failure)


def settle(totals, name, failure):
    """Record a category's failure, or a known failure's unexpected pass."""
    if name in KNOWN:
        if failure is None:
            totals.unexpected.append(name)
            print(f"  {name}: passed, but KNOWN says it fails ({KNOWN[name]}): remove it from KNOWN")
        else:
            print(f"  {name}: known failure: {KNOWN[name]}")
        return
    if failure is not None:
        if failure.startswith("panic"):
            totals.panics += 1
        else:
            totals.exceptions += 1


def run_hostile(totals, tmp, scale, only):
    prog = build([os.path.join(GUEST, "hostile.c")], os.path.join(tmp, "hostile"))
    files = bin_files()
    base = fresh_disk(tmp, files)
    for mode in HOSTILE:
        name = f"hostile-{mode}"
        if only and name not in only and "hostile" not in only:
            continue
        disk = os.path.join(tmp, f"{mode}.img")
        shutil.copyfile(base, disk)
        before = (totals.panics, totals.exceptions)
        r = boot(totals, name, prog, [mode, str(scale)], disk=disk)
        line = next((ln for ln in (r.output.splitlines() if r else []) if ln.startswith("hostile ")), None)
        print(f"{name}: {line or '(no summary line)'}", flush=True)
        failed = (totals.panics, totals.exceptions) != before or line is None
        if name in KNOWN:                   # its panic is expected: do not count it twice
            if failed:
                totals.panics, totals.exceptions = before
            settle(totals, name, "failed" if failed else None)
        os.remove(disk)
    # Host time per mapping at two sizes: proportional work must cost proportional time.
    if not only or "hostile-mappings" in only or "hostile" in only:
        per = []
        for s in (1, 4):
            disk = os.path.join(tmp, "m.img")
            shutil.copyfile(base, disk)
            t0 = time.perf_counter()
            boot(totals, f"mappings x{s}", prog, ["mappings", str(s)], disk=disk)
            per.append((time.perf_counter() - t0) / (2000 * s))
        ratio = per[1] / per[0]
        print(f"mappings: host time per mmap {per[0] * 1e6:.0f} us at 2000, {per[1] * 1e6:.0f} us at 8000 "
              f"({ratio:.1f}x): {'NOT proportional (issue 12 item 3)' if ratio > 1.5 else 'proportional'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000, help="system calls the fuzzer makes")
    ap.add_argument("--examples", type=int, default=300, help="state-machine examples (50 steps each)")
    ap.add_argument("--scale", type=int, default=4, help="work of each hostile program")
    ap.add_argument("--only", default="", help="comma-separated: sysfuzz, model, hostile, hostile-MODE")
    opts = ap.parse_args(argv)
    only = set(filter(None, opts.only.split(",")))
    totals = Totals()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="soak") as tmp:
        if not only or "sysfuzz" in only:
            run_sysfuzz(totals, tmp, opts.calls)
        if not only or "model" in only:
            run_model(totals, opts.examples)
        if not only or any(o.startswith("hostile") for o in only):
            run_hostile(totals, tmp, opts.scale, only)
    print("\nhost time against virtual time and guest work")
    print(f"  {'category':28s} {'host s':>8s} {'virtual s':>10s} {'instructions':>13s} {'syscalls':>9s} "
          f"{'host us/1k instr':>16s} {'host us/syscall':>15s}")
    for name, host, virt, instr, calls, note in totals.rows:
        per_i = f"{host * 1e9 / instr:.1f}" if instr else "-"
        per_c = f"{host * 1e6 / calls:.0f}" if calls else "-"
        print(f"  {name:28s} {host:8.2f} {virt:10.4f} {instr:13d} {calls:9d} {per_i:>16s} {per_c:>15s} {note}")
    print(f"\nsoak: {time.perf_counter() - t0:.0f} s host time; {totals.exceptions} Python exceptions, "
          f"{totals.panics} panics, {totals.leaked} leaked frames, {totals.fsck} fsck problems "
          f"({totals.timeouts} fuzz machines stopped at their time limit)"
          + (f"; known failures that passed: {', '.join(totals.unexpected)}" if totals.unexpected else ""))
    bad = totals.exceptions or totals.panics or totals.leaked or totals.fsck or totals.unexpected
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
