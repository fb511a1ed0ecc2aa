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


def test_forced_preemption_changes_the_run_deterministically(userland):
    base, _ = run_once("lost_update", [], Schedule(0, 2))
    again, _ = run_once("lost_update", [], Schedule(0, 2))
    assert base.ok and base.output == again.output and base.end == again.end
    pts = Schedule.parse("s58716:c2:p1@98658")
    a, _ = run_once("lost_update", [], pts, expect="lost 0")
    b, _ = run_once("lost_update", [], pts, expect="lost 0")
    assert not a.ok and a.output == b.output and a.end == b.end
    assert "lost 0" not in a.output and "counter = " in a.output


def test_finds_the_lost_update_within_40_runs(userland):
    b, _, vs = explore("lost_update", [], 40, seed=0, expect="lost 0", jobs=2)
    assert b.ok                                   # the default schedule loses nothing
    failed = [v for v in vs if not v.ok]
    assert failed and all("does not match" in v.reason for v in failed)
    _, _, again = explore("lost_update", [], 40, seed=0, expect="lost 0", jobs=1)
    assert [str(v.schedule) for v in again] == [str(v.schedule) for v in vs]
    assert [v.ok for v in again] == [v.ok for v in vs]
    replay, _ = run_once("lost_update", [], failed[0].schedule, expect="lost 0")
    assert replay.output == failed[0].output and not replay.ok


def test_finds_the_deadlock_within_10_runs_and_replays_it(userland):
    p = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--runs", "10", "--seed", "0",
                        "--jobs", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "deadlock" in p.stdout and "Traceback" not in p.stderr
    sched = p.stdout.split("replay:")[1].split("--replay ")[1].split()[0]
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


def test_replay_debug_opens_the_debugger_at_the_deadlock(userland):
    p = subprocess.run([sys.executable, "-m", "tools.explore", "lockorder", "--replay", "s5306:c2:p0@110910",
                        "--debug"], cwd=ROOT, input="info threads\nquit\n", capture_output=True, text=True,
                       timeout=300)
    assert "FAILED: deadlock" in p.stdout and "Traceback" not in p.stderr, p.stdout + p.stderr
    threads = [line for line in p.stdout.splitlines() if "LWP" in line and "sleeping" in line]
    assert len(threads) == 3 and sum("__sys_futex" in line for line in threads) == 2, p.stdout
