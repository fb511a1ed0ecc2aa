"""Signals: posting, masks, default actions, user handlers, stop/continue, and their calls.

A signal is pending either for a process (kill) or for one LWP (tgkill, faults); each LWP
has its own mask. Delivery happens on the way back to user mode (trap.usertrapret): one
handler frame per return (kernel/sigframe.py), or the default action. A thread sleeping
interruptibly is woken to take a signal; its call returns EINTR, or is restarted when no
handler ran or the handler has SA_RESTART.
"""
import struct
from dataclasses import dataclass

from . import arch, params, sigframe
from .arch import i32
from .errno import EINTR, EINVAL, ENOMEM, EPERM, ESRCH, SysError
from .proc import ALIVE
from .thread import SLEEPING
from .vm import PROT_W, Fault

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = 1, 2, 3, 4, 5, 6, 7, 8
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 9, 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG = 17, 18, 19, 20, 21, 22, 23
SIGVTALRM, SIGPROF, SIGWINCH, SIGSYS = 26, 27, 28, 31
NSIG = 64
SIG_DFL, SIG_IGN = 0, 1
SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND = 4, 0x08000000, 0x10000000, 0x40000000, 0x80000000
SS_ONSTACK, SS_DISABLE = 1, 2
MINSIGSTKSZ = 2048

NAMES = {SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
         SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
         SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
         SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP",
         SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG",
         SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH", SIGSYS: "SIGSYS"}
DEFAULT_IGNORE = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT}
STOP = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU}
CORE = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS}   # reported on death
UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))
STOP_BITS = sum(1 << (s - 1) for s in STOP)


def name(sig: int) -> str:
    return NAMES.get(sig, f"signal {sig}")


def bit(sig: int) -> int:
    return 1 << (sig - 1)


@dataclass
class Action:
    handler: int = SIG_DFL
    flags: int = 0
    mask: int = 0


class SigState:
    """Per process: actions, process-directed pending signals, stop state."""

    def __init__(self):
        self.action = {}           # sig -> Action (absent: default)
        self.pending = 0           # bit sig-1
        self.stopped = False
        self.stop_report = 0       # stop signal not yet reported to wait4(WUNTRACED)


