"""The hart hands the kernel clean architectural traps (unicorn's quirks absorbed)."""
import pytest

from emulator import hart as H
from emulator import mmu
from emulator.memory import PhysMem
from tests.asmutil import assemble

BASE = 0x8000_0000
U = mmu.PTE_V | mmu.PTE_U | mmu.PTE_A | mmu.PTE_D
CODE, DATA = 0x10000, 0x20000


class Rig:
    """One hart, RAM, and a hand-built Sv39 table mapping CODE (RX) and DATA (RW)."""

    def __init__(self, mode=None):
        self.mem = PhysMem(BASE, 4 << 20)
        self.hart = H.Hart(0, self.mem, mode=mode)
        self.next = BASE
        self.root = self.frame()
        self.code_pa = self.map(CODE, mmu.PTE_R | mmu.PTE_X)
        self.data_pa = self.map(DATA, mmu.PTE_R | mmu.PTE_W)
        self.hart.set_satp(mmu.make_satp(self.root))

    def frame(self):
        pa, self.next = self.next, self.next + 4096
        return pa

    def map(self, va, perm, pa=None):
        table = self.root
        for level in (2, 1):
            a = table + 8 * mmu.vpn(va, level)
            pte = self.mem.read64(a)
            if not pte & mmu.PTE_V:
                pte = mmu.pa_to_pte(self.frame(), mmu.PTE_V)
                self.mem.write64(a, pte)
            table = mmu.pte_pa(pte)
        pa = pa or self.frame()
        self.mem.write64(table + 8 * mmu.vpn(va, 0), mmu.pa_to_pte(pa, U | perm))
        return pa

    def run(self, asm, budget=1000, rvc=False, regs=None, now=0):
        code = assemble(asm, rvc=rvc)
        self.mem.write(self.code_pa, code)
        self.hart.flush_code(self.code_pa, 4096)
        for n, v in (regs or {}).items():
            self.hart.set_x(n, v)
        self.hart.set_pc(CODE)
        return self.hart.run(budget, now)


@pytest.fixture(scope="module")
def rig():
    return Rig()


def test_ecall_epc_is_the_ecall_and_counts_instructions(rig):
    t = rig.run("addi a0, a0, 1\naddi a0, a0, 1\necall")
    assert t.cause == H.CAUSE_ECALL_U
    assert t.epc == CODE + 8
    assert t.executed == 3
    assert rig.hart.get_pc() == CODE + 12      # resume after the ecall


def test_budget_expiry_counts_exactly(rig):
    t = rig.run("1: addi a0, a0, 1\nj 1b", budget=1001)
    assert t.cause == H.CAUSE_BUDGET and t.executed == 1001
    assert t.epc == rig.hart.get_pc()


@pytest.mark.parametrize("asm,rvc,cause,size", [
    ("ld a1, 16(a0)", False, H.CAUSE_LOAD_PAGE, 8),
    ("sw a1, -4(a0)", False, H.CAUSE_STORE_PAGE, 4),
    ("c.ld a1, 16(a0)", True, H.CAUSE_LOAD_PAGE, 8),
    ("c.sw a1, 4(a0)", True, H.CAUSE_STORE_PAGE, 4),
    ("amoadd.w a1, a2, (a0)", False, H.CAUSE_STORE_PAGE, 4),
])
def test_fault_address_and_epc_for_normal_and_compressed(rig, asm, rvc, cause, size):
    base = 0x5_0000
    t = rig.run("nop\n" + asm, rvc=rvc, regs={10: base})
    nop_len = 2 if rvc else 4
    assert t.cause == cause
    assert t.epc == CODE + nop_len                  # corrected for unicorn's +4
    offset = {"ld a1, 16(a0)": 16, "sw a1, -4(a0)": -4, "c.ld a1, 16(a0)": 16,
              "c.sw a1, 4(a0)": 4, "amoadd.w a1, a2, (a0)": 0}[asm]
    assert t.tval == base + offset
    assert rig.hart.get_pc() == t.epc                # a retry re-executes the instruction


