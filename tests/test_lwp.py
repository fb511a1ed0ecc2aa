"""LWPs at the kernel interface (raw system calls, tests/guest/lwptest.c)."""
import os
import re

import pytest

from tests.conftest import ROOT
from tools.run import simulate


@pytest.fixture(scope="module")
def lwptest(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("lwp") / "lwptest")
    return build([os.path.join(ROOT, "tests", "guest", "lwptest.c")], out)


def test_lwps_share_memory_and_run_on_several_harts(userland, lwptest):
    r = simulate(lwptest, ["parallel"], cpus=4)
    assert r.status == 0, r.output + r.log
    m = re.search(r"counter (\d+) harts ([0-9a-f]+) self (\d+) pid (\d+)", r.output)
    assert int(m.group(1)) == 800000
    assert bin(int(m.group(2), 16)).count("1") >= 3          # truly parallel
    assert m.group(3) == m.group(4)                            # first LWP's id is the pid
    assert "wait again -3" in r.output                         # already reaped: ESRCH


def test_fault_in_one_lwp_kills_every_lwp(userland, lwptest):
    r = simulate(lwptest, ["crash"], cpus=4)
    assert r.status == 128 + 11
    assert re.search(r"pid \d+ \(lwptest\) lwp \d+: killed by SIGSEGV \(store page fault\) .*"
                     r"address 0x18; all 5 LWPs of the process die", r.log)
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_futex_wait_wake_timeout(userland, lwptest):
    r = simulate(lwptest, ["futex"], cpus=2)
    assert "futex busy -11 wait 0 word 1 timeout -110" in r.output


def test_thread_stack_overflow_hits_its_guard_page(userland, lwptest):
    r = simulate(lwptest, ["overflow"], cpus=2)
    assert r.status == 128 + 11
    assert re.search(r"killed by SIGSEGV .* \(overflow of the stack 0x[0-9a-f]+-0x[0-9a-f]+\)", r.log)


def test_park_unpark_token_and_timeout(userland, lwptest):
    r = simulate(lwptest, ["park"], cpus=2)
    assert "park 0 0 -110 parker 1 bad -3" in r.output


def test_last_lwp_exit_ends_the_process(userland, lwptest):
    r = simulate(lwptest, ["lastexit"], cpus=2)
    assert r.status == 0 and "last lwp exits" in r.output


def test_clone_with_musl_pthread_flags(userland, lwptest):
    r = simulate(lwptest, ["clone"], cpus=2)
    assert r.status == 0 and "clone tid 1 ptid 1 ran 2" in r.output, r.output + r.log


def test_affinity_pins_a_thread_to_a_hart(userland, lwptest):
    r = simulate(lwptest, ["affinity"], cpus=4)
    assert "affinity cpu 2 mask 4 size 8 empty -22" in r.output, r.output + r.log


def test_exit_group_ends_every_lwp(userland, lwptest):
    r = simulate(lwptest, ["exitgroup"], cpus=4, max_time=5e9)
    assert r.status == 3
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_setaffinity_moves_queued_and_running_lwps(userland, lwptest):
    r = simulate(lwptest, ["move"], cpus=2, max_time=5e9)
    assert r.status == 0 and "moved 1 1 1" in r.output, r.output + r.log
