"""The Makefile: after a build, make has nothing to do, and `make -n`/`make -q` say so
(they cannot run a rule to see that it changed nothing). Built in a scratch tree with two
programs, sharing the real sources and the zig cache."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROGS = ("hello", "init")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    d = tmp_path_factory.mktemp("make")
    for name in ("kernel", "tools", "emulator", "requirements.txt"):
        os.symlink(os.path.join(ROOT, name), d / name)
    shutil.copy(os.path.join(ROOT, "Makefile"), d / "Makefile")
    (d / "userland" / "bin").mkdir(parents=True)
    for name in ("libc", "include", "user.ld"):
        os.symlink(os.path.join(ROOT, "userland", name), d / "userland" / name)
    shutil.copy(os.path.join(ROOT, "userland", "userland.mk"), d / "userland")
    for prog in PROGS:
        shutil.copy(os.path.join(ROOT, "userland", "bin", prog + ".c"), d / "userland" / "bin")
    (d / ".venv").mkdir()
    (d / ".venv" / ".installed").touch()          # newer than requirements.txt: no pip install
    (d / "build").mkdir()
    os.makedirs(os.path.join(ROOT, "build", "zig-cache"), exist_ok=True)
    os.symlink(os.path.join(ROOT, "build", "zig-cache"), d / "build" / "zig-cache")
    r = make(d, "all")
    assert r.returncode == 0, r.stdout + r.stderr
    return d


def make(d, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", f"PY={sys.executable}", *args], cwd=d, env=env,
                          capture_output=True, text=True, timeout=600)


def commands(r):
    return [line for line in r.stdout.splitlines() if line and not line.startswith("make")]


def test_nothing_to_do_after_a_build(tree):
    assert make(tree, "-q", "all").returncode == 0
    assert commands(make(tree, "-n", "all")) == []


def test_make_n_of_a_target_lists_only_its_own_command(tree):
    assert commands(make(tree, "-n", "demo-S20")) == [f"{sys.executable} -m tools.demos S20 -o build/demo-S20.html"]
    gdb = commands(make(tree, "-n", "gdb-server", "PROG=hello"))
    assert len(gdb) == 2 and gdb[1].startswith(f"{sys.executable} -m tools.run --gdb 1234")


def test_what_a_change_rebuilds(tree):
    one = commands(make(tree, "-n", "-W", "userland/bin/hello.c", "all"))
    assert [c.split()[-1] for c in one[:-1]] == ["userland/bin/hello.c"] and "tools.mkfs" in one[-1]
    table = " ".join(commands(make(tree, "-n", "-W", "kernel/syscalls.tbl", "all")))
    assert "tools.gensys" in table and "--libc" in table and all(f"bin/{p}.c" in table for p in PROGS)