def test_store_to_readonly_code_is_a_store_page_fault(rig):
    t = rig.run("sd a1, 0(a0)", regs={10: CODE})
    assert t.cause == H.CAUSE_STORE_PAGE and t.tval == CODE


def test_instruction_fetch_fault_reports_target(rig):
    t = rig.run("jr a0", regs={10: 0x7_0000})
    assert t.cause == H.CAUSE_INSN_PAGE and t.epc == 0x7_0000 and t.tval == 0x7_0000


def test_illegal_instruction_and_ebreak(rig):
    t = rig.run("nop\n.word 0")
    assert t.cause == H.CAUSE_ILLEGAL and t.epc == CODE + 4
    t = rig.run("nop\nebreak")
    assert t.cause == H.CAUSE_BREAKPOINT and t.epc == CODE + 4


def test_rdtime_reads_virtual_time(rig):
    t = rig.run("nop\nrdtime a0\necall", now=5000)
    assert t.cause == H.CAUSE_ECALL_U
    assert rig.hart.get_x(10) == 5000 + 2            # time when rdtime ran: now + retired
    assert t.executed == 3


def test_floating_point_is_enabled(rig):
    t = rig.run("fcvt.d.l fa0, a0\nfadd.d fa0, fa0, fa0\nfcvt.l.d a1, fa0\necall", regs={10: 21})
    assert t.cause == H.CAUSE_ECALL_U and rig.hart.get_x(11) == 42


def test_satp_switch_flushes_tlb(rig):
    rig.run("ld a1, 0(a0)\necall", regs={10: DATA})            # TLB now maps DATA
    other = rig.frame()
    rig.mem.write64(other, 0x1234)
    rig.mem.write64(rig.data_pa, 0x5678)
    rig.map(DATA, mmu.PTE_R | mmu.PTE_W, pa=other)             # same satp, new mapping
    rig.hart.set_satp(rig.hart.satp)
    rig.run("ld a1, 0(a0)\necall", regs={10: DATA})
    assert rig.hart.get_x(11) == 0x1234
    rig.map(DATA, mmu.PTE_R | mmu.PTE_W, pa=rig.data_pa)
    rig.hart.set_satp(rig.hart.satp)


def test_code_rewrite_needs_and_gets_flush(rig):
    rig.run("li a0, 1\necall")
    assert rig.hart.get_x(10) == 1
    rig.run("li a0, 2\necall")                       # Rig.run flushes after writing
    assert rig.hart.get_x(10) == 2


def test_save_load_context_round_trip(rig):
    rig.run("li a0, 7\nfcvt.d.l fa1, a0\necall")
    regs = rig.hart.save()
    assert len(regs) == H.NREGS and regs[10] == 7 and regs[H.REG_PC] == CODE + 12
    regs2 = list(regs)
    regs2[10] = 99
    rig.hart.load(regs2)
    assert rig.hart.get_x(10) == 99 and rig.hart.save()[32 + 11] == regs[32 + 11]


# ---- misaligned accesses (unicorn: cause 4 for every misaligned AMO/LR, no trap for SC) ----

@pytest.mark.parametrize("asm,cause", [
    ("amoadd.w a1, a2, (a0)", H.CAUSE_STORE_MISALIGNED),
    ("amoswap.d a1, a2, (a0)", H.CAUSE_STORE_MISALIGNED),
    ("amoor.w.aqrl a1, a2, (a0)", H.CAUSE_STORE_MISALIGNED),
    ("lr.w a1, (a0)", H.CAUSE_LOAD_MISALIGNED),
    ("lr.d.aq a1, (a0)", H.CAUSE_LOAD_MISALIGNED),
])
@pytest.mark.parametrize("offset", [1, 2, 4094])
def test_misaligned_atomics_trap_with_the_address(rig, asm, cause, offset):
    rig.mem.write(rig.data_pa, bytes(range(16)))
    t = rig.run("nop\n" + asm + "\necall", regs={10: DATA + offset, 11: 77, 12: 5})
    assert t.cause == cause and t.epc == CODE + 4 and t.tval == DATA + offset
    assert rig.hart.get_x(11) == 77                      # the instruction had no effect
    assert rig.mem.read(rig.data_pa, 16) == bytes(range(16))
    assert rig.hart.get_pc() == t.epc


