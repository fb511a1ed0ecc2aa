"""Signals: posting, masks, default actions, user handlers, stop/continue, and their calls.

A signal is pending either for a process (kill) or for one LWP (tgkill, faults); each LWP
has its own mask. Each pending instance carries its siginfo (sigframe.py's layouts): a
standard signal (1-31) is pending once, with the siginfo of its first sending, while a
real-time one (SIGRTMIN_KERNEL-64) queues every sending in order, up to SIGQUEUE_MAX per
process, as in Linux. Delivery happens on the way back to user mode (trap.usertrapret): one
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
from .sigframe import (BUS_ADRALN, BUS_ADRERR, CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED,
                       ILL_ILLOPC, SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL, SI_USER, TRAP_BRKPT, info_child,
                       info_fault, info_sender)
from .thread import SLEEPING
from .vm import PROT_W, Fault

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = 1, 2, 3, 4, 5, 6, 7, 8
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 9, 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG = 17, 18, 19, 20, 21, 22, 23
SIGVTALRM, SIGPROF, SIGWINCH, SIGSYS = 26, 27, 28, 31
NSIG = 64
SIGRTMIN_KERNEL = 32                  # the first real-time signal (musl's SIGRTMIN is 35: it keeps 32-34)
SIG_DFL, SIG_IGN = 0, 1
SA_NOCLDSTOP = 1
TICK_NS = 1_000_000_000 // params.USER_HZ
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
        self.info = {}             # sig -> siginfo of each pending instance, oldest first
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
    def post(self, p, sig, t=None, info=None) -> None:
        """Make sig pending for process p (or, with t, for that LWP only), with siginfo
        info (default: sent by the kernel, SI_KERNEL)."""
        if p.state is not ALIVE or p.exiting:
            return
        if sig == SIGCONT:
            self._discard(p, STOP_BITS)
            if p.sig.stopped:
                p.sig.stopped = False
                self.k.sched.wakeup(("stopped", p))
                self._notify_parent(p, CLD_CONTINUED, SIGCONT)
        elif sig in STOP:
            self._discard(p, bit(SIGCONT))
        if self.ignored(p, sig) and sig not in (SIGKILL, SIGSTOP) and not self._held(p, t, sig):
            return
        if info is None:
            info = info_sender(sig, SI_KERNEL, 0)
        if t is None:
            p.sig.pending = self._queue(p.sig.pending, p.sig.info, sig, info)
        else:
            t.sigpending = self._queue(t.sigpending, t.siginfo, sig, info)
        if self.k.events is not None:
            self.k.event("signal", t or (p.threads[0] if p.threads else None), sig=sig)
        if self.fatal(p, bit(sig)):
            if p.sig.stopped:
                self.k.sched.wakeup(("stopped", p))  # a stopped process dies of it at once
            for c in p.children:                  # so does one of its LWPs asleep in vfork
                if c.vfork_waiter is not None and c.vfork_waiter.proc is p:
                    self.k.sched.wakeup(("vfork", c))
        takers = [x for x in ([t] if t is not None else p.threads) if self.deliverable(p, x)]
        if sig == SIGKILL or not any(x.state is not SLEEPING for x in takers):
            for x in (takers if sig == SIGKILL else takers[:1]):
                self.k.sched.interrupt(x)

    @staticmethod
    def _held(p, t, sig) -> bool:
        """An ignored signal stays pending while its target blocks it or waits for it in
        rt_sigtimedwait (Linux's sig_ignored); for a process, while any of its LWPs does."""
        return any((x.sigmask | x.sigwait) & bit(sig) for x in ([t] if t is not None else p.threads))

    @staticmethod
    def _queue(pending: int, infos: dict, sig: int, info: bytes) -> int:
        """Add one instance of sig to a pending set and its siginfo queues; the new set.
        info is bytes, or a POSIX timer's Note (ptimer.py), which always has room."""
        q = infos.setdefault(sig, [])
        if not q or sig >= SIGRTMIN_KERNEL and (len(q) < params.SIGQUEUE_MAX or not isinstance(info, bytes)):
            q.append(info)
            if not isinstance(info, bytes):
                info.queued = True
        return pending | bit(sig)

    def _discard(self, p, bits: int) -> None:
        """Forget every pending instance of the signals in bits, for p and its LWPs."""
        p.sig.pending &= ~bits
        for x in p.threads:
            x.sigpending &= ~bits
        for infos in [p.sig.info] + [x.siginfo for x in p.threads]:
            for sig in [s for s in infos if bits & bit(s)]:
                for info in infos.pop(sig):
                    if not isinstance(info, bytes):
                        info.taken()

    def take(self, p, t, sig) -> bytes:
        """Remove one pending instance of sig, t's own first (sig must be pending for t or
        p); its siginfo."""
        if t.sigpending & bit(sig):
            owner, infos = t, t.siginfo
        else:
            owner, infos = p.sig, p.sig.info
        q = infos.get(sig)
        info = q.pop(0) if q else info_sender(sig, SI_KERNEL, 0)
        if not isinstance(info, bytes):
            info = info.taken()
        if not q:
            infos.pop(sig, None)
            if owner is t:
                t.sigpending &= ~bit(sig)
            else:
                p.sig.pending &= ~bit(sig)
        return info

    def queued(self, p, sig) -> int:
        """Instances of sig pending for process p as a whole."""
        return len(p.sig.info.get(sig, ()))

    def child_info(self, c) -> bytes:
        """SIGCHLD's siginfo for child c, which has just become a zombie with c.status."""
        st = c.status
        if st & 0x7F == 0:
            code, status = CLD_EXITED, (st >> 8) & 0xFF
        else:
            code, status = (CLD_DUMPED if st & 0x80 else CLD_KILLED), st & 0x7F
        return info_child(code, c.pid, status, c.utime // TICK_NS, c.stime // TICK_NS)

    def _notify_parent(self, p, code: int, status: int) -> None:
        """SIGCHLD for a stop or a continue (none if the parent's action has SA_NOCLDSTOP)."""
        parent = p.parent
        if parent is None:
            return
        act = parent.sig.action.get(SIGCHLD)
        if act is None or not act.flags & SA_NOCLDSTOP:
            utime, stime = sum(x.utime for x in p.threads) + p.utime, sum(x.stime for x in p.threads) + p.stime
            self.post(parent, SIGCHLD, info=info_child(code, p.pid, status, utime // TICK_NS, stime // TICK_NS))

    def fault_info(self, t, sig) -> bytes:
        """The siginfo of thread t's fault (t.fault): SIGSEGV is SEGV_MAPERR where nothing is
        mapped and SEGV_ACCERR where the mapping forbids the access; SIGILL and SIGTRAP give
        the instruction's address, the others the faulting address."""
        cause, pc, addr = t.fault
        if cause in (arch.LOAD_MISALIGNED, arch.STORE_MISALIGNED):
            code = BUS_ADRALN
        elif sig == SIGSEGV:
            a = t.proc.aspace
            code = SEGV_ACCERR if a is not None and a.find(addr) is not None else SEGV_MAPERR
        elif sig == SIGBUS:
            code = BUS_ADRERR
        elif sig in (SIGILL, SIGTRAP):
            code, addr = ILL_ILLOPC if sig == SIGILL else TRAP_BRKPT, pc
        else:
            code = SI_KERNEL
        return info_fault(sig, code, addr)

    def force(self, t, sig) -> None:
        """A synchronous fault of thread t: if blocked or ignored it is reset to the default
        action and unblocked (as Linux's force_sig does), then posted to t, with the fault's
        siginfo if t.fault holds one."""
        p = t.proc
        if t.sigmask & bit(sig) or self.handler(p, sig) == SIG_IGN:
            p.sig.action.pop(sig, None)
            t.sigmask &= ~bit(sig)
        info = self.fault_info(t, sig) if t.fault is not None and sig in CORE else None
        self.post(p, sig, t, info)

    def deliverable(self, p, t) -> int:
        """Signals pending for p or t that thread t may take now (or take in rt_sigtimedwait)."""
        return (p.sig.pending | t.sigpending) & (~(t.sigmask & ~UNBLOCKABLE) | t.sigwait)

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
            info = self.take(p, t, sig)
            h = self.handler(p, sig)
            if h == SIG_IGN or (h == SIG_DFL and sig in DEFAULT_IGNORE):
                continue
            if h == SIG_DFL and sig in STOP:
                self._stop(t, sig)
                continue
            if h == SIG_DFL:
                self.terminate(t, sig)
            if self._run_handler(t, sig, p.sig.action[sig], info):
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
                self._notify_parent(p, CLD_STOPPED, sig)
                self.k.sched.wakeup(p.parent)
        while p.sig.stopped:
            fatal = self.fatal(p, self.deliverable(p, t))
            if fatal:
                self.terminate(t, fatal)
            self.k.sched.sleep(("stopped", p), interruptible=False)   # post() wakes it for a fatal one

    def fatal(self, p, bits) -> int:
        """The lowest signal in bits whose action terminates the process, or 0."""
        while bits:
            sig = (bits & -bits).bit_length()
            if sig == SIGKILL or self.handler(p, sig) == SIG_DFL and sig not in DEFAULT_IGNORE and sig not in STOP:
                return sig
            bits &= bits - 1
        return 0

    def _run_handler(self, t, sig, act, info) -> bool:
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
        frame_mask = t.saved_mask if t.saved_mask is not None else t.sigmask
        t.saved_mask = None
        frame = sigframe.build(regs, info, frame_mask, (ss_sp, SS_ONSTACK if on_alt else ss_flags, ss_size))
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
    def kill(self, sender, pid: int, sig: int, info: bytes = None) -> None:
        """kill(2): SI_USER from sender (or info, for rt_sigqueueinfo). A zombie still
        exists: it counts as a target (no ESRCH) and ignores the signal, as in Linux."""
        if not 0 <= sig <= NSIG:
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
        if not targets:
            raise SysError(ESRCH)
        if sig:
            for p in targets:
                self.post(p, sig, info=info or info_sender(sig, SI_USER, sender.pid))

    def kill_pgrp(self, pgrp: int, sig: int) -> None:
        for p in list(self.k.procs.procs.values()):
            if p.pgid == pgrp:
                self.post(p, sig)

    def set_action(self, p, sig, act: Action) -> Action:
        if not 1 <= sig <= NSIG or sig in (SIGKILL, SIGSTOP):     # even SIG_DFL, as Linux
            raise SysError(EINVAL)
        old = p.sig.action.get(sig, Action())
        if act.handler == SIG_DFL and not act.flags and not act.mask:
            p.sig.action.pop(sig, None)
        else:
            p.sig.action[sig] = act
        if self.ignored(p, sig):              # setting SIG_IGN discards pending instances
            self._discard(p, bit(sig))
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
    if not 1 <= sig <= NSIG:
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
    """Linux takes any size up to 8 here and writes that many bytes of the set."""
    if size > 8:
        raise SysError(EINVAL)
    pending = (t.proc.sig.pending | t.sigpending) & t.sigmask
    t.proc.aspace.copyout(setp, struct.pack("<Q", pending)[:size])
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
