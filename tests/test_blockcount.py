"""The native block counter (emulator/blockcount.py) against unicorn's count mode.

Count mode (emu_start count=N, a hook before every instruction) is the reference: a hart in
mode "block" or "until" must return the same Traps, run for run, and leave the same
registers, whatever the budgets."""
import ctypes
import random

import pytest
import unicorn
import unicorn.riscv_const as rc

from emulator import blockcount, decode
from emulator import hart as H
from emulator import mmu
from emulator.memory import PhysMem
from tests.asmutil import assemble

BASE = 0x8000_0000
U = mmu.PTE_V | mmu.PTE_U | mmu.PTE_A | mmu.PTE_D
CODE, DATA, DEMAND, UNMAPPED = 0x10000, 0x20000, 0x40000, 0x7000_0000
NATIVE = ("block", "until")


class Rig:
    """RAM, one hart in `mode` and Sv39 tables: CODE (RX) and DATA (RW) mapped, pages at
    DEMAND mapped on a store fault (as the kernel's demand paging does)."""

    def __init__(self, mode):
        self.mem = PhysMem(BASE, 8 << 20)
        self.hart = H.Hart(0, self.mem, mode=mode)
        self.next = BASE
        self.now = 0
        self.root = self.new_space()

    def frame(self):
        pa, self.next = self.next, self.next + 4096
        self.mem.zero(pa, 4096)
        return pa

    def new_space(self):
        """A new address space with its own CODE and DATA frames; it becomes current."""
        self.root = self.frame()
        self.code_pa = self.map(CODE, mmu.PTE_R | mmu.PTE_X)
        self.data_pa = self.map(DATA, mmu.PTE_R | mmu.PTE_W)
        self.hart.set_satp(mmu.make_satp(self.root))
        return self.root

    def map(self, va, perm):
        table = self.root
        for level in (2, 1):
            a = table + 8 * mmu.vpn(va, level)
            pte = self.mem.read64(a)
            if not pte & mmu.PTE_V:
                pte = mmu.pa_to_pte(self.frame(), mmu.PTE_V)
                self.mem.write64(a, pte)
            table = mmu.pte_pa(pte)
        pa = self.frame()
        self.mem.write64(table + 8 * mmu.vpn(va, 0), mmu.pa_to_pte(pa, U | perm))
        return pa

    def load(self, code, regs=None, at=CODE):
        self.mem.write(self.code_pa + (at - CODE), code)
        self.hart.flush_code(self.code_pa, 4096)
        ctx = [0] * H.NREGS
        for n, v in (regs or {}).items():
            ctx[n] = v
        ctx[H.REG_PC] = at
        self.hart.load(ctx)

    def step(self, budget):
        """One run and the kernel's part of it: map a DEMAND page on a store fault there.
        Virtual time is the instructions retired (no kernel costs here)."""
        t = self.hart.run(budget, self.now)
        self.now += t.executed
        if t.cause == H.CAUSE_STORE_PAGE and DEMAND <= t.tval < DEMAND + (1 << 20):
            self.map(t.tval & ~0xFFF, mmu.PTE_R | mmu.PTE_W)
            self.hart.flush_tlb()
        return t

    def drive(self, budgets):
        """Run until the exit ecall (a7 = 93): the Traps, and the final registers."""
        events = []
        while True:
            t = self.step(next(budgets))
            events.append(tuple(t))
            if t.cause == H.CAUSE_ECALL_U and self.hart.syscall_args()[0] == 93:
                return events, self.hart.save()
            assert t.cause in (H.CAUSE_BUDGET, H.CAUSE_ECALL_U, H.CAUSE_STORE_PAGE), t


# A program with blocks of every kind: RVC and 32-bit instructions, loads and stores, a
# branch inside the inner loop, an ecall, a demand page fault and the three counter CSRs
# per outer iteration. a0 = DATA, a1 = DEMAND, a3 = 4096, s0 = outer count, s2 = inner count.
MIXED = """
outer: li s1, 0
inner: addi s1, s1, 1
  add t0, t0, s1
  andi t2, t0, 7
  beqz t2, 1f
  slli t0, t0, 1
  xor t0, t0, s1
  srli t0, t0, 1
1: sd t0, 0(a0)
  ld t3, 8(a0)
  add t4, t4, t3
  addi t3, t4, 3
  sd t3, 8(a0)
  blt s1, s2, inner
  li a7, 64
  ecall
  xor t5, t5, t4
  sd t4, 0(a1)
  rdtime t6
  add t5, t5, t6
  rdcycle t6
  add t5, t5, t6
  rdinstret t6
  add t5, t5, t6
  add a1, a1, a3
  addi s0, s0, -1
  bnez s0, outer
  li a7, 93
  ecall
"""
MIXED_REGS = {10: DATA, 11: DEMAND, 13: 4096, 8: 30, 18: 150}


