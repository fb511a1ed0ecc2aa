import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- private frames: a shared frame is never writable (issue: fork + mprotect) ----

@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    """The guest test programs of this file, built once."""
    import os
    from tests.conftest import ROOT
    from tools.cc import build
    d = tmp_path_factory.mktemp("vmguest")
    return {name: build([os.path.join(ROOT, "tests", "guest", name + ".c")], str(d / name))
            for name in ("vmiso", "smc", "mapcap")}


def test_page_readonly_at_fork_is_copied_when_made_writable(k):
    a = AddressSpace(k)
    a.add_region(0x10000, 0x11000, PROT_R | PROT_W, "mmap")
    a.copyout(0x10000, b"111")
    a.protect(0x10000, 0x11000, PROT_R)
    b = a.fork()
    pa = mmu.pte_pa(a.pte(0x10000))
    b.protect(0x10000, 0x11000, PROT_R | PROT_W)
    a.protect(0x10000, 0x11000, PROT_R | PROT_W)
    for s in (a, b):                                   # shared: neither side may write it
        assert not s.pte(0x10000) & mmu.PTE_W and s.pte(0x10000) & PTE_COW
    b.copyout(0x10000, b"222")
    assert mmu.pte_pa(b.pte(0x10000)) != pa and a.copyin(0x10000, 3) == b"111"
    assert b.copyin(0x10000, 3) == b"222"
    a.copyout(0x10000, b"333")                         # the last sharer takes the frame over
    assert mmu.pte_pa(a.pte(0x10000)) == pa and b.copyin(0x10000, 3) == b"222"
    b.destroy()
    a.destroy()


def test_signal_trampoline_made_writable_is_copied(userland):
    from tools.run import simulate
    from kernel import sigframe
    r = simulate("hello", cpus=1)
    k2 = r.kernel
    a = AddressSpace(k2)
    k2.kalloc.incref(k2.sigtramp)
    a.add_region(params.SIGTRAMP, params.SIGTRAMP + PAGE_SIZE, PROT_R | PROT_X, "sigtramp")
    a.map_page(params.SIGTRAMP, k2.sigtramp, PROT_R | PROT_X)
    a.protect(params.SIGTRAMP, params.SIGTRAMP + PAGE_SIZE, PROT_R | PROT_W)
    a.copyout(params.SIGTRAMP, b"\0" * 16)
    assert k2.machine.mem.read(k2.sigtramp, len(sigframe.TRAMPOLINE)) == sigframe.TRAMPOLINE
    a.destroy()


@pytest.mark.parametrize("case", ["data", "text"])
def test_fork_then_mprotect_keeps_processes_apart(userland, guest, case):
    """Guest: a page read-only at fork, made writable by one side (data: an mmap'd page, both
    ways; text: the child patches a function of its own text)."""
    from tools.run import simulate
    r = simulate(guest["vmiso"], [case], cpus=2)
    assert r.status == 0 and "BUG" not in r.output, r.output + r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


# ---- W^X: code written at run time runs as written, on every hart ----

@pytest.mark.parametrize("mode", ["read", "migrate", "threads", "samepage", "mprotect"])
def test_written_code_is_never_stale(userland, guest, mode):
    """read: new code through read() into an executable page; migrate: written, fence.i, then
    run on the hart that ran the old code; threads: written by a thread on hart 0, run by
    another on hart 1 after it synchronises; samepage: a store into its own page (neither W
    nor X mode can run it: it runs alone, W and X); mprotect: RW to write, RX to run."""
    from tools.run import simulate
    r = simulate(guest["smc"], [mode], cpus=2)
    assert r.status == 0 and f"{mode}: stale 0 of 20" in r.output, r.output + r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot
    st = r.kernel.trap.stats
    if mode != "mprotect":                         # mprotect changes modes, not faults
        assert st["wx_faults"] >= 20


@pytest.mark.parametrize("args", [["shared"], ["shared", "wx"]])
def test_shared_code_written_in_one_process_runs_as_written_in_another(userland, guest, args):
    """W^X per frame: a MAP_SHARED frame writable in the parent (hart 0) and executable in
    a forked child (hart 1, which ran the old code) never runs stale in the child."""
    from tools.run import simulate
    r = simulate(guest["smc"], args, cpus=2)
    assert r.status == 0 and "shared: stale 0 of 20" in r.output, r.output + r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot and r.kernel.shm.owner == {}


def test_store_into_its_own_page_runs_at_full_speed(userland, guest):
    """A loop storing into the page it runs from: the page is W and X for the rest of the
    hart's slice, so the switches are per slice, not per store (100,000 of them)."""
    from tools.run import simulate
    r = simulate(guest["smc"], ["loop"], cpus=2)
    assert r.status == 0 and "loop: stale 0 of 20" in r.output, r.output + r.log
    assert 0 < r.kernel.trap.stats["wx_faults"] < 20


def test_wx_switches_do_not_enter_the_kernel(userland, guest):
    """W^X switches are an emulator artifact: no trap event, no page fault counted."""
    from tools.run import simulate
    r = simulate(guest["smc"], ["threads"], cpus=2, trace=True)
    faults = [e for e in r.kernel.events if e.kind == "pagefault"]
    assert r.kernel.trap.stats["page_faults"] == len(faults) < r.kernel.trap.stats["wx_faults"]


