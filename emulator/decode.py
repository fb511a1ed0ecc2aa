"""Just enough instruction decoding for the traps unicorn leaves to us.

Hardware facts (unicorn 2.1.4, RV64GC):
- On a load/store/AMO page fault unicorn reports no fault address (stval is
  0 and memory hooks do not fire), so it is recomputed from the instruction
  at epc: base register + sign-extended offset for loads and stores, rs1 for
  AMOs and LR/SC.
- `rdtime` traps as an illegal instruction, and so do `rdcycle` and
  `rdinstret` once the counter extension is off (blockcount.py); the hart
  emulates all three (counter_read).

Decoding is capstone's job; this module maps its output to what the kernel
needs. Facts about capstone 5.0.9's RISC-V operands (checked by
tests/test_decode.py):
- 32-bit loads and stores have a register operand and a memory operand
  (base, disp).
- Compressed loads and stores have no memory operand: they are register, an
  immediate byte offset (already scaled), then the base register (x2 for the
  sp-relative forms).
- AMOs, LR and SC have only register operands; the address register rs1 is
  the last one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import capstone
from capstone import riscv_const as rv

MASK64 = (1 << 64) - 1

# capstone register id -> x register number. The ABI names (RISCV_REG_ZERO,
# RISCV_REG_SP, ...) are the same ids as these.
_XREG: dict[int, int] = {
    rv.RISCV_REG_X0: 0, rv.RISCV_REG_X1: 1, rv.RISCV_REG_X2: 2, rv.RISCV_REG_X3: 3,
    rv.RISCV_REG_X4: 4, rv.RISCV_REG_X5: 5, rv.RISCV_REG_X6: 6, rv.RISCV_REG_X7: 7,
    rv.RISCV_REG_X8: 8, rv.RISCV_REG_X9: 9, rv.RISCV_REG_X10: 10, rv.RISCV_REG_X11: 11,
    rv.RISCV_REG_X12: 12, rv.RISCV_REG_X13: 13, rv.RISCV_REG_X14: 14, rv.RISCV_REG_X15: 15,
    rv.RISCV_REG_X16: 16, rv.RISCV_REG_X17: 17, rv.RISCV_REG_X18: 18, rv.RISCV_REG_X19: 19,
    rv.RISCV_REG_X20: 20, rv.RISCV_REG_X21: 21, rv.RISCV_REG_X22: 22, rv.RISCV_REG_X23: 23,
    rv.RISCV_REG_X24: 24, rv.RISCV_REG_X25: 25, rv.RISCV_REG_X26: 26, rv.RISCV_REG_X27: 27,
    rv.RISCV_REG_X28: 28, rv.RISCV_REG_X29: 29, rv.RISCV_REG_X30: 30, rv.RISCV_REG_X31: 31,
}

# capstone instruction id -> (access size in bytes, is_store) for loads and
# stores addressed as base + offset. (c.flw, c.fsw and their sp forms are
# RV32-only; in RV64 those encodings are c.ld, c.sd, c.ldsp, c.sdsp.)
_LOAD_STORE: dict[int, tuple[int, bool]] = {
    rv.RISCV_INS_LB: (1, False), rv.RISCV_INS_LBU: (1, False),
    rv.RISCV_INS_LH: (2, False), rv.RISCV_INS_LHU: (2, False),
    rv.RISCV_INS_LW: (4, False), rv.RISCV_INS_LWU: (4, False),
    rv.RISCV_INS_LD: (8, False),
    rv.RISCV_INS_SB: (1, True), rv.RISCV_INS_SH: (2, True),
    rv.RISCV_INS_SW: (4, True), rv.RISCV_INS_SD: (8, True),
    rv.RISCV_INS_FLW: (4, False), rv.RISCV_INS_FLD: (8, False),
    rv.RISCV_INS_FSW: (4, True), rv.RISCV_INS_FSD: (8, True),
    rv.RISCV_INS_C_LW: (4, False), rv.RISCV_INS_C_LD: (8, False),
    rv.RISCV_INS_C_SW: (4, True), rv.RISCV_INS_C_SD: (8, True),
    rv.RISCV_INS_C_FLD: (8, False), rv.RISCV_INS_C_FSD: (8, True),
    rv.RISCV_INS_C_LWSP: (4, False), rv.RISCV_INS_C_LDSP: (8, False),
    rv.RISCV_INS_C_SWSP: (4, True), rv.RISCV_INS_C_SDSP: (8, True),
    rv.RISCV_INS_C_FLDSP: (8, False), rv.RISCV_INS_C_FSDSP: (8, True),
}

# capstone instruction id -> (access size, is_store) for the A extension,
# addressed by rs1 alone. LR faults as a load; SC and AMOs fault as
# store/AMO (they write), so they count as stores.
_LR_W = (4, False)
_LR_D = (8, False)
_AMO_W = (4, True)
_AMO_D = (8, True)
_ATOMIC: dict[int, tuple[int, bool]] = {
    rv.RISCV_INS_LR_W: _LR_W, rv.RISCV_INS_LR_W_AQ: _LR_W,
    rv.RISCV_INS_LR_W_RL: _LR_W, rv.RISCV_INS_LR_W_AQ_RL: _LR_W,
    rv.RISCV_INS_LR_D: _LR_D, rv.RISCV_INS_LR_D_AQ: _LR_D,
    rv.RISCV_INS_LR_D_RL: _LR_D, rv.RISCV_INS_LR_D_AQ_RL: _LR_D,
    rv.RISCV_INS_SC_W: _AMO_W, rv.RISCV_INS_SC_W_AQ: _AMO_W,
    rv.RISCV_INS_SC_W_RL: _AMO_W, rv.RISCV_INS_SC_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_SC_D: _AMO_D, rv.RISCV_INS_SC_D_AQ: _AMO_D,
    rv.RISCV_INS_SC_D_RL: _AMO_D, rv.RISCV_INS_SC_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOSWAP_W: _AMO_W, rv.RISCV_INS_AMOSWAP_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOSWAP_W_RL: _AMO_W, rv.RISCV_INS_AMOSWAP_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOSWAP_D: _AMO_D, rv.RISCV_INS_AMOSWAP_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOSWAP_D_RL: _AMO_D, rv.RISCV_INS_AMOSWAP_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOADD_W: _AMO_W, rv.RISCV_INS_AMOADD_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOADD_W_RL: _AMO_W, rv.RISCV_INS_AMOADD_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOADD_D: _AMO_D, rv.RISCV_INS_AMOADD_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOADD_D_RL: _AMO_D, rv.RISCV_INS_AMOADD_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOXOR_W: _AMO_W, rv.RISCV_INS_AMOXOR_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOXOR_W_RL: _AMO_W, rv.RISCV_INS_AMOXOR_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOXOR_D: _AMO_D, rv.RISCV_INS_AMOXOR_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOXOR_D_RL: _AMO_D, rv.RISCV_INS_AMOXOR_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOAND_W: _AMO_W, rv.RISCV_INS_AMOAND_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOAND_W_RL: _AMO_W, rv.RISCV_INS_AMOAND_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOAND_D: _AMO_D, rv.RISCV_INS_AMOAND_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOAND_D_RL: _AMO_D, rv.RISCV_INS_AMOAND_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOOR_W: _AMO_W, rv.RISCV_INS_AMOOR_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOOR_W_RL: _AMO_W, rv.RISCV_INS_AMOOR_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOOR_D: _AMO_D, rv.RISCV_INS_AMOOR_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOOR_D_RL: _AMO_D, rv.RISCV_INS_AMOOR_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOMIN_W: _AMO_W, rv.RISCV_INS_AMOMIN_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOMIN_W_RL: _AMO_W, rv.RISCV_INS_AMOMIN_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOMIN_D: _AMO_D, rv.RISCV_INS_AMOMIN_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOMIN_D_RL: _AMO_D, rv.RISCV_INS_AMOMIN_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOMAX_W: _AMO_W, rv.RISCV_INS_AMOMAX_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOMAX_W_RL: _AMO_W, rv.RISCV_INS_AMOMAX_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOMAX_D: _AMO_D, rv.RISCV_INS_AMOMAX_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOMAX_D_RL: _AMO_D, rv.RISCV_INS_AMOMAX_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOMINU_W: _AMO_W, rv.RISCV_INS_AMOMINU_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOMINU_W_RL: _AMO_W, rv.RISCV_INS_AMOMINU_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOMINU_D: _AMO_D, rv.RISCV_INS_AMOMINU_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOMINU_D_RL: _AMO_D, rv.RISCV_INS_AMOMINU_D_AQ_RL: _AMO_D,
    rv.RISCV_INS_AMOMAXU_W: _AMO_W, rv.RISCV_INS_AMOMAXU_W_AQ: _AMO_W,
    rv.RISCV_INS_AMOMAXU_W_RL: _AMO_W, rv.RISCV_INS_AMOMAXU_W_AQ_RL: _AMO_W,
    rv.RISCV_INS_AMOMAXU_D: _AMO_D, rv.RISCV_INS_AMOMAXU_D_AQ: _AMO_D,
    rv.RISCV_INS_AMOMAXU_D_RL: _AMO_D, rv.RISCV_INS_AMOMAXU_D_AQ_RL: _AMO_D,
}


@dataclass(frozen=True)
class Access:
    """A data access: size bytes at addr (64-bit), a write if is_store, by
    an instruction of length bytes."""
    addr: int
    size: int
    is_store: bool
    length: int


@dataclass(frozen=True)
class _Form:
    """What an instruction encoding says about its access, before register
    values are known: address = x[base] + offset."""
    base: int
    offset: int
    size: int
    is_store: bool
    length: int


def insn_length(first_halfword: int) -> int:
    """Instruction length in bytes from its first 16-bit parcel: 2 unless the
    low two bits are 11. Longer encodings (low five bits 11111) do not exist
    in RV64GC; they are reported as 4 and are illegal either way."""
    return 4 if first_halfword & 0b11 == 0b11 else 2


def memory_access(code: bytes, pc: int, reg: Callable[[int], int]) -> Access | None:
    """The data access made by the instruction at the start of code, or None
    if it is not a load, store, AMO, LR or SC (or code is too short).
    reg(n) gives x register n. pc does not affect the result: RV64GC has no
    pc-relative data access."""
    if len(code) < 2:
        return None
    length = insn_length(int.from_bytes(code[:2], "little"))
    if len(code) < length:
        return None
    form = _decode(bytes(code[:length]))
    if form is None:
        return None
    base = 0 if form.base == 0 else reg(form.base)
    return Access(addr=(base + form.offset) & MASK64, size=form.size,
                  is_store=form.is_store, length=form.length)


@functools.lru_cache(maxsize=4096)
def _decode(insn: bytes) -> _Form | None:
    """Decode exactly one instruction; cached because a faulting instruction
    is decoded again every time it is retried."""
    # A Cs handle per decode: handles are not shared between threads, and
    # the cache makes decodes rare.
    md = capstone.Cs(capstone.CS_ARCH_RISCV,
                     capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
    md.detail = True
    decoded = list(md.disasm(insn, 0, count=1))
    if not decoded or decoded[0].size != len(insn):
        return None
    ins = decoded[0]
    ops = ins.operands
    if ins.id in _LOAD_STORE:
        size, is_store = _LOAD_STORE[ins.id]
        mems = [op for op in ops if op.type == rv.RISCV_OP_MEM]
        if mems:
            base, offset = mems[0].mem.base, mems[0].mem.disp
        else:
            # Compressed form: reg, imm offset, base reg.
            imms = [op.imm for op in ops if op.type == rv.RISCV_OP_IMM]
            regs = [op.reg for op in ops if op.type == rv.RISCV_OP_REG]
            if len(imms) != 1 or len(regs) != 2:
                return None
            base, offset = regs[1], imms[0]
    elif ins.id in _ATOMIC:
        size, is_store = _ATOMIC[ins.id]
        regs = [op.reg for op in ops if op.type == rv.RISCV_OP_REG]
        if not regs:
            return None
        base, offset = regs[-1], 0
    else:
        return None
    if base not in _XREG:
        return None
    return _Form(base=_XREG[base], offset=offset, size=size,
                 is_store=is_store, length=len(insn))


CSR_CYCLE, CSR_TIME, CSR_INSTRET = 0xC00, 0xC01, 0xC02
_COUNTERS = (CSR_CYCLE, CSR_TIME, CSR_INSTRET)


def counter_read(code: bytes) -> tuple[int, int] | None:
    """(csr, rd) if code starts with a read of the cycle, time or instret CSR that writes
    nothing back: csrrs or csrrc with rs1 = x0, csrrsi or csrrci with uimm = 0 (rdcycle,
    rdtime, rdinstret and csrr are csrrs forms). Else None: csrrw always writes, and a
    write to these read-only CSRs is an illegal instruction."""
    if len(code) < 4:
        return None
    word = int.from_bytes(code[:4], "little")
    funct3 = (word >> 12) & 0x7
    if word & 0x7F != 0x73 or funct3 not in (2, 3, 6, 7) or (word >> 15) & 0x1F:
        return None
    csr = word >> 20
    return (csr, (word >> 7) & 0x1F) if csr in _COUNTERS else None