def random_budgets(seed, hi):
    r = random.Random(seed)
    while True:
        yield r.randint(1, hi)


def forever(n):
    while True:
        yield n


def run_mixed(mode, budgets):
    rig = Rig(mode)
    rig.load(assemble(MIXED, rvc=True), MIXED_REGS)
    return rig.drive(budgets)


@pytest.fixture(scope="module")
def reference():
    """Count mode: the same random budgets, and one uninterrupted run."""
    return {seed: run_mixed("count", random_budgets(seed, 700)) for seed in (1, 2)}


@pytest.mark.parametrize("mode", NATIVE)
@pytest.mark.parametrize("seed", (1, 2))
def test_random_budgets_match_count_mode(reference, mode, seed):
    events, regs = run_mixed(mode, random_budgets(seed, 700))
    assert len(events) > 100
    assert {e[0] for e in events} == {H.CAUSE_BUDGET, H.CAUSE_ECALL_U, H.CAUSE_STORE_PAGE}
    assert events == reference[seed][0] and regs == reference[seed][1]


@pytest.mark.parametrize("mode", NATIVE + ("count",))
def test_budgets_then_resume_equal_one_uninterrupted_run(mode):
    one, one_regs = run_mixed(mode, forever(10 ** 12))
    small, small_regs = run_mixed(mode, random_budgets(3, 50))
    assert sum(e[3] for e in small) == sum(e[3] for e in one)
    assert small_regs == one_regs
    assert [e for e in small if e[0] != H.CAUSE_BUDGET] != []
    budget_stops = [e for e in small if e[0] == H.CAUSE_BUDGET]
    budgets = random_budgets(3, 50)
    spent = [(e, next(budgets)) for e in small]
    assert all(e[3] == b for e, b in spent if e[0] == H.CAUSE_BUDGET) and budget_stops


def test_exact_budget_on_every_boundary():
    """Every budget from 1 to the length of a block, and a few blocks on: the run stops
    on the budget exactly, inside blocks too (the exact finish)."""
    code = assemble("1: addi t0, t0, 1\nc.addi t1, 1\nxor t2, t2, t0\nc.addi t3, 1\nj 1b", rvc=True)
    for mode in NATIVE:
        rig = Rig(mode)
        for budget in range(1, 23):
            rig.load(code)
            t = rig.hart.run(budget, 0)
            assert t.cause == H.CAUSE_BUDGET and t.executed == budget
            regs = rig.hart.save()
            assert regs[5] == (budget + 4) // 5 and regs[H.REG_PC] == t.epc    # t0: once a loop


# Two programs for the same code address whose loops have the same size in bytes but not
# the same number of instructions: the count cache must not serve one's count to the other.
SPACE_A = "1: c.addi t0, 1\nc.addi t2, 1\nc.addi t3, 1\nc.addi t4, 1\nxori t5, t5, 1\naddi t1, t1, -1\nbnez t1, 1b\nli a7, 93\necall"
SPACE_B = "1: xori t0, t0, 1\nxori t2, t2, 1\nxori t5, t5, 1\naddi t1, t1, -1\nbnez t1, 1b\nli a7, 93\necall"


def loop_shape(code):
    """(bytes, instructions) of the loop: up to and including the bnez."""
    off = n = 0
    while True:
        length = decode.insn_length(int.from_bytes(code[off:off + 2], "little"))
        word = int.from_bytes(code[off:off + 4], "little")
        off, n = off + length, n + 1
        if length == 4 and word & 0x7F == 0x63:        # the branch ends the loop
            return off, n


def run_two_spaces(mode, seed):
    rig = Rig(mode)
    codes = [assemble(SPACE_A, rvc=True), assemble(SPACE_B, rvc=True)]
    spaces = []
    for i, code in enumerate(codes):
        root = rig.new_space()
        rig.mem.write(rig.code_pa, code)
        regs = [0] * H.NREGS
        regs[6], regs[H.REG_PC] = 900 + 77 * i, CODE          # t1: loop count
        spaces.append([mmu.make_satp(root), regs, True])
    r = random.Random(seed)
    events = []
    while any(s[2] for s in spaces):
        i = r.randrange(2)
        if not spaces[i][2]:
            continue
        rig.hart.set_satp(spaces[i][0])
        rig.hart.load(spaces[i][1])
        t = rig.hart.run(r.randint(1, 300), 0)
        events.append((i,) + tuple(t))
        spaces[i][1] = rig.hart.save()
        spaces[i][2] = t.cause != H.CAUSE_ECALL_U
    return events, [s[1] for s in spaces]


