"""Traps from user mode: syscalls, page faults, illegal instructions, breakpoints.

lwp_body is the kernel half of every LWP: its greenlet starts at the thread's first trap
and loops trap -> handle -> back to user. Each trap ends in usertrapret, which delivers
pending signals. A user program's mistake becomes a signal here, never a Python exception.
"""
from . import arch
from .kalloc import OutOfMemory
from .sa import BLOCKED
from .signal import SIGBUS, SIGILL, SIGKILL, SIGSEGV, SIGTRAP
from .vm import PROT_R, PROT_W, PROT_X, PageInError

_ACCESS = {arch.INSN_PAGE_FAULT: PROT_X, arch.LOAD_PAGE_FAULT: PROT_R, arch.STORE_PAGE_FAULT: PROT_W}
_ACCESS_NAMES = {arch.INSN_PAGE_FAULT: "exec", arch.LOAD_PAGE_FAULT: "read", arch.STORE_PAGE_FAULT: "write"}
_FAULT_SIGNALS = {arch.ILLEGAL_INSN: SIGILL, arch.BREAKPOINT: SIGTRAP,
                  arch.LOAD_MISALIGNED: SIGBUS,        # only atomics: Linux emulates plain accesses
                  arch.STORE_MISALIGNED: SIGBUS}


def fault_signal(cause: int) -> int:
    """The signal a trap of this cause sends when the kernel cannot resolve it."""
    return _FAULT_SIGNALS.get(cause, SIGSEGV)


class Traps:
    def __init__(self, kernel):
        self.k = kernel
        # wx_faults: W^X mode switches (vm.py), an emulator artifact kept out of page_faults
        self.stats = {"syscalls": 0, "page_faults": 0, "traps": 0, "wx_faults": 0}

    def lwp_body(self, t, trap) -> None:
        """Runs in t's greenlet from its first trap on; returns only through ThreadExit."""
        sched = self.k.sched
        while True:
            self.usertrap(t, trap)
            self.usertrapret(t)
            trap = sched.to_user()

    def usertrap(self, t, trap) -> None:
        self.stats["traps"] += 1
        cause = trap.cause
        if self.k.events is not None and cause != arch.SYSCALL and cause != arch.SIGNAL:
            self.k.event("trap", t, cause=cause, epc=trap.epc, tval=trap.tval)
        if cause == arch.SIGNAL:
            return
        if cause == arch.SYSCALL:
            self.stats["syscalls"] += 1
            self.k.syscalls.dispatch(t)
        elif cause in _ACCESS:
            self.stats["page_faults"] += 1
            self.page_fault(t, trap)
        else:
            self.fatal(t, trap, fault_signal(cause))

    def page_fault(self, t, trap) -> None:
        p = t.proc
        try:
            ok = p.aspace.fault(trap.tval, _ACCESS[trap.cause])
            if self.k.events is not None:
                self.k.event("pagefault", t, addr=trap.tval, access=_ACCESS_NAMES[trap.cause], ok=ok)
            if ok:
                return
        except OutOfMemory:
            self.k.log(f"pid {p.pid} ({p.name}): out of memory at address {trap.tval:#x}")
            self.k.signals.force(t, SIGKILL)
            return
        except PageInError as e:
            self.k.log(f"pid {p.pid} ({p.name}): cannot read the page at {trap.tval:#x} from its file: {e}")
            self.fatal(t, trap, SIGBUS)
            return
        self.fatal(t, trap, SIGSEGV)

    def fatal(self, t, trap, sig) -> None:
        t.fault = (trap.cause, trap.epc, trap.tval)
        self.k.signals.force(t, sig)

    def usertrapret(self, t) -> None:
        p = t.proc
        if t.act is not None:
            self.k.sa.on_return(t)
        if p.sig.pending or t.sigpending or p.sig.stopped or t.restart is not None or t.saved_mask is not None:
            self.k.signals.deliver(t)
            if t.act is not None and t.act.state is BLOCKED:
                self.k.sa.on_return(t)          # it slept taking a signal (its frame's page came
                                                # from the disk): UNBLOCKED, it ends
