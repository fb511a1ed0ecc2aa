"""Signals at the system-call level (tests/guest/sigtest.c): handlers and frames, restart,
alternate stacks, interval timers, stop/continue, masks, and bad handlers or frames."""
import os

import pytest

from tests.conftest import ROOT
from tools.run import simulate


@pytest.fixture(scope="module")
def sigtest(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("sig") / "sigtest")
    return build([os.path.join(ROOT, "tests", "guest", "sigtest.c")], out)


def run(prog, mode, **kw):
    r = simulate(prog, [mode], cpus=2, **kw)
    assert r.status == 0, r.output + r.log
    return r.output


def test_handler_runs_and_sigreturn_restores_every_register(userland, sigtest):
    assert run(sigtest, "handler") == "hits 2 sig 10 keep 12345 fp 3.0\n"


def test_sa_restart_restarts_and_plain_handler_interrupts(userland, sigtest):
    assert run(sigtest, "restart") == "first -1 EINTR hits 2 second 1 x\n"


def test_handler_on_alternate_stack(userland, sigtest):
    assert run(sigtest, "altstack") == "on alt stack 1\n"


def test_itimer_real_and_virtual(userland, sigtest):
    out = run(sigtest, "itimer")
    assert "real: nanosleep -1 EINTR sig 14" in out
    assert "virtual: hits 3 sig 26 interval 1000" in out


def test_bad_handler_and_corrupt_frame_kill_with_sigsegv(userland, sigtest):
    assert run(sigtest, "bad") == "bad handler 11 bad frame 11\n"


def test_sigstop_sigcont_and_wuntraced(userland, sigtest):
    assert run(sigtest, "stop") == "stopped 1 sig 19\nthen killed 15\n"


def test_mask_pending_sigsuspend(userland, sigtest):
    assert run(sigtest, "mask") == "pending 1 before 0 after 1 suspend -4 mask kept 1\n"
