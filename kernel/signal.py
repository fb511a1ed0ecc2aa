"""Signals, as far as this stage needs them: kill, default actions, SIG_IGN, masks.

Delivery happens on the way back to user mode (trap.usertrapret). User handlers are not
supported yet: rt_sigaction accepts SIG_DFL and SIG_IGN only (EINVAL otherwise).
"""
from .errno import EINVAL, ESRCH, SysError

SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = 1, 2, 3, 4, 5, 6, 7, 8
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 9, 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SIGSYS = 17, 18, 19, 20, 21, 22, 23, 28, 31
NSIG = 64
SIG_DFL, SIG_IGN = 0, 1

NAMES = {SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
         SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
         SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
         SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP",
         SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG",
         SIGWINCH: "SIGWINCH", SIGSYS: "SIGSYS"}
DEFAULT_IGNORE = {SIGCHLD, SIGURG, SIGWINCH, SIGCONT}
CORE = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS}   # reported on death
UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))


def name(sig: int) -> str:
    return NAMES.get(sig, f"signal {sig}")


class SigState:
    """Per process: actions and pending signals. Each LWP has its own mask (Thread.sigmask)."""

    def __init__(self):
        self.action = {}           # sig -> SIG_IGN (absent: SIG_DFL)
        self.pending = 0           # bit sig-1


class Signals:
    SIGCHLD = SIGCHLD

    def __init__(self, kernel):
        self.k = kernel

    def init_proc(self, p, parent) -> None:
        p.sig = SigState()
        if parent is not None:
            p.sig.action = dict(parent.sig.action)

    def exec_reset(self, p) -> None:
        """execve keeps ignored signals ignored and resets the rest to default (POSIX)."""
        p.sig.action = {s: a for s, a in p.sig.action.items() if a == SIG_IGN}

    def ignored(self, p, sig) -> bool:
        act = p.sig.action.get(sig, SIG_DFL)
        return act == SIG_IGN or (act == SIG_DFL and sig in DEFAULT_IGNORE)

    def post(self, p, sig) -> None:
        if p.state != "alive" or p.exiting:
            return
        if self.ignored(p, sig) and sig not in (SIGKILL, SIGSTOP):
            return
        p.sig.pending |= 1 << (sig - 1)
        if self.k.events is not None:
            self.k.event("signal", p.threads[0] if p.threads else None, sig=sig)
        for t in p.threads:
            if self.deliverable(p, t):
                self.k.sched.interrupt(t)

    def force(self, t, sig) -> None:
        """A synchronous fault of thread t: delivered even if blocked or ignored (as Linux)."""
        t.proc.sig.action.pop(sig, None)
        t.sigmask &= ~(1 << (sig - 1))
        self.post(t.proc, sig)

    def deliverable(self, p, t) -> int:
        """Signals pending for p that thread t may take now."""
        return p.sig.pending & ~(t.sigmask & ~UNBLOCKABLE)

    def deliver(self, t) -> None:
        """On the way to user mode: act on pending unblocked signals (may not return)."""
        p = t.proc
        bits = self.deliverable(p, t)
        while bits:
            sig = (bits & -bits).bit_length()
            p.sig.pending &= ~(1 << (sig - 1))
            bits &= bits - 1
            if self.ignored(p, sig):
                continue
            self.terminate(t, sig)

    def terminate(self, t, sig) -> None:
        p = t.proc
        if sig in CORE:
            self.k.report_kill(t, sig)
        self.k.procs.exit(p, sig)

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
        targets = [p for p in targets if p.state == "alive"]
        if not targets:
            raise SysError(ESRCH)
        if sig:
            for p in targets:
                self.post(p, sig)

    def kill_pgrp(self, pgrp: int, sig: int) -> None:
        for p in list(self.k.procs.procs.values()):
            if p.pgid == pgrp:
                self.post(p, sig)

    def set_action(self, p, sig, act) -> int:
        if not 1 <= sig < NSIG or sig in (SIGKILL, SIGSTOP) and act != SIG_DFL:
            raise SysError(EINVAL)
        if act not in (SIG_DFL, SIG_IGN):
            raise SysError(EINVAL)          # user handlers arrive with the signals issue
        old = p.sig.action.get(sig, SIG_DFL)
        if act == SIG_DFL:
            p.sig.action.pop(sig, None)
        else:
            p.sig.action[sig] = act
        return old

