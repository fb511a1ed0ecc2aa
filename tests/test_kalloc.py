import pytest

from emulator.mmu import PAGE_SIZE
from kernel.kalloc import OutOfMemory
from kernel.panic import KernelPanic
from tests.kfixture import make_kernel


def test_alloc_free_exact_accounting():
    k = make_kernel(mem=4)
    a = k.kalloc
    total = a.total
    assert a.nfree == total == (4 << 20) // PAGE_SIZE
    frames = [a.alloc() for _ in range(total)]
    assert a.nfree == 0
    assert len(set(frames)) == total
    with pytest.raises(OutOfMemory):
        a.alloc()
    for f in frames:
        a.decref(f)
    assert a.nfree == total


def test_alloc_returns_zeroed_frames_even_when_only_dirty_ones_are_left():
    k = make_kernel(mem=4)
    a = k.kalloc
    frames = [a.alloc() for _ in range(a.total)]
    f = frames[7]
    k.machine.mem.write(f, b"\xff" * PAGE_SIZE)
    a.decref(f)
    assert a.dirty == [f]
    g = a.alloc()
    assert g == f and k.machine.mem.read(g, PAGE_SIZE) == bytes(PAGE_SIZE)


def test_prezeroing_moves_dirty_frames_to_zeroed():
    k = make_kernel(mem=4)
    a = k.kalloc
    f = a.alloc()
    k.machine.mem.write(f, b"\xee" * PAGE_SIZE)
    a.decref(f)
    assert a.prezero_one() and not a.prezero_one()
    assert a.zeroed[-1] == f and k.machine.mem.read(f, PAGE_SIZE) == bytes(PAGE_SIZE)


def test_refcount_shares_frame_until_last_ref():
    k = make_kernel(mem=4)
    a = k.kalloc
    f = a.alloc()
    a.incref(f)
    before = a.nfree
    a.decref(f)
    assert a.nfree == before and a.refcount(f) == 1
    a.decref(f)
    assert a.nfree == before + 1


def test_double_free_and_bad_address_panic():
    k = make_kernel(mem=4)
    f = k.kalloc.alloc()
    k.kalloc.decref(f)
    with pytest.raises(KernelPanic):
        k.kalloc.decref(f)
    with pytest.raises(KernelPanic):
        k.kalloc.decref(f + 8)
