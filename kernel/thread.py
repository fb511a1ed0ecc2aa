"""A kernel thread (Thread) and its state machine.

Every runnable thing is a Thread with its own kernel stack (a greenlet, sched.py). A thread
with a user context is an LWP of a process; a pure kernel thread (a daemon) has none.

States and the only transitions allowed (Scheduler.set_state makes every change, and
raises KernelPanic on any other):

    NEW ------make_runnable-----> RUNNABLE <----make_runnable (yield, preempt, migrate)--+
                                   |   ^                                                  |
                   _switch_in      |   |  wakeup, timeout, signal                         |
                                   v   |                                                  |
                                 RUNNING ---sleep---> SLEEPING                            |
                                   |  +--------------------------------------------------+
                                   v
    ZOMBIE <--- exit (from RUNNING), or kill_thread (from RUNNABLE, RUNNING or SLEEPING)

NEW: created, on no queue yet. RUNNABLE: on exactly one hart's run queue. RUNNING: the
current thread of one hart (t.cpu), in user or kernel mode (t.mode). SLEEPING: on one
sleep channel (t.chan), on no queue. ZOMBIE: gone from the scheduler; its kernel stack waits
for the reaper.
"""
import enum

from . import params
from .panic import KernelPanic


class ThreadState(enum.StrEnum):
    NEW = "new"
    RUNNABLE = "runnable"
    RUNNING = "running"
    SLEEPING = "sleeping"
    ZOMBIE = "zombie"


NEW, RUNNABLE, RUNNING, SLEEPING, ZOMBIE = (ThreadState.NEW, ThreadState.RUNNABLE, ThreadState.RUNNING,
                                            ThreadState.SLEEPING, ThreadState.ZOMBIE)
TRANSITIONS = {
    NEW: frozenset({RUNNABLE}),
    RUNNABLE: frozenset({RUNNING, ZOMBIE}),
    RUNNING: frozenset({RUNNABLE, SLEEPING, ZOMBIE}),
    SLEEPING: frozenset({RUNNABLE, ZOMBIE}),
    ZOMBIE: frozenset(),
}
USER, KERNEL = "user", "kernel"                 # t.mode: where a RUNNING thread's hart is


class WakeReason(enum.StrEnum):
    """Why a sleep ended (Scheduler.sleep_timed's result, the wakeup event's reason)."""
    WOKEN = "woken"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"


WOKEN, TIMEOUT, INTERRUPTED = WakeReason.WOKEN, WakeReason.TIMEOUT, WakeReason.INTERRUPTED


class Thread:
    # Slots: the trap path reads a thread's fields often, and a dict of more than 30 keys
    # would make each read a full lookup.
    __slots__ = ("tid", "name", "proc", "body", "glet", "idle", "_state", "mode", "ctx", "live",
                 "chan", "interruptible", "wake_reason", "ready_at", "left_at", "cpu", "cputime",
                 "vtime", "utime", "stime", "affinity", "sigmask", "sigpending", "altstack", "restart",
                 "saved_mask", "fault", "siginfo", "sigwait", "park_token", "clear_tid", "detached", "exited", "act")

    def __init__(self, tid, name, proc, body, idle=False):
        self.tid = tid
        self.name = name
        self.proc = proc                  # None for a pure kernel thread
        self.body = body                  # fn(thread, first_switch_value)
        self.glet = None
        self.idle = idle                  # runs only when a hart has nothing else
        self._state = NEW
        self.mode = USER if proc is not None else KERNEL
        self.ctx = None                   # saved user registers (arch.NREGS of them) or None
        self.live = None                  # Cpu whose hart holds this thread's registers
        self.chan = None
        self.interruptible = False
        self.wake_reason = WOKEN
        self.ready_at = 0
        self.left_at = 0                  # hart time when it last left a hart
        self.cpu = None                   # Cpu it runs on (RUNNING) or last ran on
        self.cputime = 0                  # user time and kernel time after a sleep (lwpinfo, CPUTIME clocks)
        self.utime = self.stime = 0       # user and kernel time, every stretch (times, getrusage, /proc)
        self.vtime = 0                    # a pure kernel thread's count for the policy (policy.py)
        self.affinity = (1 << params.MAX_HARTS) - 1
        self.sigmask = 0                  # blocked signals, bit sig-1 (an LWP's own mask)
        self.sigpending = 0               # signals sent to this LWP only (tgkill, faults)
        self.siginfo = {}                 # sig -> siginfo of each pending instance, oldest first (signal.py)
        self.sigwait = 0                  # signals it waits for in rt_sigtimedwait (taken though blocked)
        self.altstack = (0, 2, 0)         # sigaltstack (sp, flags, size); 2 = SS_DISABLE
        self.restart = None               # (a0, epc) of a syscall interrupted with EINTR
        self.saved_mask = None            # mask to restore after rt_sigsuspend's handler
        self.fault = None                 # (cause, pc, addr) of the fault that killed it
        self.park_token = False           # an lwp_unpark that arrived before lwp_park
        self.clear_tid = 0                # user address zeroed and futex-woken at exit
        self.detached = False
        self.exited = False
        self.act = None                   # sa.Activation while it is a scheduler activation

    @property
    def state(self) -> ThreadState:
        """Read-only: Scheduler.set_state changes it."""
        return self._state

    @property
    def group(self):
        """What the two-level policy is fair between: the process, or the kernel thread."""
        return self.proc if self.proc is not None else self


def set_state(t: Thread, new: ThreadState) -> None:
    """The one place a thread's state changes; KernelPanic on a transition not in TRANSITIONS.
    Called by the scheduler's functions only (sched.py)."""
    if new not in TRANSITIONS[t._state]:
        raise KernelPanic(f"thread {t.tid} ({t.name}): illegal state change {t._state} -> {new}")
    t._state = new
