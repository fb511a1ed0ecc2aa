"""A small version of each hostile category of make soak (tests/guest/hostile.c, tools/soak.py):
the program gets its errno or signal, the kernel carries on, every frame comes back and the
disk it used is clean."""
import os
import shutil

import pytest

from tests.conftest import ROOT
from tools import fsck
from tools.run import simulate


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from tools.cc import build
    return build([os.path.join(ROOT, "tests", "guest", "hostile.c")], str(tmp_path_factory.mktemp("h") / "hostile"))


EXPECT = {
    "procs": "hostile procs: 62 children, then EAGAIN; reaped 62",
    "lwps": "hostile lwps: 4 processes filled with up to 63 LWPs each",
    "fds": "hostile fds: 29 opens, then EMFILE",
    "pipes": "hostile pipes: 14 pipes, then EMFILE",
    "frames": "hostile frames: child killed by SIGKILL",
    "disk": "then ENOSPC; unlink 0",
    "inodes": "then ENOSPC; removed",
    "mappings": "hostile mappings: 2000 mappings",
    "signals": "hostile signals: handler ran many times",
    "altstack": "hostile altstack: small ENOMEM, unmapped 11, read-only 11",
    "stopcont": "hostile stopcont: reaped 4",
    "execgarbage": "refused or crashed",
    "gencode": "hostile gencode: 200 runs,",
}


def run(prog, mode, tmp_path, base_image):
    disk = str(tmp_path / "d.img")
    shutil.copyfile(base_image, disk)
    r = simulate(prog, [mode, "1"], cpus=4, disk=disk, max_time=60e9)
    assert "Traceback" not in r.log, r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot, "frames leaked"
    problems, _ = fsck.check(disk)
    assert problems == []
    return r


@pytest.mark.parametrize("mode", sorted(EXPECT))
def test_hostile_program_is_contained(userland, base_image, hostile, tmp_path, mode):
    r = run(hostile, mode, tmp_path, base_image)
    assert r.status == 0, r.output + r.log[-2000:]
    assert EXPECT[mode] in r.output, r.output


def test_generated_code_across_harts_is_never_stale(userland, base_image, hostile, tmp_path):
    r = run(hostile, "gencode", tmp_path, base_image)
    assert "hostile gencode: 200 runs, 0 stale" in r.output, r.output


def test_exec_of_a_file_larger_than_the_buffer_cache(userland, base_image, hostile, tmp_path):
    r = run(hostile, "bio", tmp_path, base_image)
    assert "hostile bio: exec of a" in r.output and r.status == 0


def test_exec_of_a_file_being_written_is_etxtbsy(userland, base_image, hostile, tmp_path):
    r = run(hostile, "execgarbage", tmp_path, base_image)
    assert "(the last: a file open for writing, ETXTBSY)" in r.output, r.output
