"""The race explorer (tools/explore.py) on the shipped examples: it finds the lost update
of lost_update and the deadlock of lockorder within the runs docs/explore.md states, the
same schedules for the same explorer seed, and its schedules replay exactly."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tools.explore import Schedule, explore, run_once


def test_schedule_strings_round_trip():
    s = Schedule(7, 2, 5000, ((1, 300), (0, 1200)))
    assert str(s) == "s7:c2:q5000:p1@300,0@1200"
    assert Schedule.parse(str(s)) == s
    assert Schedule.parse("s0:c4") == Schedule(0, 4)
    with pytest.raises(ValueError):
        Schedule.parse("seed 3")


@pytest.fixture(scope="module")
def lost_update_runs(userland):
    """The explorer's 40 runs of lost_update (explorer seed 0), found once for this file."""
    return explore("lost_update", [], 40, seed=0, expect="lost 0", jobs=2)


@pytest.fixture(scope="module")
def deadlock_schedule(userland):
    """The explorer's command line on lockorder: it finds the deadlock within 10 runs and
    prints the schedule that replays it (no schedule is written down here: any change to the
    binaries moves the moments a deadlock needs)."""
    p = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--runs", "10", "--seed", "0",
                        "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "deadlock" in p.stdout and "Traceback" not in p.stderr
    return p.stdout.split("replay:")[1].split("--replay ")[1].split()[0]


def test_forced_preemption_changes_the_run_deterministically(lost_update_runs):
    base, _ = run_once("lost_update", [], Schedule(0, 2))
    again, _ = run_once("lost_update", [], Schedule(0, 2))
    assert base.ok and base.output == again.output and base.end == again.end
    pts = next(v.schedule for v in lost_update_runs[2] if not v.ok and v.schedule.points)
    a, _ = run_once("lost_update", [], pts, expect="lost 0")
    b, _ = run_once("lost_update", [], pts, expect="lost 0")
    assert not a.ok and a.output == b.output and a.end == b.end
    assert "lost 0" not in a.output and "counter = " in a.output
    plain, _ = run_once("lost_update", [], Schedule(pts.seed, pts.cpus, pts.quantum), expect="lost 0")
    assert (plain.output, plain.end) != (a.output, a.end)     # the points changed the run


def test_finds_the_lost_update_within_40_runs(lost_update_runs):
    b, _, vs = lost_update_runs
    assert b.ok                                   # the default schedule loses nothing
    failed = [v for v in vs if not v.ok]
    assert failed and all("does not match" in v.reason for v in failed)
    _, _, again = explore("lost_update", [], 40, seed=0, expect="lost 0", jobs=1)
    assert [str(v.schedule) for v in again] == [str(v.schedule) for v in vs]
    assert [v.ok for v in again] == [v.ok for v in vs]
    replay, _ = run_once("lost_update", [], failed[0].schedule, expect="lost 0")
    assert replay.output == failed[0].output and not replay.ok


def test_finds_the_deadlock_within_10_runs_and_replays_it(deadlock_schedule):
    sched = deadlock_schedule
    r = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--replay", sched], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and f"schedule {sched}: FAILED: deadlock" in r.stdout
    ok = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--replay", "s0:c2"], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "lockorder: done" in ok.stdout


def test_mn_race_fails_only_with_two_lwps(userland):
    one = run_once("mn_race", ["1"], Schedule(0, 2), expect="lost 0")[0]
    two = run_once("mn_race", ["2"], Schedule(0, 2), expect="lost 0")[0]
    assert one.ok and "1 LWPs" in one.output
    assert not two.ok and "2 LWPs" in two.output


def test_replay_debug_opens_the_debugger_at_the_deadlock(deadlock_schedule):
    p = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--replay", deadlock_schedule,
                        "--debug"], cwd=ROOT, input="info threads\nquit\n", capture_output=True, text=True,
                       timeout=300)
    assert "FAILED: deadlock" in p.stdout and "Traceback" not in p.stderr, p.stdout + p.stderr
    threads = [line for line in p.stdout.splitlines() if "LWP" in line and "sleeping" in line]
    assert len(threads) == 3 and sum("__sys_futex" in line for line in threads) == 2, p.stdout
