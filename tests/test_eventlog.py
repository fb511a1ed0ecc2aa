"""Behaviour pinned: fixed runs on fixed seeds give, event for event, the logs recorded in
tests/eventlogs/ (one line per event: time hart pid lwp kind detail; then the exit status
and the console output; the host clock a few demos print (hostclock) is replaced by a
counter, since printing a number costs instructions that depend on it). A refactoring that must not change behaviour (costs,
interleaving, output) keeps these equal; a change meant to alter them re-records them

    .venv/bin/python -m tests.test_eventlog --record [NAME...]

and says so in its commit message. The runs cover the scheduler (flat and two-level, 1 to 4
harts), M:1, M:N and 1:1 threads, scheduler activations (upcalls, space sharing, the SA
stress of tests/guest/utest.c), signals and timers, and a shell script with fork, exec and
pipes. Disk-backed runs are left out: the image's layout depends on the size of each
binary's debug information, which names the build directory.
"""
import gzip
import json
import itertools
import os
import sys
from unittest import mock

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

LOG_DIR = os.path.join(ROOT, "tests", "eventlogs")
COSTS = "xv6"                         # the original table: these logs predate the cost profiles
UTEST = "@utest"                      # tests/guest/utest.c, built into a temporary directory
SCRIPT = ("echo hi | cat\nls /dev | wc\nhello > /tmp/x\ncat < /tmp/x\nusertests pipes\n"
          "sleep 0.001 &\nwait\ns2_crash\ns1_procmem | cat\n")

# name -> (program, args, cpus, seed, sched, console input)
RUNS = {
    "s20_parallel-4": ("s20_parallel", (), 4, 0, "flat", None),
    "s20_parallel-2": ("s20_parallel", (), 2, 1, "flat", None),
    "s20_parallel-4-twolevel": ("s20_parallel", (), 4, 2, "two-level", None),
    "s10_block-m1-4": ("s10_block", ("m1",), 4, 0, "flat", None),
    "s10_block-mn-2": ("s10_block", ("mn",), 2, 2, "flat", None),
    "s12_preempt-2": ("s12_preempt", ("preempt", "500"), 2, 0, "flat", None),
    "s13_upcalls-2": ("s13_upcalls", (), 2, 0, "flat", None),
    "s13_upcalls-4": ("s13_upcalls", (), 4, 3, "flat", None),
    "sa_speedup-4": ("sa_speedup", ("8", "2", "20000"), 4, 0, "flat", None),
    "sa_share-4": ("sa_share", (), 4, 0, "flat", None),
    "solaris-4": ("solaris", ("20",), 4, 0, "flat", None),
    "race-2": ("race", ("2000",), 2, 0, "flat", None),
    "sched_share-1-twolevel": ("sched_share", ("4", "0.02"), 1, 0, "two-level", None),
    "shell-2": (None, (), 2, 5, "flat", SCRIPT),
    "shell-4": (None, (), 4, 6, "flat", SCRIPT),
    "sastress-3-churn-tick": (UTEST, ("sastress", "3", "churn+tick"), 3, 6, "flat", None),
    "sastress-2-churn": (UTEST, ("sastress", "4", "churn"), 2, 4, "flat", None),
}


def build_utest(out_dir: str) -> str:
    from tools.cc import build
    return build([os.path.join(ROOT, "tests", "guest", "utest.c")], os.path.join(out_dir, "utest"))


def lines_of(name: str, utest=None) -> list:
    """The log of run `name`, as the lines stored in tests/eventlogs/NAME.log.gz."""
    from tools.run import simulate
    program, args, cpus, seed, sched, script = RUNS[name]
    if program == UTEST:
        program = utest
    ticks = itertools.count(1_000_000_000, 1_234_567)
    with mock.patch("time.monotonic_ns", lambda: next(ticks)):
        r = simulate(program, args, cpus=cpus, seed=seed, sched=sched, input=script,
                     max_time=2_000_000_000, trace=True, costs=COSTS)
    out = [f"{e.time} {e.hart} {e.pid} {e.lwp} {e.kind} "
           + json.dumps(e.detail, sort_keys=True, separators=(",", ":")) for e in r.kernel.events]
    out.append(f"# status {r.status}")
    out += ["# output " + json.dumps(line) for line in r.output.splitlines()]
    return out


def path_of(name: str) -> str:
    return os.path.join(LOG_DIR, name + ".log.gz")


def recorded(name: str) -> list:
    with gzip.open(path_of(name), "rt") as f:
        return f.read().splitlines()


def record(name: str, utest) -> None:
    os.makedirs(LOG_DIR, exist_ok=True)
    data = ("\n".join(lines_of(name, utest)) + "\n").encode()
    with open(path_of(name), "wb") as f:     # mtime 0: the same log gives the same file
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
            g.write(data)


@pytest.fixture(scope="module")
def utest(tmp_path_factory):
    return build_utest(str(tmp_path_factory.mktemp("eventlog")))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_event_log_unchanged(userland, utest, name):
    want = recorded(name)
    got = lines_of(name, utest)
    for i, (a, b) in enumerate(zip(want, got)):
        assert a == b, f"{name}: event {i} differs\nrecorded: {a}\nnow:      {b}"
    assert len(got) == len(want), f"{name}: {len(want)} lines recorded, {len(got)} now"
    assert sum(not line.startswith("# ") for line in got) > 50      # a real run was compared


def main(argv) -> int:
    if argv[:1] != ["--record"]:
        print("usage: python -m tests.test_eventlog --record [NAME...]", file=sys.stderr)
        return 2
    names = argv[1:] or sorted(RUNS)
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        print(f"unknown runs: {', '.join(unknown)}; runs: {', '.join(sorted(RUNS))}", file=sys.stderr)
        return 2
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        utest = build_utest(d)
        for name in names:
            record(name, utest)
            print(f"{name}: {len(recorded(name))} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
