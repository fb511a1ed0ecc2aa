"""tools.sweep: a sweep writes its CSV and both charts, its figures are those of single runs of the
same points, the CSV's order is the grid's whatever order the points finish in, and bad input is
one line on stderr with exit status 2."""
import csv
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT
from tools import sweep


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tools.sweep", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_small_sweep_writes_csv_and_charts_equal_to_single_runs(tmp_path, userland):
    prefix = str(tmp_path / "s20")
    # --costs xv6: the bound below is for a kernel whose thread creation is short against the work
    r = cli("s20_parallel", "40000", "--set", "costs=xv6", "--vary", "cpus=1,2", "--vary", "seed=0,3",
            "--metric", "speedup", "--metric", "syscalls", "--jobs", "2", "-o", prefix)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [prefix + ".csv", prefix + ".png", prefix + ".svg"]
    with open(prefix + ".png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(prefix + ".svg") as f:
        assert "<svg" in f.read()
    table = rows(prefix + ".csv")
    assert table[0] == ["cpus", "seed", "speedup", "syscalls", "status"]
    assert [row[:2] for row in table[1:]] == [["1", "0"], ["1", "3"], ["2", "0"], ["2", "3"]]
    for cpus, seed, speedup, syscalls, status in table[1:]:
        one = sweep.tools_run(["--no-disk", "--costs", "xv6", "--cpus", cpus, "--seed", seed, "--stats",
                               "s20_parallel", "40000"])
        assert one.returncode == int(status)
        assert speedup == sweep.Metric("speedup", "s20_parallel").value(one.stdout, one.stderr)
        assert syscalls == sweep.Metric("syscalls", "s20_parallel").value(one.stdout, one.stderr)
    speedups = {row[0]: float(row[2]) for row in table[1:]}
    assert speedups["1"] < 1.1 < 1.8 < speedups["2"]          # the figure moves with the option varied


def fake_runs(monkeypatch, delay_of):
    """Replace tools.run by a fake that prints its own argv after a delay: no machine."""
    seen = []
    lock = threading.Lock()

    def fake(argv, timeout=None):
        time.sleep(delay_of(argv))
        with lock:
            seen.append(argv)
        return subprocess.CompletedProcess(argv, 0, stdout="value " + str(len(" ".join(argv))) + "\n"
                                           + "argv " + " ".join(argv) + "\n", stderr="")
    monkeypatch.setattr(sweep, "tools_run", fake)
    return seen


def test_csv_order_is_the_grid_order_whatever_finishes_first(tmp_path, monkeypatch, userland):
    # the first points sleep longest, so they finish last
    seen = fake_runs(monkeypatch, lambda argv: 0.05 * (9 - int(argv[argv.index("--quantum") + 1]) // 1000))
    prefix = str(tmp_path / "order")
    assert sweep.main(["hello", "--vary", "quantum=1000,2000,3000,4000,5000", "--metric", r"value (\d+)",
                       "--jobs", "5", "-o", prefix]) == 0
    finished = [argv[argv.index("--quantum") + 1] for argv in seen]
    assert finished != sorted(finished, key=int)                # they did finish out of order
    assert [row[0] for row in rows(prefix + ".csv")[1:]] == ["1000", "2000", "3000", "4000", "5000"]


def test_argument_placeholders_fixed_options_and_keyed_options(tmp_path, monkeypatch, userland):
    seen = fake_runs(monkeypatch, lambda argv: 0)
    real = sweep.run_options()
    monkeypatch.setattr(sweep, "run_options", lambda: dict(real, cost=True))
    monkeypatch.setattr(sweep, "check_argv", lambda argv: None)       # the real tools.run has no --cost
    prefix = str(tmp_path / "args")
    assert sweep.main(["sched_share", "{threads}", "0.02", "--set", "cpus=1", "--vary", "threads=2,4",
                       "--vary", "cost.TRAP_ENTRY=10,20", "--metric", r"value (?P<len>\d+)", "-o", prefix]) == 0
    assert sorted(seen) == sorted(["--cpus", "1", "--cost", f"TRAP_ENTRY={c}", "--no-disk", "sched_share", t, "0.02"]
                                  for t in ("2", "4") for c in ("10", "20"))
    assert rows(prefix + ".csv")[0] == ["threads", "cost.TRAP_ENTRY", "len", "status"]


@pytest.mark.parametrize("args, says", [
    (["hello", "--vary", "harts=1,2", "--metric", "(x)"], "unknown run option 'harts'"),
    (["hello", "--vary", "cpus=", "--metric", "(x)"], "no empty value"),
    (["hello", "--vary", "cpus=1,,2", "--metric", "(x)"], "no empty value"),
    (["hello", "--vary", "cpus=1", "--metric", "no group"], "exactly one group"),
    (["hello", "--vary", "sched=round-robin", "--metric", "(x)"], "invalid choice"),
    (["hello", "--vary", "cpus=1", "--metric", r"goodbye, (\w+)"], "matched at no point"),
    (["hello", "--vary", "cpus=1", "--frobnicate"], "unrecognized arguments"),
    (["hello", "{n}", "--vary", "cpus=1", "--metric", "(h)"], "{n} in the arguments has no --vary"),
    (["hello", "--vary", "cpus=9", "--metric", "(h)"], "--cpus must be 1..8"),
])
def test_bad_input_is_one_line_and_status_2(args, says, tmp_path, userland):
    r = cli(*args, "-o", str(tmp_path / "bad"))
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and says in r.stderr and r.stderr.startswith("tools.sweep: ")
    assert not os.path.exists(tmp_path / "bad.csv")


def test_shipped_sweeps_have_their_charts_in_the_docs():
    options = sweep.run_options()
    for name in sweep.SHIPPED:
        if sweep.NEEDS.get(name, "--")[2:] not in options:
            continue
        for ext in ("csv", "png", "svg"):
            assert os.path.isfile(os.path.join(ROOT, "docs", "img", f"sweep-{name}.{ext}")), (name, ext)
    with open(os.path.join(ROOT, "Makefile")) as f:
        assert "tools.sweep --shipped all" in f.read()


def test_a_shipped_sweep_whose_option_is_missing_is_skipped_with_a_message(monkeypatch, capsys):
    """A tree without the option (a lab's student tree, an older checkout) skips the sweep."""
    assert "cost" in sweep.run_options() and sweep.NEEDS["switch-trap"] == "--cost"
    monkeypatch.setattr(sweep, "run_options", lambda: {})
    assert sweep.shipped("switch-trap", 1) == 0
    assert "skipping switch-trap: it needs tools.run --cost" in capsys.readouterr().err
