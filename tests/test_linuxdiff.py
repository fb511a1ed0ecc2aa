"""Where pvtos once differed from Linux riscv64 (issue 12, items 5 and 7): each expected line
is what the same program prints on Linux (tests/guest/linuxdiff.c)."""
import os

import pytest

from tests.conftest import ROOT
from tools.run import simulate


@pytest.fixture(scope="module")
def linuxdiff(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("ldiff") / "linuxdiff")
    return build([os.path.join(ROOT, "tests", "guest", "linuxdiff.c")], out)


def run(prog, mode):
    r = simulate(prog, [mode], cpus=2, max_time=5e9)
    assert "Traceback" not in r.log
    return r


def test_misaligned_atomics_are_sigbus_adraln_with_the_address(userland, linuxdiff):
    r = run(linuxdiff, "atomics")
    assert r.status == 0, r.output + r.log
    lines = r.output.splitlines()
    assert lines[:4] == ["0: SIGBUS code 1 addr base+1", "1: SIGBUS code 1 addr base+4",
                         "2: SIGBUS code 1 addr base+2", "3: SIGBUS code 1 addr base+12"]


def test_misaligned_sc_is_sigbus(userland, linuxdiff):
    r = run(linuxdiff, "atomics")
    assert r.output.splitlines()[4] == "4: SIGBUS code 1 addr base+4"


def test_misaligned_plain_accesses_work_across_untouched_pages(userland, linuxdiff):
    r = run(linuxdiff, "plain")
    assert r.status == 0 and r.output == "misaligned ok 0 1122334455667788 102030405060708\n", r.output + r.log


def test_wait4_with_a_bad_status_pointer_reaps_then_faults(userland, linuxdiff):
    r = run(linuxdiff, "waitbad")
    assert r.output == "wait4 bad status -14, then -10\n", r.output + r.log


def test_sigaction_on_sigkill_and_sigstop_is_einval(userland, linuxdiff):
    r = run(linuxdiff, "sigkill")
    assert r.output == "SIGKILL dfl -22 ign -22 SIGSTOP dfl -22 query 0 handler 0\n", r.output + r.log


def test_futex_errors_as_linux(userland, linuxdiff):
    r = run(linuxdiff, "futex")
    assert r.output.splitlines() == [
        "wake unmapped private 0 shared -14 kernel-addr -14 misaligned -22",
        "wait unmapped private -14 shared -14 value-differs -11 timeout -110 clock-realtime -38 bad-op -38",
        "requeue negative -22 misaligned2 -22 unmapped2 private 0 shared -14 kernel2 -14 realtime -38 "
        "cmp-differs -11 cmp-same 0",
        "wake-op add 0 word 8 bad-op -38 word 8 bad-cmp -38 word 1 read-only -14 shift-or 0 word 17",
        "bitset wait-zero -22 wake-zero -22 past-monotonic -110 past-realtime -110 differs -11 wake 0"]


def test_handler_at_an_odd_address_reports_a_real_pc(userland, linuxdiff):
    """A handler of -1 (SIG_ERR): the PC's bit 0 is dropped as sepc drops it, and the kill
    report names the even address, never "pc -0x1"."""
    r = run(linuxdiff, "badhandler")
    assert r.status == 128 + 11
    assert "killed by SIGSEGV (instruction page fault) at pc 0xfffffffffffffffe" in r.log, r.log
    assert "pc -" not in r.log


def test_signals_to_a_stopped_process(userland, linuxdiff):
    """Once, any unblocked signal other than SIGKILL and SIGCONT sent to a stopped process
    made the kernel loop forever (the stopped thread's sleep was interrupted at once, again
    and again), hanging the whole machine: run in a subprocess with a host-time limit."""
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-m", "tools.run", "--no-disk", "--cpus", "2", "--max-time", "5",
                        linuxdiff, "stopsig"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "stopped 19, after SIGUSR2 still stopped, then killed by 15" in p.stdout, p.stdout + p.stderr
