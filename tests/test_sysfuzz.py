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


@pytest.mark.parametrize("seed", [4, 5])
def test_several_fuzzing_processes_on_four_harts(userland, sysfuzz, seed):
    """The soak's fuzzing in small: 4 processes at once, signals to themselves and their group."""
    r = simulate(sysfuzz, [str(seed), "10", "300", "4"], cpus=4, seed=seed, max_time=60e9)
    assert "Traceback" not in r.log
    assert r.status == 0 and "sysfuzz: 10 rounds" in r.output, r.output[-2000:] + r.log[-2000:]
    assert r.kernel.trap.stats["syscalls"] > 10 * 4 * 20      # the children lived long enough to fuzz
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot
