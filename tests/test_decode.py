"""emulator.decode against code assembled by the real toolchain."""

from __future__ import annotations

import pytest

from emulator.decode import CSR_CYCLE, CSR_INSTRET, CSR_TIME, Access, counter_read, insn_length, memory_access
from tests.asmutil import assemble_many

ABI = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
       "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
       "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
       "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"]
XNUM = {name: n for n, name in enumerate(ABI)}
MASK64 = (1 << 64) - 1

# A register file with a distinct value in every register; s1 and t2 are
# chosen so that adding an offset wraps around 2**64.
REGS = {n: 0x40_0000_0000 + n * 0x1_0000 for n in range(32)}
REGS[0] = 0
REGS[XNUM["s1"]] = 0xFFFF_FFFF_FFFF_FFF0
REGS[XNUM["t2"]] = 0xFFFF_FFFF_FFFF_FFFF


def reg(n: int) -> int:
    return REGS[n]


# (asm, base register, offset, size, is_store) for 32-bit loads and stores,
# assembled with compression off so each stays 4 bytes.
WIDE = [
    ("lb a0, -8(a1)", "a1", -8, 1, False),
    ("lbu t0, 2047(a2)", "a2", 2047, 1, False),
    ("lh a0, -2048(a3)", "a3", -2048, 2, False),
    ("lhu a0, 0(zero)", "zero", 0, 2, False),
    ("lw a0, -4(zero)", "zero", -4, 4, False),
    ("lwu a5, 12(s1)", "s1", 12, 4, False),
    ("ld ra, 8(sp)", "sp", 8, 8, False),
    ("ld a0, -1(t2)", "t2", -1, 8, False),
    ("sb a0, 1(t6)", "t6", 1, 1, True),
    ("sh a0, -2(s11)", "s11", -2, 2, True),
    ("sw zero, 100(gp)", "gp", 100, 4, True),
    ("sd ra, -8(sp)", "sp", -8, 8, True),
    ("sd a0, 2040(zero)", "zero", 2040, 8, True),
    ("flw fa0, 4(a0)", "a0", 4, 4, False),
    ("fld fs0, -16(sp)", "sp", -16, 8, False),
    ("fsw ft0, -2048(tp)", "tp", -2048, 4, True),
    ("fsd fa7, 1024(s0)", "s0", 1024, 8, True),
]

# Explicitly compressed forms (2 bytes). Offsets are unsigned and scaled;
# the non-sp forms can only use x8-x15.
COMPRESSED = [
    ("c.lw a0, 4(a1)", "a1", 4, 4, False),
    ("c.lw s0, 124(a5)", "a5", 124, 4, False),
    ("c.ld a5, 248(s1)", "s1", 248, 8, False),
    ("c.sw a2, 0(s0)", "s0", 0, 4, True),
    ("c.sd a4, 8(a3)", "a3", 8, 8, True),
    ("c.fld fa0, 16(a0)", "a0", 16, 8, False),
    ("c.fsd fs1, 248(a2)", "a2", 248, 8, True),
    ("c.lwsp ra, 252(sp)", "sp", 252, 4, False),
    ("c.ldsp a0, 504(sp)", "sp", 504, 8, False),
    ("c.swsp t6, 0(sp)", "sp", 0, 4, True),
    ("c.sdsp ra, 8(sp)", "sp", 8, 8, True),
    ("c.fldsp fa1, 24(sp)", "sp", 24, 8, False),
    ("c.fsdsp fs11, 496(sp)", "sp", 496, 8, True),
]

# Every AMO and LR/SC in every ordering: (asm, base register, size, is_store).
# LR faults as a load; SC and AMOs as store/AMO.
ORDERINGS = ["", ".aq", ".rl", ".aqrl"]
AMO_OPS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor",
           "amomin", "amomax", "amominu", "amomaxu"]
ATOMIC = (
    [(f"{op}.{w}{o} a0, a1, (a2)", "a2", size, True)
     for op in AMO_OPS for w, size in (("w", 4), ("d", 8)) for o in ORDERINGS]
    + [(f"lr.{w}{o} t0, (s1)", "s1", size, False)
       for w, size in (("w", 4), ("d", 8)) for o in ORDERINGS]
    + [(f"sc.{w}{o} t0, a1, (sp)", "sp", size, True)
       for w, size in (("w", 4), ("d", 8)) for o in ORDERINGS]
    + [("amoadd.d a0, a1, (zero)", "zero", 8, True),
       ("lr.d a0, (a0)", "a0", 8, False)]
)

NOT_MEMORY_WIDE = [
    "add a0, a1, a2", "addi sp, sp, -16", "lui a0, 0x12345", "auipc a0, 0",
    "ecall", "ebreak", "fence", "fence.i", "fadd.d fa0, fa1, fa2",
    "fmv.x.d a0, fa0", "mul a0, a1, a2", "csrr a0, sstatus", "rdtime a0",
    "jalr ra, 0(a0)", "beq a0, a1, .+8", "sfence.vma",
]
NOT_MEMORY_COMPRESSED = [
    "c.nop", "c.addi sp, -16", "c.addi16sp sp, -32", "c.addi4spn a0, sp, 16",
    "c.mv a0, a1", "c.li a0, 5", "c.jr ra", "c.ebreak", "c.j .+4",
]


def expected(base: str, offset: int, size: int, is_store: bool, length: int) -> Access:
    return Access(addr=(REGS[XNUM[base]] + offset) & MASK64, size=size,
                  is_store=is_store, length=length)


@pytest.fixture(scope="module")
def wide():
    asm = [c[0] for c in WIDE] + [c[0] for c in ATOMIC] + NOT_MEMORY_WIDE
    return dict(zip(asm, assemble_many(asm, rvc=False)))