def test_misaligned_atomic_on_a_missing_page_is_still_misaligned(rig):
    t = rig.run("amoadd.d a1, a2, (a0)", regs={10: 0x5_0003})
    assert t.cause == H.CAUSE_STORE_MISALIGNED and t.tval == 0x5_0003


@pytest.mark.parametrize("asm,offset", [("sc.d a1, a2, (a0)", 4), ("sc.w a1, a2, (a0)", 2),
                                        ("sc.w.aqrl a1, a2, (a0)", 1), ("sc.d.rl a1, a2, (a0)", 4094)])
@pytest.mark.parametrize("before", ["", "nop\n", "lr.d a3, (a5)\n"])
def test_misaligned_sc_traps(rig, asm, offset, before):
    """At a block's start, inside it, and after an LR that holds a reservation. unicorn's
    sc fails without a trap; the block counter checks each sc before it runs."""
    rig.mem.write(rig.data_pa, bytes(range(16)))
    t = rig.run(before + asm + "\necall", regs={10: DATA + offset, 11: 77, 12: 5, 15: DATA + 8})
    epc = CODE + 4 * before.count("\n")
    assert t.cause == H.CAUSE_STORE_MISALIGNED and t.epc == epc and t.tval == DATA + offset
    assert t.executed == before.count("\n") + 1             # the sc counts, as any trap
    assert rig.hart.get_x(11) == 77                          # the instruction had no effect
    assert rig.mem.read(rig.data_pa, 16) == bytes(range(16))
    assert rig.hart.get_pc() == t.epc


def test_aligned_sc_still_works(rig):
    rig.mem.write(rig.data_pa, bytes(16))
    t = rig.run("lr.d a3, (a0)\nsc.d a1, a2, (a0)\nsc.d a4, a2, (a0)\necall",
                regs={10: DATA + 8, 11: 77, 12: 0x55, 14: 77})
    assert t.cause == H.CAUSE_ECALL_U and t.executed == 4
    assert rig.hart.get_x(11) == 0 and rig.hart.get_x(14) == 1     # then no reservation left
    assert rig.mem.read64(rig.data_pa + 8) == 0x55


def test_misaligned_sc_fails_without_a_trap_in_count_mode():
    """The unicorn fact the check absorbs, as the count-mode fallback (no block counter
    library) still shows it: the sc compares its address with the reservation's, fails
    (rd = 1) and touches nothing."""
    r = Rig(mode="count")
    r.mem.write(r.data_pa, bytes(16))
    t = r.run("sc.d a1, a2, (a0)\necall", regs={10: DATA + 4, 11: 0, 12: -1})
    assert t.cause == H.CAUSE_ECALL_U and r.hart.get_x(11) == 1
    assert r.mem.read(r.data_pa, 16) == bytes(16)


@pytest.mark.parametrize("asm,size", [("ld a1, 0(a0)", 8), ("lwu a1, 0(a0)", 4), ("lhu a1, 0(a0)", 2),
                                      ("c.ld a1, 0(a0)", 8), ("fld fa1, 0(a0)\nfmv.x.d a1, fa1", 8)])
@pytest.mark.parametrize("offset", [1, 3, 4095 - 8])
def test_misaligned_loads_and_stores_work(rig, asm, size, offset):
    """Legal on Linux riscv64 (the kernel emulates them); unicorn performs them."""
    pattern = bytes((i * 37 + 11) & 0xFF for i in range(4096))
    rig.mem.write(rig.data_pa, pattern)
    t = rig.run(asm + "\necall", rvc=asm.startswith("c."), regs={10: DATA + offset})
    assert t.cause == H.CAUSE_ECALL_U
    assert rig.hart.get_x(11) == int.from_bytes(pattern[offset:offset + size], "little")
    store = {8: "sd", 4: "sw", 2: "sh"}[size]
    t = rig.run(f"{store} a2, 0(a0)\necall", regs={10: DATA + offset, 12: 0x0102030405060708})
    assert t.cause == H.CAUSE_ECALL_U
    got = rig.mem.read(rig.data_pa + offset, size)
    assert got == (0x0102030405060708).to_bytes(8, "little")[:size]


