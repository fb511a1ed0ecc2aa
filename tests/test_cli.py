"""python -m tools.run: errors are one line on stderr and exit status 2, never a traceback."""
import shutil
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DISK = []


@pytest.fixture(autouse=True, scope="module")
def private_disk(base_image, tmp_path_factory):
    """The CLI boots from --disk: a copy, never the build's image."""
    path = str(tmp_path_factory.mktemp("cli") / "fs.img")
    shutil.copyfile(base_image, path)
    DISK[:] = [path]


def cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "tools.run", "--disk", DISK[0], *args], cwd=ROOT,
                          capture_output=True, text=True, input=input, timeout=120)


def test_runs_program_and_returns_its_status(userland):
    r = cli("hello")
    assert r.returncode == 0 and r.stdout == "hello, world\n"
    assert "hart 3: online" in r.stderr                  # the kernel log goes to stderr


def test_missing_program(userland):
    r = cli("no-such-program")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "no program named" in r.stderr


def test_malformed_program_file(userland, tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF" + bytes(60))
    r = cli(str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not a runnable program" in r.stderr


def test_bad_options(userland):
    for args in (["--cpus", "9", "hello"], ["--mem", "1", "hello"], ["--quantum", "5", "hello"]):
        r = cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, args
    r = cli("--cpus", "x")
    assert r.returncode == 2


def test_stats(userland):
    r = cli("--stats", "--cpus", "2", "s1_procmem")
    assert r.returncode == 0
    for word in ("virtual time", "hart 0", "hart 1", "context switches", "syscalls", "page faults"):
        assert word in r.stderr
    free = [line for line in r.stderr.splitlines() if line.startswith("free frames")][0]
    before, after = [int(w) for w in free.replace(",", " ").split() if w.isdigit()]
    assert before == after


def test_shell_script_on_stdin(userland):
    r = cli(input="echo from-stdin\n")
    assert r.returncode == 0 and "$ echo from-stdin\nfrom-stdin\n$ " in r.stdout


def test_killed_program_status(userland):
    r = cli("--max-time", "0.001", "usertests", "runaway")
    assert r.returncode == 124 and "time limit" in r.stderr


def test_host_ctrl_c_ends_the_run_in_one_line(userland):
    """SIGINT to tools.run (^C in a terminal when the console is not interactive): status
    130 and one line, not a KeyboardInterrupt traceback."""
    p = subprocess.Popen([sys.executable, "-m", "tools.run", "--disk", DISK[0], "--cpus", "2", "spin"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    boot = []
    while not boot or "hart 1: online" not in boot[-1]:   # the machine runs the endless loop now
        boot.append(p.stderr.readline())
        assert boot[-1], "".join(boot)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err.splitlines() == ["tools.run: interrupted"] and "Traceback" not in err