def test_wx_switch_is_not_charged(k):
    from emulator import hart as H
    a = AddressSpace(k)
    a.add_region(0x10000, 0x11000, PROT_R | PROT_W | PROT_X, "mmap")
    a.copyout(0x10000, b"\x13\0\0\0")                # W mode after the write
    assert a.pte(0x10000) & mmu.PTE_W and not a.pte(0x10000) & mmu.PTE_X
    charged = []
    k.charge = charged.append
    trap = H.Trap(H.CAUSE_INSN_PAGE, 0x10000, 0x10000, 7)
    out = a.coherence(None, trap, 0, 100)
    assert out == H.Trap(H.CAUSE_BUDGET, 0x10000, 0, 7) and charged == []
    assert a.pte(0x10000) & mmu.PTE_X and not a.pte(0x10000) & mmu.PTE_W
    assert a.fault(0x10004, PROT_W) and charged == []    # the kernel's own switch is free too
    assert k.trap.stats["wx_faults"] == 2
    a.destroy()


def test_riscv_flush_icache_checks_flags(userland, guest):
    from tools.run import simulate
    r = simulate(guest["smc"], ["flush"], cpus=1)
    assert "riscv_flush_icache: 0 0 -1 errno EINVAL" in r.output and r.status == 0, r.output + r.log


# ---- regions: bounded work per operation, capped number ----

def _fill(a, n):
    """n one-page mmap regions placed top-down as sys_mmap does, alternating R and RW so that
    none merge."""
    for i in range(n):
        start = a.free_gap(PAGE_SIZE, params.MMAP_TOP)
        a.add_region(start, start + PAGE_SIZE, PROT_R | (PROT_W if i & 1 else 0), "mmap", merge=True)
    return start


def _work_per_op(k, n):
    """Regions and blocks examined by a placement, a protect and an munmap of one page in a
    space of n regions (after holes are punched all over it)."""
    a = AddressSpace(k)
    low = _fill(a, n)
    for i in range(0, n, 7):
        a.remove_range(low + i * PAGE_SIZE, low + (i + 1) * PAGE_SIZE)
    rm = a.regions
    before = rm.visited
    a.free_gap(2 * PAGE_SIZE, params.MMAP_TOP)          # fits nowhere but below them all
    mid = low + (n // 2 // 7 * 7 + 3) * PAGE_SIZE       # a region, not a hole
    a.protect(mid, mid + PAGE_SIZE, PROT_R | PROT_W)
    a.remove_range(mid, mid + PAGE_SIZE)
    assert len(a.regions) == n - len(range(0, n, 7)) - 1
    work = rm.visited - before
    a.destroy()
    return work


def test_region_operations_do_bounded_work(k):
    """The old list scanned (and re-sorted) every region on every mmap and fault; the work per
    operation must now grow far slower than the number of regions."""
    small, large = _work_per_op(k, 1000), _work_per_op(k, 16000)
    assert large < 5 * small and large < 1000


def test_adjacent_anonymous_mmaps_merge(k):
    a = AddressSpace(k)
    _fill(a, 1)
    top = params.MMAP_TOP
    for i in range(100):
        start = a.free_gap(PAGE_SIZE, top)
        a.add_region(start, start + PAGE_SIZE, PROT_R | PROT_W, "mmap", merge=True)
    assert len(a.regions) == 2                          # the R page, then one RW region
    a.destroy()


def test_map_count_is_capped_with_enomem(userland, guest, monkeypatch):
    """Past MAX_MAP_COUNT regions, mmap fails with ENOMEM, and so do a munmap and an mprotect
    that would split a mapping; one that splits nothing still works."""
    from tools.run import simulate
    monkeypatch.setattr(params, "MAX_MAP_COUNT", 1000)
    r = simulate(guest["mapcap"], ["1100"], cpus=1)
    got = int(re.search(r"mapped (\d+), then Out of memory", r.output).group(1))
    assert 1000 - 12 < got < 1000, r.output
    assert "munmap split: -1 Out of memory" in r.output and "mprotect split: -1 Out of memory" in r.output
    assert "mprotect whole: 0" in r.output and r.status == 0
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


@settings(max_examples=150, deadline=None, database=None)
@given(ops=st.lists(st.tuples(st.sampled_from("iirsgf"), st.integers(0, 300), st.integers(1, 6)), max_size=300))
def test_region_map_agrees_with_a_sorted_list(ops):
    """RegionMap (with blocks of 2..8 regions, so that they split and merge all the time)
    against a plain sorted list: find, overlapping, free_gap and iteration after each step."""
    from kernel import vma
    old_b, vma.B = vma.B, 4
    try:
        m, model = vma.RegionMap(), []
        page = PAGE_SIZE
        base = params.USER_MIN
        for op, x, n in ops:
            start, end = base + x * page, base + (x + n) * page
            free = not any(r.start < end and start < r.end for r in model)
            if op == "i" and free:
                r = vma.Region(start, end, PROT_R, "mmap")
                m.insert(r)
                model.append(r)
            elif op == "r" and model:
                r = model.pop(x % len(model))
                m.remove(r)
            elif op == "s" and model:
                r = model[x % len(model)]
                new_end = r.end + n * page
                if not any(q is not r and q.start < new_end and r.start < q.end for q in model):
                    m.set_bounds(r, r.start, new_end)
            model.sort(key=lambda r: r.start)
            assert list(m) == model and len(m) == len(model)
            assert m.find(start) is next((r for r in model if r.start <= start < r.end), None)
            assert m.overlapping(start, end) == [r for r in model if r.start < end and start < r.end]
            top = base + (x + 3 * n) * page
            want = None
            for a in range(top - n * page, base - 1, -page):
                if not any(r.start < a + n * page and a < r.end for r in model):
                    want = a
                    break
            assert m.free_gap(n * page, top) == want
    finally:
        vma.B = old_b