@pytest.mark.parametrize("asm,cause", [("ld a1, 0(a0)", H.CAUSE_LOAD_PAGE),
                                       ("sw a1, 0(a0)", H.CAUSE_STORE_PAGE),
                                       ("amoadd.w a1, a2, (a0)", H.CAUSE_STORE_PAGE)])
def test_access_crossing_into_a_missing_page_reports_that_page(asm, cause):
    """The first page is mapped: the fault is the second page's (the kernel pages it in)."""
    r = Rig()
    addr = DATA + 4094 if "amo" not in asm else DATA + 4096 + 64
    t = r.run(asm + "\necall", regs={10: addr})
    assert t.cause == cause
    assert t.tval == (DATA + 4096 if "amo" not in asm else addr)
    r.map(DATA + 4096, mmu.PTE_R | mmu.PTE_W)
    assert r.run(asm + "\necall", regs={10: addr}).cause == H.CAUSE_ECALL_U


def test_crossing_access_with_a_forbidden_first_page_reports_the_first():
    r = Rig()
    r.map(DATA + 4096, mmu.PTE_R | mmu.PTE_W)
    r.map(DATA, mmu.PTE_R, pa=r.data_pa)                   # first page read-only
    r.hart.set_satp(r.hart.satp)
    t = r.run("sd a1, 0(a0)\necall", regs={10: DATA + 4092})
    assert t.cause == H.CAUSE_STORE_PAGE and t.tval == DATA + 4092


def test_instruction_crossing_into_a_missing_page_reports_that_page():
    r = Rig()
    insn = assemble("addi a0, a0, 1")
    r.mem.write(r.code_pa + 4092, assemble("c.nop", rvc=True) + insn[:2])
    r.hart.flush_code(r.code_pa, 4096)
    for start in (CODE + 4092, CODE + 4094):
        r.hart.set_pc(start)
        t = r.hart.run(100, 0)
        assert t.cause == H.CAUSE_INSN_PAGE and t.tval == CODE + 4096
        assert t.epc == r.hart.get_pc() and t.epc in (CODE + 4092, CODE + 4094)
    page = r.map(CODE + 4096, mmu.PTE_R | mmu.PTE_X)
    r.mem.write(page, insn[2:] + assemble("ecall"))
    r.hart.set_x(10, 5)
    r.hart.set_pc(CODE + 4094)
    assert r.hart.run(100, 0).cause == H.CAUSE_ECALL_U and r.hart.get_x(10) == 6


@pytest.mark.parametrize("pc", [(1 << 64) - 1, (1 << 64) - 2, 3])
def test_pc_bit0_is_clear_and_epc_is_a_64_bit_address(pc):
    """A kernel that aims a thread at an odd address (a handler of -1) gets the fault of
    the even address, as sepc[0] reads zero: never a negative or odd epc."""
    r = Rig()
    r.hart.set_pc(pc)
    assert r.hart.get_pc() == pc & ~1
    t = r.hart.run(100, 0)
    assert t.cause == H.CAUSE_INSN_PAGE and t.epc == pc & ~1 and t.tval == pc & ~1
    regs = r.hart.save()
    regs[H.REG_PC] = pc
    r.hart.load(regs)
    assert r.hart.get_pc() == pc & ~1 and r.hart.save()[H.REG_PC] == pc & ~1


def test_the_ecall_registers_are_the_ones_named(rig):
    """set_ecall_regs: a run ending in an ecall reads the registers it names, in that order."""
    try:
        rig.hart.set_ecall_regs((10, 11, 12, 13, 14, 15, 16))
        rig.run("li a0, 3\nli a1, 4\nli a6, 9\nli a7, 5\necall")
        args = rig.hart.syscall_args()
        assert (args[0], args[1], args[6]) == (3, 4, 9)
    finally:
        rig.hart.set_ecall_regs((17, 10, 11, 12, 13, 14, 15))
    rig.run("li a0, 3\nli a7, 5\necall")
    assert rig.hart.syscall_args()[:2] == [5, 3]
    with pytest.raises(ValueError):
        rig.hart.set_ecall_regs((0, 1))
