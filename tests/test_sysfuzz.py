"""No user action raises a Python exception out of the kernel: random system calls with
random arguments, in forked children, for several seeds."""
import os

import pytest

from tests.conftest import ROOT
from tools.run import simulate


@pytest.fixture(scope="module")
def sysfuzz(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("fuzz") / "sysfuzz")
    return build([os.path.join(ROOT, "tests", "guest", "sysfuzz.c")], out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_syscalls_never_break_the_kernel(userland, sysfuzz, seed):
    r = simulate(sysfuzz, [str(seed), "30"], cpus=2, seed=seed, max_time=30e9)
    assert "Traceback" not in r.log
    assert r.status == 0, r.output[-2000:] + r.log[-2000:]
    assert "sysfuzz: 30 rounds" in r.output
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot      # nothing leaked