class Signals:
    SIGCHLD = SIGCHLD

    def __init__(self, kernel):
        self.k = kernel

    def init_proc(self, p, parent) -> None:
        p.sig = SigState()
        if parent is not None:
            p.sig.action = {s: Action(a.handler, a.flags, a.mask) for s, a in parent.sig.action.items()}

    def exec_reset(self, p) -> None:
        """execve keeps ignored signals ignored and resets handlers to default (POSIX)."""
        p.sig.action = {s: a for s, a in p.sig.action.items() if a.handler == SIG_IGN}
        for t in p.threads:
            t.altstack = (0, SS_DISABLE, 0)

    def handler(self, p, sig) -> int:
        a = p.sig.action.get(sig)
        return a.handler if a is not None else SIG_DFL

    def ignored(self, p, sig) -> bool:
        h = self.handler(p, sig)
        return h == SIG_IGN or (h == SIG_DFL and sig in DEFAULT_IGNORE)

    # ---- posting ----
    def post(self, p, sig, t=None) -> None:
        """Make sig pending for process p (or, with t, for that LWP only)."""
        if p.state is not ALIVE or p.exiting:
            return
        if sig == SIGCONT:
            p.sig.pending &= ~STOP_BITS
            for x in p.threads:
                x.sigpending &= ~STOP_BITS
            if p.sig.stopped:
                p.sig.stopped = False
                self.k.sched.wakeup(("stopped", p))
        elif sig in STOP:
            p.sig.pending &= ~bit(SIGCONT)
        if self.ignored(p, sig) and sig not in (SIGKILL, SIGSTOP):
            return
        if t is None:
            p.sig.pending |= bit(sig)
        else:
            t.sigpending |= bit(sig)
        if self.k.events is not None:
            self.k.event("signal", t or (p.threads[0] if p.threads else None), sig=sig)
        if p.sig.stopped and self._fatal(p, bit(sig)):
            self.k.sched.wakeup(("stopped", p))  # a stopped process dies of it at once
        takers = [x for x in ([t] if t is not None else p.threads) if self.deliverable(p, x)]
        if sig == SIGKILL or not any(x.state is not SLEEPING for x in takers):
            for x in (takers if sig == SIGKILL else takers[:1]):
                self.k.sched.interrupt(x)

    def force(self, t, sig) -> None:
        """A synchronous fault of thread t: if blocked or ignored it is reset to the default
        action and unblocked (as Linux's force_sig does), then posted to t."""
        p = t.proc
        if t.sigmask & bit(sig) or self.handler(p, sig) == SIG_IGN:
            p.sig.action.pop(sig, None)
            t.sigmask &= ~bit(sig)
        self.post(p, sig, t)

    def deliverable(self, p, t) -> int:
        """Signals pending for p or t that thread t may take now."""
        return (p.sig.pending | t.sigpending) & ~(t.sigmask & ~UNBLOCKABLE)

    # ---- delivery ----
    def wants(self, t) -> bool:
        """t, about to run user code, must first enter the kernel for a signal or a stop."""
        return bool(self.deliverable(t.proc, t)) or t.proc.sig.stopped

    def deliver(self, t) -> None:
        """On the way to user mode: take pending signals (may not return: exit, stop)."""
        p = t.proc
        if p.sig.stopped:
            self._stop(t, 0)
        while True:
            bits = self.deliverable(p, t)
            if not bits:
                break
            sig = (bits & -bits).bit_length()
            if t.sigpending & bit(sig):
                t.sigpending &= ~bit(sig)
            else:
                p.sig.pending &= ~bit(sig)
            h = self.handler(p, sig)
            if h == SIG_IGN or (h == SIG_DFL and sig in DEFAULT_IGNORE):
                continue
            if h == SIG_DFL and sig in STOP:
                self._stop(t, sig)
                continue
            if h == SIG_DFL:
                self.terminate(t, sig)
            if self._run_handler(t, sig, p.sig.action[sig]):
                t.restart = None
                return
        if t.restart is not None:              # interrupted, and no handler ran: restart
            self._rewind(t)
        t.restart = None
        if t.saved_mask is not None:           # rt_sigsuspend woken without a handler
            t.sigmask, t.saved_mask = t.saved_mask, None

    def _rewind(self, t) -> None:
        a0, epc = t.restart
        self.k.sched.set_reg(t, arch.SYSCALL_RET, a0)
        self.k.sched.set_reg(t, arch.PC, epc)

    def _stop(self, t, sig) -> None:
        """Stop (with a stop signal) or stay stopped until SIGCONT. Other signals stay
        pending meanwhile, except one whose action is to terminate (SIGKILL, or another
        with the default action): as in Linux, it ends the stopped process at once."""
        p = t.proc
        if sig and not p.sig.stopped:
            p.sig.stopped = True
            p.sig.stop_report = sig
            if p.parent is not None:
                self.post(p.parent, SIGCHLD)
                self.k.sched.wakeup(p.parent)
        while p.sig.stopped:
            fatal = self._fatal(p, self.deliverable(p, t))
            if fatal:
                self.terminate(t, fatal)
            self.k.sched.sleep(("stopped", p), interruptible=False)   # post() wakes it for a fatal one

    def _fatal(self, p, bits) -> int:
        """The lowest signal in bits whose action terminates the process, or 0."""
        while bits:
            sig = (bits & -bits).bit_length()
            if sig == SIGKILL or self.handler(p, sig) == SIG_DFL and sig not in DEFAULT_IGNORE and sig not in STOP:
                return sig
            bits &= bits - 1
        return 0

    def _run_handler(self, t, sig, act) -> bool:
        """Push a frame and aim t at the handler; False if the frame could not be written
        (then SIGSEGV is forced, with its default action)."""
        p = t.proc
        sched = self.k.sched
        regs = sched.regs(t)
        if t.restart is not None and act.flags & SA_RESTART:
            regs[arch.SYSCALL_RET], regs[arch.PC] = t.restart
        ss_sp, ss_flags, ss_size = t.altstack
        sp = regs[arch.SP]
        on_alt = ss_flags != SS_DISABLE and ss_sp <= sp < ss_sp + ss_size
        if act.flags & SA_ONSTACK and ss_flags != SS_DISABLE and not on_alt:
            sp = ss_sp + ss_size
        frame_sp = (sp - sigframe.FRAME_SIZE) & ~15
        fault = t.fault if t.fault is not None and sig in CORE else None
        fault_addr = fault[2] if fault is not None else 0
        code = sigframe.SI_USER
        if fault is not None and fault[0] in (arch.LOAD_MISALIGNED, arch.STORE_MISALIGNED):
            code = sigframe.BUS_ADRALN
        elif fault_addr:
            code = sigframe.SI_KERNEL
        frame_mask = t.saved_mask if t.saved_mask is not None else t.sigmask
        t.saved_mask = None
        frame = sigframe.build(regs, sig, frame_mask, (ss_sp, SS_ONSTACK if on_alt else ss_flags, ss_size),
                               code, fault_addr)
        try:
            p.aspace.copyout(frame_sp, frame)
        except Fault:
            p.sig.action.pop(SIGSEGV, None)
            t.sigmask &= ~bit(SIGSEGV)
            self.post(p, SIGSEGV, t)
            return False
        regs[arch.PC], regs[arch.RA], regs[arch.SP] = act.handler, params.SIGTRAMP, frame_sp
        regs[arch.A0], regs[arch.A1], regs[arch.A2] = sig, frame_sp, frame_sp + sigframe.UC_OFF
        sched.set_regs(t, regs)
        t.sigmask |= act.mask | (0 if act.flags & SA_NODEFER else bit(sig))
        t.sigmask &= ~UNBLOCKABLE
        t.fault = None
        if act.flags & SA_RESETHAND:
            p.sig.action.pop(sig, None)
        return True

    def sigreturn(self, t) -> None:
        """rt_sigreturn: restore what the frame at sp saved; a bad frame is SIGSEGV."""
        p = t.proc
        sp = self.k.sched.regs(t)[arch.SP]
        try:
            regs, mask = sigframe.restore(p.aspace.copyin(sp, sigframe.FRAME_SIZE))
        except Fault:
            self.force(t, SIGSEGV)
            return
        self.k.sched.set_regs(t, regs)
        t.sigmask = mask & ~UNBLOCKABLE

    def terminate(self, t, sig) -> None:
        p = t.proc
        if sig in CORE:
            self.k.report_kill(t, sig)
        self.k.procs.exit(p, sig)

    # ---- kill and friends ----
    def kill(self, sender, pid: int, sig: int) -> None:
        if not 0 <= sig < NSIG:
            raise SysError(EINVAL)
        procs = self.k.procs.procs.values()
        if pid > 0:
            targets = [p for p in procs if p.pid == pid]
        elif pid == 0:
            targets = [p for p in procs if p.pgid == sender.pgid]
        elif pid == -1:
            targets = [p for p in procs if p.pid != 1 and p is not sender]
        else:
            targets = [p for p in procs if p.pgid == -pid]
        targets = [p for p in targets if p.state is ALIVE]
        if not targets:
            raise SysError(ESRCH)
        if sig:
            for p in targets:
                self.post(p, sig)

    def kill_pgrp(self, pgrp: int, sig: int) -> None:
        for p in list(self.k.procs.procs.values()):
            if p.pgid == pgrp:
                self.post(p, sig)

    def set_action(self, p, sig, act: Action) -> Action:
        if not 1 <= sig < NSIG or sig in (SIGKILL, SIGSTOP):     # even SIG_DFL, as Linux
            raise SysError(EINVAL)
        old = p.sig.action.get(sig, Action())
        if act.handler == SIG_DFL and not act.flags and not act.mask:
            p.sig.action.pop(sig, None)
        else:
            p.sig.action[sig] = act
        if self.ignored(p, sig):              # setting SIG_IGN discards pending instances
            p.sig.pending &= ~bit(sig)
            for t in p.threads:
                t.sigpending &= ~bit(sig)
        return old


