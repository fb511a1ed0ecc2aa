"""The instruction set as the kernel sees it: RISC-V RV64GC with Sv39, the only one so far.

Every ISA detail the kernel depends on is named here, and the rest of kernel/ uses these
names only (tests/test_boundaries.py checks that no other kernel file indexes registers by
number or imports the emulator's ISA constants). A second ISA would be a second module
with the same names over its own emulator; it is not built.

- Registers of a saved user context: a list of NREGS integers in the order Hart.save and
  Hart.load use: x0..x31, f0..f31, pc, fcsr. Index it with ZERO, RA, SP, GP, TP, A0..A7, PC,
  FCSR; GPRS and FPRS are the slices of x1..x31 and f0..f31 (a signal frame saves them).
- Trap kinds (Trap.cause): the scause values of the privileged spec, plus two pseudo-causes:
  BUDGET (the hart used its instruction budget, emulator) and SIGNAL (the scheduler sends a
  thread into the kernel to take signals or upcalls, sched.py).
- Page-table bits (Sv39 PTEs) and the page size, from the format the MMU walks (mmu.py).
- System calls (Linux riscv64): `ecall` with the number in a7 and up to six arguments in
  a0..a5; the result goes back in a0; the ecall is ECALL_SIZE bytes long (a restarted call
  resumes at the ecall again).
"""
from emulator import hart as _hart
from emulator import mmu as _mmu

Trap = _hart.Trap                     # (cause, epc, tval, executed): what a hart's run returns

# ---- registers of a saved user context ----
NREGS = _hart.NREGS                   # the size of one saved context
ZERO, RA, SP, GP, TP = 0, 1, 2, 3, 4
A0, A1, A2, A3, A4, A5, A6, A7 = 10, 11, 12, 13, 14, 15, 16, 17
PC = _hart.REG_PC
FCSR = _hart.REG_FCSR
GPRS = slice(1, 32)                   # x1..x31 (x0 is always 0)
FPRS = slice(32, 64)                  # f0..f31
WORD_MASK = (1 << 64) - 1             # a register holds 64 bits


def context(pc: int = 0, sp: int = 0) -> list:
    """A fresh user context: every register 0 but pc and sp."""
    regs = [0] * NREGS
    regs[PC], regs[SP] = pc, sp
    return regs


def sx(v: int) -> int:
    """A register as a signed 64-bit integer."""
    return v - (1 << 64) if v >> 63 else v


def i32(v: int) -> int:
    """The low 32 bits of a register as a signed C int."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


# ---- trap kinds (Trap.cause) ----
BUDGET = _hart.CAUSE_BUDGET           # the run used its budget: not a trap, epc is the resume pc
SIGNAL = -2                           # not from a hart: enter the kernel for signals or upcalls
SYSCALL = _hart.CAUSE_ECALL_U         # ecall from user mode
ILLEGAL_INSN = _hart.CAUSE_ILLEGAL
BREAKPOINT = _hart.CAUSE_BREAKPOINT
LOAD_MISALIGNED = _hart.CAUSE_LOAD_MISALIGNED     # only atomics: plain accesses are emulated
STORE_MISALIGNED = _hart.CAUSE_STORE_MISALIGNED   # a store or an atomic
INSN_ACCESS = _hart.CAUSE_INSN_ACCESS
LOAD_ACCESS = _hart.CAUSE_LOAD_ACCESS
STORE_ACCESS = _hart.CAUSE_STORE_ACCESS
INSN_PAGE_FAULT = _hart.CAUSE_INSN_PAGE     # fetch: tval = the faulting address
LOAD_PAGE_FAULT = _hart.CAUSE_LOAD_PAGE
STORE_PAGE_FAULT = _hart.CAUSE_STORE_PAGE   # a store or an atomic
CAUSE_NAMES = {INSN_ACCESS: "instruction access fault", ILLEGAL_INSN: "illegal instruction",
               BREAKPOINT: "breakpoint", LOAD_ACCESS: "load access fault",
               STORE_ACCESS: "store access fault", INSN_PAGE_FAULT: "instruction page fault",
               LOAD_PAGE_FAULT: "load page fault", STORE_PAGE_FAULT: "store page fault",
               LOAD_MISALIGNED: "misaligned load", STORE_MISALIGNED: "misaligned store/AMO"}

# ---- page tables (Sv39) ----
PAGE_SIZE = _mmu.PAGE_SIZE
PTE_V, PTE_R, PTE_W, PTE_X, PTE_U = _mmu.PTE_V, _mmu.PTE_R, _mmu.PTE_W, _mmu.PTE_X, _mmu.PTE_U
PTE_A, PTE_D = _mmu.PTE_A, _mmu.PTE_D
PTE_SOFT = _mmu.PTE_RSW0              # ignored by the hardware: the kernel's own mark
make_satp = _mmu.make_satp
pte_pa = _mmu.pte_pa
pa_to_pte = _mmu.pa_to_pte
walk = _mmu.walk                      # the Sv39 walk: (level, PTE address, PTE) per entry
spans = _mmu.spans                    # an access cut at page boundaries: (address, length)

# ---- system calls ----
SYSCALL_NR = A7
SYSCALL_ARGS = (A0, A1, A2, A3, A4, A5)
SYSCALL_RET = A0
ECALL_SIZE = 4


def setup_hart(hart) -> None:
    """Tell a hart this convention: it reads the number and the arguments with the trap of
    every run that ends in an ecall, in the same batched call as the PC."""
    hart.set_ecall_regs((SYSCALL_NR,) + SYSCALL_ARGS)


def syscall_args(hart) -> list:
    """[number, a0, ..., a5] of the ecall that ended hart's last run (after setup_hart)."""
    return hart.syscall_args()