def test_programs_differ_in_count_not_size():
    a, b = (loop_shape(assemble(s, rvc=True)) for s in (SPACE_A, SPACE_B))
    assert a[0] == b[0] and a[1] != b[1]


@pytest.mark.parametrize("mode", NATIVE)
def test_two_address_spaces_same_code_address(mode):
    ref = run_two_spaces("count", 5)
    got = run_two_spaces(mode, 5)
    assert len(got[0]) > 20 and got == ref


# Traps inside blocks and at their first instruction. a5 is unmapped, a1 = 5, a3 = 37.
TRAPS = {
    "fetch fault": "addi a0, a0, 1\nc.addi a0, 1\njalr x0, 0(a5)",
    "load fault mid-block": "addi a0, a0, 1\nc.addi a0, 1\nxor a2, a2, a0\nld a1, 0(a5)\naddi a0, a0, 1",
    "load fault at block start": "addi a0, a0, 1\nj 1f\n1: ld a1, 0(a5)\naddi a0, a0, 1",
    "RVC store fault": "addi a0, a0, 1\nc.addi a0, 1\nc.sd a1, 0(a5)\naddi a0, a0, 1",
    "AMO fault": "c.addi a0, 1\namoadd.w a1, a2, (a5)\nc.addi a0, 1",
    "ebreak": "addi a0, a0, 1\nc.addi a0, 1\nebreak\naddi a0, a0, 1",
    "c.ebreak": "addi a0, a0, 1\nc.addi a0, 1\nc.ebreak\naddi a0, a0, 1",
    "illegal 16-bit c.unimp": "addi a0, a0, 1\nc.addi a0, 1\n.half 0\naddi a0, a0, 1",
    "illegal 16-bit at block start": "addi a0, a0, 1\nj 1f\n1: .half 0\naddi a0, a0, 1",
    "illegal 16-bit reserved": "c.addi a0, 1\nc.addi a0, 1\n.half 0x4002\nc.addi a0, 1",
    "illegal 32-bit": "addi a0, a0, 1\nc.addi a0, 1\n.word 0xffffffff\naddi a0, a0, 1",
    "illegal 32-bit at block start": "addi a0, a0, 1\nj 1f\n1: .word 0xffffffff\naddi a0, a0, 1",
    "csrrw to cycle": "addi a0, a0, 1\ncsrrw a2, cycle, zero\naddi a0, a0, 1",
    "ecall after a loop": "1: c.addi a0, 1\naddi a3, a3, -1\nbnez a3, 1b\nc.addi a0, 1\necall",
    "counters then budget": "addi a0, a0, 1\nrdtime a4\nrdcycle a2\nrdinstret a1\n1: c.addi a0, 1\nj 1b",
}
TRAP_REGS = {15: UNMAPPED, 11: 5, 13: 37}


def one_run(mode, code, budget, at=CODE):
    rig = Rig(mode)
    rig.load(code, TRAP_REGS, at=at)
    rig.hart.instret = 1000
    t = rig.hart.run(budget, 5000)
    return tuple(t), rig.hart.save()[:32], rig.hart.get_pc(), rig.hart.instret


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_traps_inside_blocks_match_count_mode(name):
    code = assemble(TRAPS[name], rvc=True)
    for budget in (1, 2, 3, 4, 5, 1000):
        ref = one_run("count", code, budget)
        for mode in NATIVE:
            assert one_run(mode, code, budget) == ref, (mode, budget, ref)


def test_instruction_straddling_into_an_unmapped_page():
    """A 4-byte instruction whose second half is on the next, unmapped, page."""
    code = assemble("c.addi a0, 1\nc.addi a0, 1\nc.addi a0, 1\naddi a0, a0, 1", rvc=True)
    at = CODE + 4096 - 8
    for budget in (1, 3, 4, 1000):
        ref = one_run("count", code, budget, at=at)
        for mode in NATIVE:
            assert one_run(mode, code, budget, at=at) == ref, (mode, budget, ref)