# ---- the system calls ----
def sys_kill(k, t, pid, sig):
    k.signals.kill(t.proc, i32(pid), i32(sig))
    return 0


def sys_rt_sigaction(k, t, sig, act, oact, size):
    """struct sigaction as the riscv64 kernel has it: handler, flags, mask (no restorer).
    Linux's order: size, reading act, the signal number, then writing oact."""
    sig = i32(sig)
    if size != 8:
        raise SysError(EINVAL)
    p = t.proc
    a = p.aspace
    new = struct.unpack("<QQQ", a.copyin(act, 24)) if act else None
    if not 1 <= sig < 64:
        raise SysError(EINVAL)
    old = p.sig.action.get(sig, Action())
    if new is not None:
        handler, flags, mask = new
        old = k.signals.set_action(p, sig, Action(handler, flags, mask & ~UNBLOCKABLE))
    if oact:
        a.copyout(oact, struct.pack("<QQQ", old.handler, old.flags, old.mask))
    return 0


def sys_rt_sigreturn(k, t):
    k.signals.sigreturn(t)
    return None                        # the saved registers, a0 included, are back


def sys_rt_sigsuspend(k, t, maskp, size):
    if size != 8:
        raise SysError(EINVAL)
    mask = struct.unpack("<Q", t.proc.aspace.copyin(maskp, 8))[0]
    t.saved_mask, t.sigmask = t.sigmask, mask & ~UNBLOCKABLE
    while k.sched.sleep(("sigsuspend", t)):
        pass
    raise SysError(EINTR)


