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
# si_code values: who sent a signal, or why the kernel did
SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL = 0, 0x80, -1, -2, -6
CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_CONTINUED = 1, 2, 3, 5, 6
SEGV_MAPERR, SEGV_ACCERR = 1, 2          # nothing mapped there / the mapping forbids the access
BUS_ADRALN, BUS_ADRERR = 1, 2            # a misaligned address / a page its file cannot back
ILL_ILLOPC, TRAP_BRKPT = 1, 1


# siginfo_t (INFO_SIZE bytes): si_signo, si_errno, si_code, then at 16 the union of
#   kill, tkill, sigqueue: si_pid, si_uid (int each) [, si_value (8) at 24]
#   POSIX timers:          si_timerid, si_overrun [, si_value at 24]
#   SIGCHLD:               si_pid, si_uid, si_status (int), si_utime, si_stime (clock ticks, 8 each, at 32)
#   faults:                si_addr (8)
def info_sender(sig: int, code: int, pid: int, uid: int = 0, value: int = None) -> bytes:
    """From a process (kill, tkill, sigqueue with its value) or a timer (timer id, overrun)."""
    head = struct.pack("<iii4xii", sig, 0, code, pid, uid)
    if value is not None:
        head += struct.pack("<Q", value & (1 << 64) - 1)
    return head.ljust(INFO_SIZE, b"\0")


def info_child(code: int, pid: int, status: int, utime: int, stime: int) -> bytes:
    return struct.pack("<iii4xiii4xqq", 17, 0, code, pid, 0, status, utime, stime).ljust(INFO_SIZE, b"\0")


def info_fault(sig: int, code: int, addr: int) -> bytes:
    return struct.pack("<iii4xQ", sig, 0, code, addr).ljust(INFO_SIZE, b"\0")


def build(regs: list, info: bytes, mask: int, altstack: tuple) -> bytes:
    """The bytes of a frame holding siginfo `info` and saving user registers `regs` and
    signal mask `mask`."""
    f = bytearray(FRAME_SIZE)
    f[:INFO_SIZE] = info
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