def test_counters_are_virtual_and_exact():
    """rdinstret and rdcycle read twice around a loop of known length: exact values, the
    same in every mode. instret counts the user instructions this hart retired before the
    reading one; cycle is the hart's virtual time when it ran (as rdtime)."""
    asm = ("rdinstret a0\nrdcycle a1\nrdtime a2\n1: addi t1, t1, -1\nbnez t1, 1b\n"
           "rdinstret a3\nrdcycle a4\nrdtime a5\necall")
    code = assemble(asm, rvc=False)
    results = set()
    for mode in NATIVE + ("count",):
        for budget in (10 ** 6, 7):
            rig = Rig(mode)
            rig.load(code, {6: 100})
            rig.hart.instret = 5000
            now, regs = 10 ** 9, None
            while True:
                t = rig.hart.run(budget, now)
                now += t.executed
                if t.cause == H.CAUSE_ECALL_U:
                    break
            regs = rig.hart.save()
            a0, a1, a2, a3, a4, a5 = regs[10:16]
            assert rig.hart.counters_virtual
            assert (a0, a1, a2) == (5000, 10 ** 9 + 2, 10 ** 9 + 3)
            between = 3 + 2 * 100                       # rdinstret rdcycle rdtime, the loop
            assert (a3 - a0, a4 - a1, a5 - a2) == (between, between, between)
            assert rig.hart.instret == 5000 + between + 4
            results.add(tuple(regs[10:16]))
    assert len(results) == 1


def run_rewriting(mode, budget):
    """A program on an RWX page runs a function, rewrites it (as long, fewer instructions),
    executes fence.i and runs it again."""
    rig = Rig(mode)
    page = 0x30000
    pa = rig.map(page, mmu.PTE_R | mmu.PTE_W | mmu.PTE_X)
    old = assemble("c.addi a0, 1\nc.addi a0, 1\nc.addi a0, 1\nc.addi a0, 1\nc.jr ra", rvc=True)
    new = assemble(".option norvc\naddi a0, a0, 1\naddi a0, a0, 1\n.option rvc\nc.jr ra", rvc=True)
    assert len(old) == len(new) and old[8:] == new[8:]
    rig.mem.write(pa, assemble("jalr ra, 0(a1)\nsd a2, 0(a1)\nfence.i\njalr ra, 0(a1)\necall"))
    rig.mem.write(pa + 0x800, old)
    regs = [0] * H.NREGS
    regs[11], regs[12], regs[H.REG_PC] = page + 0x800, int.from_bytes(new[:8], "little"), page
    rig.hart.load(regs)
    events = []
    while not events or events[-1][0] == H.CAUSE_BUDGET:
        events.append(tuple(rig.hart.run(budget, 0)))
    return events, rig.hart.save()


@pytest.mark.parametrize("budget", (1, 3, 10 ** 6))
def test_code_rewritten_by_the_hart_then_fence_i(budget):
    """unicorn retranslates code the hart itself rewrote; fence.i makes the counter forget
    the old counts (a0 = 4 + 2: the new code ran)."""
    ref = run_rewriting("count", budget)
    assert ref[1][10] == 6 and sum(e[3] for e in ref[0]) == 13
    for mode in NATIVE:
        assert run_rewriting(mode, budget) == ref


def test_mode_switches_keep_budgets_exact():
    """Count mode (the debugger's) after native runs, and back: both keep exact budgets
    (count mode needs the translated blocks flushed when it starts)."""
    rig = Rig("block")
    code = assemble("1: addi a0, a0, 1\nj 1b")
    rig.load(code)
    assert rig.hart.run(1001, 0).executed == 1001
    rig.hart.set_step(50)                   # a debugging run: count mode
    t = rig.hart.run(1000, 0)
    assert t.executed == 50 and rig.hart.debug_stop.kind == "step"
    rig.hart.set_step(None)
    rig.hart.debug_stop = None
    assert rig.hart.run(999, 0).executed == 999
    assert rig.hart.get_x(10) == (1001 + 50 + 999 + 1) // 2


def test_probes_found_the_private_fields():
    """The offsets located at start-up, checked on a fresh hart: its block counter finishes
    exactly through cflags_next_tb (reset to -1 after use) and its counter CSRs trap."""
    n = blockcount.native()
    assert n.mode == "block" and n.notes == [], n.notes     # make builds the library
    rig = Rig("block")
    cflags = rig.hart._bc.state.cflags_next
    assert ctypes.c_int32.from_address(cflags).value == -1
    rig.load(assemble("1: addi a0, a0, 1\nc.addi a1, 1\nj 1b", rvc=True))
    assert rig.hart.run(5, 0).executed == 5 and rig.hart._bc.state.finishes == 1
    assert ctypes.c_int32.from_address(cflags).value == -1


