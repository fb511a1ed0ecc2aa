"""The signal frame on the user stack, laid out as Linux riscv64 lays it out.

    struct rt_sigframe { siginfo_t info (128 bytes); struct ucontext uc; }
    struct ucontext    { uc_flags 8, uc_link 8, stack_t uc_stack 24, sigset uc_sigmask 8,
                         128 - 8 bytes reserved, (align 16) struct sigcontext uc_mcontext }
    struct sigcontext  { pc, x1..x31 (32 x 8 bytes), f0..f31 (8 bytes each), fcsr (4),
                         the rest of the 528-byte FP union }
A handler runs with a0 = signal, a1 = &info, a2 = &uc, sp = the frame, ra = the signal
trampoline (li a7, 139; ecall), which calls rt_sigreturn with sp at the frame again.
"""
import struct

from . import arch

INFO_SIZE = 128
UC_OFF = INFO_SIZE
UC_STACK_OFF = UC_OFF + 16
UC_SIGMASK_OFF = UC_OFF + 40
MCTX_OFF = UC_OFF + 176                  # 168 rounded up to the sigcontext's 16-byte alignment
FP_OFF = MCTX_OFF + 256
FCSR_OFF = FP_OFF + 256
FRAME_SIZE = FP_OFF + 528                # = 1088
TRAMPOLINE = struct.pack("<II", 0x08B00893, 0x00000073)   # li a7, 139 (rt_sigreturn); ecall
SI_USER, SI_KERNEL = 0, 0x80
BUS_ADRALN = 1                           # si_code of SIGBUS for a misaligned address


def build(regs: list, sig: int, mask: int, altstack: tuple, info_code: int, addr: int) -> bytes:
    """The bytes of a frame saving user registers `regs` and signal mask `mask`."""
    f = bytearray(FRAME_SIZE)
    struct.pack_into("<iii", f, 0, sig, 0, info_code)             # si_signo, si_errno, si_code
    struct.pack_into("<Q", f, 16, addr)                            # si_addr (faults)
    sp, flags, size = altstack
    struct.pack_into("<QiiQ", f, UC_STACK_OFF, sp, flags, 0, size)
    struct.pack_into("<Q", f, UC_SIGMASK_OFF, mask)
    struct.pack_into("<32Q", f, MCTX_OFF, regs[arch.PC], *regs[arch.GPRS])
    struct.pack_into("<32Q", f, FP_OFF, *regs[arch.FPRS])
    struct.pack_into("<I", f, FCSR_OFF, regs[arch.FCSR] & 0xFFFFFFFF)
    return bytes(f)


def restore(frame: bytes):
    """(registers, signal mask) saved in a frame read back from the user stack."""
    g = struct.unpack_from("<32Q", frame, MCTX_OFF)
    regs = arch.context(pc=g[0])
    regs[arch.GPRS] = g[1:]
    regs[arch.FPRS] = struct.unpack_from("<32Q", frame, FP_OFF)
    regs[arch.FCSR] = struct.unpack_from("<I", frame, FCSR_OFF)[0]
    mask = struct.unpack_from("<Q", frame, UC_SIGMASK_OFF)[0]
    return regs, mask