@pytest.fixture(scope="module")
def compressed():
    asm = [c[0] for c in COMPRESSED] + NOT_MEMORY_COMPRESSED + ["ld a0, 8(sp)"]
    return dict(zip(asm, assemble_many(asm, rvc=True)))


@pytest.mark.parametrize("case", WIDE, ids=[c[0] for c in WIDE])
def test_wide_load_store(wide, case):
    asm, base, offset, size, is_store = case
    code = wide[asm]
    assert len(code) == 4
    assert memory_access(code, 0x10000, reg) == expected(base, offset, size, is_store, 4)


@pytest.mark.parametrize("case", COMPRESSED, ids=[c[0] for c in COMPRESSED])
def test_compressed_load_store(compressed, case):
    asm, base, offset, size, is_store = case
    code = compressed[asm]
    assert len(code) == 2
    assert memory_access(code, 0x10000, reg) == expected(base, offset, size, is_store, 2)


@pytest.mark.parametrize("case", ATOMIC, ids=[c[0] for c in ATOMIC])
def test_atomic(wide, case):
    asm, base, size, is_store = case
    code = wide[asm]
    assert memory_access(code, 0x10000, reg) == expected(base, 0, size, is_store, 4)


def test_assembler_compression_is_decoded(compressed):
    code = compressed["ld a0, 8(sp)"]  # the assembler emits c.ldsp
    assert len(code) == 2
    assert memory_access(code, 0, reg) == expected("sp", 8, 8, False, 2)


@pytest.mark.parametrize("asm", NOT_MEMORY_WIDE)
def test_not_memory_wide(wide, asm):
    assert memory_access(wide[asm], 0x10000, reg) is None


@pytest.mark.parametrize("asm", NOT_MEMORY_COMPRESSED)
def test_not_memory_compressed(compressed, asm):
    assert memory_access(compressed[asm], 0x10000, reg) is None


def test_undecodable_or_short_code_is_none(wide):
    assert memory_access(b"", 0, reg) is None
    assert memory_access(b"\x03", 0, reg) is None
    assert memory_access(wide["ld ra, 8(sp)"][:2], 0, reg) is None  # half of a 4-byte insn
    assert memory_access(b"\x00\x00", 0, reg) is None                # c.unimp
    assert memory_access(b"\xff\xff\xff\xff", 0, reg) is None


def test_trailing_bytes_ignored(wide, compressed):
    code = compressed["c.sdsp ra, 8(sp)"] + wide["sd ra, -8(sp)"]
    assert memory_access(code, 0, reg) == expected("sp", 8, 8, True, 2)
    code = wide["lb a0, -8(a1)"] + b"\xff" * 6
    assert memory_access(code, 0, reg) == expected("a1", -8, 1, False, 4)
    # unicorn's mem_read returns a bytearray.
    assert memory_access(bytearray(code), 0, reg) == expected("a1", -8, 1, False, 4)
    assert counter_read(bytearray(code)) is None


def test_result_follows_registers_not_cache(wide):
    code = wide["ld ra, 8(sp)"]
    for sp in (0x1000, 0x2000, 0x7FFF_FFF0):
        access = memory_access(code, 0x10000, lambda n: sp if n == 2 else 0)
        assert access == Access(addr=sp + 8, size=8, is_store=False, length=4)
    # The pc does not matter either.
    assert memory_access(code, 0x20000, reg) == memory_access(code, 0x10000, reg)


def test_register_values_wrapped_to_64_bits(wide):
    code = wide["lb a0, -8(a1)"]
    access = memory_access(code, 0, lambda n: -8 if n == 11 else 0)
    assert access.addr == (-16) & MASK64


def test_insn_length(wide, compressed):
    assert insn_length(0x0001) == 2   # c.nop
    assert insn_length(0x4501) == 2   # c.li a0, 0
    assert insn_length(0x0000) == 2   # c.unimp (quadrant 0)
    assert insn_length(0x8082) == 2   # c.jr ra (quadrant 2)
    assert insn_length(0x0513) == 4   # addi (low bits 11)
    assert insn_length(0xFFFF) == 4
    for code in list(wide.values()) + list(compressed.values()):
        assert insn_length(int.from_bytes(code[:2], "little")) == len(code)


def test_counter_read():
    reads = {"rdtime a0": (CSR_TIME, 10), "csrr t1, time": (CSR_TIME, 6),
             "csrrs zero, time, zero": (CSR_TIME, 0), "rdtime t6": (CSR_TIME, 31),
             "rdcycle a0": (CSR_CYCLE, 10), "rdinstret a1": (CSR_INSTRET, 11),
             "csrr s1, instret": (CSR_INSTRET, 9), "csrrc a0, time, zero": (CSR_TIME, 10),
             "csrrsi a2, cycle, 0": (CSR_CYCLE, 12), "csrrci a3, instret, 0": (CSR_INSTRET, 13)}
    others = ["csrr a0, sstatus", "csrrs a0, time, a1", "csrrw a0, time, zero",
              "csrrw a0, cycle, zero", "csrrc a0, instret, a1", "csrrsi a0, cycle, 1",
              "csrrwi a0, instret, 0", "csrr a0, 0xc03",
              "csrr a0, mcycle", "addi a0, zero, 0"]
    names = list(reads) + others
    code = dict(zip(names, assemble_many(names, rvc=False)))
    for name, want in reads.items():
        assert counter_read(code[name]) == want, name
    assert counter_read(code["rdtime a0"] + b"\x01\x00") == (CSR_TIME, 10)
    for other in others:
        assert counter_read(code[other]) is None, other
    assert counter_read(code["rdtime a0"][:3]) is None
    assert counter_read(b"") is None
    # rdtime is not a memory access.
    assert memory_access(code["rdtime a0"], 0, reg) is None