def test_fallback_is_announced_in_the_boot_log(monkeypatch, userland):
    """Without the library the harts use count mode, and the boot log says so once; the
    normal boot log has no such line."""
    from tools.run import simulate
    assert "harts:" not in simulate("hello", cpus=2).log
    monkeypatch.setattr(blockcount, "LIB_PATH", "/nonexistent/libblockcount.so")
    monkeypatch.setattr(blockcount, "_native", blockcount._Native())
    assert blockcount.native().mode == "count"
    r = simulate("hello", cpus=2)
    notes = [line for line in r.log.splitlines() if "harts:" in line]
    assert r.status == 0 and len(notes) == 1 and "count mode" in notes[0], r.log
    assert all(h.mode == "count" and h._bc is None for h in r.machine.harts)


@pytest.fixture(scope="module")
def counters_prog(tmp_path_factory, userland):
    import os
    from tests.conftest import ROOT
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("bc") / "counters")
    return build([os.path.join(ROOT, "tests", "guest", "counters.c")], out, ["-O2"])


def test_guest_counters_are_deterministic(counters_prog):
    """A guest reads rdinstret, rdcycle and rdtime around a loop: the deltas are exactly
    the instructions in between, and every value is the same run after run."""
    import re
    from tools.run import simulate
    n = 5000
    outs = [simulate(counters_prog, [str(n)], cpus=2, seed=s).output for s in (4, 4)]
    assert outs[0] == outs[1]
    rows = re.findall(r"(\w+): instret (\d+) cycle (\d+) time (\d+); deltas (\d+) (\d+) (\d+)", outs[0])
    assert [r[0] for r in rows] == ["parent", "child"]
    for who, instret, cycle, time, *deltas in rows:
        assert [int(d) for d in deltas] == [4 + 2 * n] * 3, who
        assert int(cycle) + 1 == int(time) and 0 < int(instret) < int(cycle)


def test_missing_private_fields_are_announced(monkeypatch):
    """A failed probe degrades one feature and says so: no cflags_next_tb, the `until`
    finish; no ext_counters, host-valued rdcycle/rdinstret."""
    def fail(*args):
        raise blockcount.ProbeError("not found (test)")
    monkeypatch.setattr(blockcount, "_locate_cflags", fail)
    monkeypatch.setattr(blockcount, "_locate_ext_counters", fail)
    n = blockcount._Native()
    assert n.mode == "until" and n.counters_off is None
    assert any("until" in note for note in n.notes)
    assert any("NOT deterministic" in note for note in n.notes)
    monkeypatch.setattr(blockcount, "_native", n)
    rig = Rig("until")
    assert not rig.hart.counters_virtual
    rig.load(assemble("rdcycle a0\necall"))
    t = rig.hart.run(100, 0)
    assert t.cause == H.CAUSE_ECALL_U and t.executed == 2   # rdcycle did not trap


def test_unicorn_ignores_the_counter_enables():
    """The fact the ext_counters switch works around: in U-mode, with mcounteren and
    scounteren cleared, unicorn's rdcycle and rdinstret still read the host's counter
    (csr.c: ctr() returns early for privileged specs after 1.9.1), while rdtime traps."""
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
    uc.mem_map(CODE, 0x1000)
    uc.mem_write(CODE, assemble("rdcycle a0\nrdinstret a1\nrdtime a2\necall"))
    traps = []

    def on_intr(u, intno, _data):
        traps.append((intno, u.reg_read(rc.UC_RISCV_REG_PC) - 4))
        u.emu_stop()
    uc.hook_add(unicorn.UC_HOOK_INTR, on_intr)
    uc.reg_write(rc.UC_RISCV_REG_MCOUNTEREN, 0)        # written in M-mode (a fresh Uc's)
    uc.reg_write(rc.UC_RISCV_REG_SCOUNTEREN, 0)
    assert uc.reg_read(rc.UC_RISCV_REG_MCOUNTEREN) == uc.reg_read(rc.UC_RISCV_REG_SCOUNTEREN) == 0
    uc.reg_write(rc.UC_RISCV_REG_PRIV, 0)              # U-mode, satp = 0: no translation
    uc.emu_start(CODE, CODE + 0x100)
    assert traps == [(H.CAUSE_ILLEGAL, CODE + 8)]       # rdtime, not rdcycle or rdinstret
    assert uc.reg_read(rc.UC_RISCV_REG_A0) > 0 and uc.reg_read(rc.UC_RISCV_REG_A1) > 0