def sys_rt_sigpending(k, t, setp, size):
    if size != 8:
        raise SysError(EINVAL)
    pending = (t.proc.sig.pending | t.sigpending) & t.sigmask
    t.proc.aspace.copyout(setp, struct.pack("<Q", pending))
    return 0


def sys_sigaltstack(k, t, ss, old):
    a = t.proc.aspace
    if old:
        a.check(old, 24, PROT_W)
    sp, flags, size = t.altstack
    on = flags != SS_DISABLE and sp <= k.sched.regs(t)[arch.SP] < sp + size
    if ss:
        nsp, nflags, _pad, nsize = struct.unpack("<QiiQ", a.copyin(ss, 24))
        if on:
            raise SysError(EPERM)
        if nflags not in (0, SS_DISABLE):
            raise SysError(EINVAL)
        if nflags != SS_DISABLE and nsize < MINSIGSTKSZ:
            raise SysError(ENOMEM)
        t.altstack = (nsp, nflags, nsize) if nflags != SS_DISABLE else (0, SS_DISABLE, 0)
    if old:
        a.copyout(old, struct.pack("<QiiQ", sp, SS_ONSTACK if on else flags, 0, size))
    return 0


def sys_tgkill(k, t, tgid, tid, sig):
    tgid, tid, sig = i32(tgid), i32(tid), i32(sig)
    x = k.sched.threads.get(tid)
    if tid <= 0 or not 0 <= sig < 64:
        raise SysError(EINVAL)
    if x is None or x.proc is None or (tgid != -1 and x.proc.pid != tgid):
        raise SysError(ESRCH)
    if sig:
        k.signals.post(x.proc, sig, x)
    return 0


def sys_tkill(k, t, tid, sig):
    return sys_tgkill(k, t, -1, tid, sig)


def sys_rt_sigprocmask(k, t, how, setp, oldp, size):
    how = i32(how)
    if size != 8:
        raise SysError(EINVAL)
    a = t.proc.aspace
    old = t.sigmask
    if setp:
        new = struct.unpack("<Q", a.copyin(setp, 8))[0]
        if how == 0:
            t.sigmask |= new
        elif how == 1:
            t.sigmask &= ~new
        elif how == 2:
            t.sigmask = new
        else:
            raise SysError(EINVAL)
        t.sigmask &= ~UNBLOCKABLE
    if oldp:
        a.copyout(oldp, struct.pack("<Q", old))
    return 0
