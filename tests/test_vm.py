import pytest

from emulator import mmu
from emulator.mmu import PAGE_SIZE
from kernel import params
from kernel.vm import PROT_R, PROT_W, PROT_X, PTE_COW, AddressSpace, Fault
from tests.kfixture import make_kernel


@pytest.fixture
def k():
    return make_kernel(mem=8)


def test_page_table_build_and_hardware_walk_agree(k):
    a = AddressSpace(k)
    frames = {}
    for va in (0x10000, 0x11000, 0x3F_FFFF_E000, 0x12_3456_7000):
        frames[va] = k.kalloc.alloc()
        a.map_page(va, frames[va], PROT_R | PROT_W)
    for va, pa in frames.items():
        pte = a.pte(va)
        assert pte & mmu.PTE_V and pte & mmu.PTE_U and pte & mmu.PTE_A and pte & mmu.PTE_D
        assert mmu.translate(k.machine.mem, a.satp, va + 0x123) == pa + 0x123
    assert mmu.translate(k.machine.mem, a.satp, 0x20000) is None
    assert a.pte(0x20000) == 0
    assert sorted(v for v, _, _ in a.present(0, params.USER_TOP)) == sorted(frames)


def test_destroy_frees_every_frame(k):
    free = k.kalloc.nfree
    a = AddressSpace(k)
    a.add_region(0x10000, 0x20000, PROT_R | PROT_W, "data")
    a.add_region(0x10_0000_0000, 0x10_0010_0000, PROT_R | PROT_W, "mmap")
    a.copyout(0x10000, b"x" * 3 * PAGE_SIZE)
    a.copyout(0x10_0000_8000, b"y")
    a.destroy()
    assert k.kalloc.nfree == free


def test_copyin_copyout_cross_pages_and_demand_zero(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x14000, PROT_R | PROT_W, "heap")
    assert a.copyin(0x10ff0, 32) == bytes(32)       # demand-zero pages appear on access
    data = bytes(range(256)) * 20
    a.copyout(0x10f00, data)
    assert a.copyin(0x10f00, len(data)) == data
    a.copyout(0x12000, b"abc\0def")
    assert a.copyinstr(0x12000, 100) == b"abc"
    assert a.copyinstr(0x12000, 2) is None


@pytest.mark.parametrize("va", [0, 0x1000, 0x9000, params.USER_TOP - 8, params.USER_TOP, 1 << 63, -1 & (2**64 - 1)])
def test_bad_user_pointers_fault(k, va):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x11000, PROT_R, "text")
    with pytest.raises(Fault):
        a.copyin(va, 16)
    with pytest.raises(Fault):
        a.copyout(va, b"z")


def test_copyout_to_readonly_region_faults(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x11000, PROT_R | PROT_X, "text")
    with pytest.raises(Fault):
        a.copyout(0x10000, b"z")


def test_fork_is_copy_on_write(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x12000, PROT_R | PROT_W, "data")
    a.copyout(0x10000, b"parent")
    used = k.kalloc.nfree
    b = a.fork()
    pa_a, pa_b = mmu.pte_pa(a.pte(0x10000)), mmu.pte_pa(b.pte(0x10000))
    assert pa_a == pa_b and k.kalloc.refcount(pa_a) == 2
    assert a.pte(0x10000) & PTE_COW and not a.pte(0x10000) & mmu.PTE_W
    assert used - k.kalloc.nfree == len(b.tables)       # only page tables were copied
    b.copyout(0x10000, b"child!")                      # child's write copies the page
    assert a.copyin(0x10000, 6) == b"parent" and b.copyin(0x10000, 6) == b"child!"
    assert mmu.pte_pa(b.pte(0x10000)) != pa_a
    a.copyout(0x10000, b"again!")                      # last sharer takes the frame over
    assert mmu.pte_pa(a.pte(0x10000)) == pa_a and k.kalloc.refcount(pa_a) == 1
    b.destroy()
    a.destroy()


def test_fault_outside_regions_and_permissions(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x11000, PROT_R | PROT_X, "text")
    assert a.fault(0x10010, PROT_R)
    assert not a.fault(0x10010, PROT_W)
    assert not a.fault(0x20000, PROT_R)
    assert not a.fault(params.USER_TOP + 5, PROT_R)


def test_remove_range_splits_regions(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x20000, PROT_R | PROT_W, "mmap")
    a.copyout(0x10000, b"q" * 0x10000)
    a.remove_range(0x14000, 0x16000)
    assert [(r.start, r.end) for r in a.regions] == [(0x10000, 0x14000), (0x16000, 0x20000)]
    assert a.pte(0x14000) == 0 and a.pte(0x16000) & mmu.PTE_V
    with pytest.raises(Fault):
        a.copyin(0x15000, 1)


def test_free_gap_is_below_top_and_avoids_regions(k):
    a = AddressSpace(k)
    top = 0x100000
    a.add_region(top - 0x3000, top, PROT_R, "mmap")
    assert a.free_gap(0x2000, top) == top - 0x5000


@pytest.fixture(scope="module")
def cowtlb(tmp_path_factory):
    import os
    from tests.conftest import ROOT
    from tools.cc import build
    return build([os.path.join(ROOT, "tests", "guest", "cowtlb.c")], str(tmp_path_factory.mktemp("vm") / "cowtlb"))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_cow_copy_shoots_down_the_other_harts_tlb(userland, cowtlb, seed):
    """After fork, one thread of the child spins reading a COW page on one hart while main
    writes it on another: the copy moves the child's page to a new frame, and the spinner
    must see the write (its hart's TLB still pointed at the parent's frame)."""
    from tools.run import simulate
    r = simulate(cowtlb, [], cpus=2, seed=seed, max_time=5e9)
    assert r.status == 0 and "spinner saw flag = 1 (ok)" in r.output, r.output + r.log
