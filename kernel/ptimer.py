"""POSIX per-process timers (timer_create, timer_settime, timer_gettime, timer_getoverrun,
timer_delete) on virtual time.

A timer belongs to its process (Proc.ptimers, id -> Timer; ids counted up from 0 and
skipping those in use, as Linux's per-process ids, wrapping at 2^31) and is deleted by exec and exit, not inherited by fork. It
counts CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME, which all advance with virtual
time, so an expiry is a clock event at an exact instant and a run is the same every time.

Notification (struct sigevent): SIGEV_SIGNAL sends its signal to the process, SIGEV_THREAD_ID
to one LWP of it (musl's SIGEV_THREAD timers are a helper thread waiting in sigwaitinfo on
such a timer), SIGEV_NONE nothing. As in Linux each timer has one siginfo of its own
(Note): while it is pending, further expiries only count overruns; the count goes into
si_overrun when the signal is taken and is what timer_getoverrun reports until the next.
"""
import struct

from . import params
from .arch import i32
from .errno import EAGAIN, EINVAL, SysError
from .signal import NSIG, SIGALRM
from .sigframe import SI_TIMER, info_sender
from .sysproc import read_timespec
from .vm import PROT_R

CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME = 0, 1, 7
SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID = 0, 1, 2, 4
TIMER_ABSTIME = 1
DELAYTIMER_MAX = 0x7FFFFFFF
NS = 1_000_000_000


class Note:
    """A timer's own siginfo while it is queued (signal.py's queues hold it as it is and call
    taken() when the signal is taken or discarded)."""

    def __init__(self, timer):
        self.timer = timer
        self.queued = False

    def taken(self) -> bytes:
        tm = self.timer
        self.queued = False
        tm.overrun_last, tm.overrun = min(tm.overrun, DELAYTIMER_MAX), 0
        return info_sender(tm.signo, SI_TIMER, tm.id, tm.overrun_last, tm.value)


class Timer:
    def __init__(self, tid, clock, notify, signo, value, target):
        self.id, self.clock, self.notify, self.signo, self.value = tid, clock, notify, signo, value
        self.target = target              # the LWP of SIGEV_THREAD_ID, else None (the process)
        self.event = None                 # the clock event of the next expiry while armed
        self.deadline = 0                 # virtual time of the next expiry
        self.interval = 0
        self.overrun = 0                  # expiries while its signal was pending
        self.overrun_last = 0             # what timer_getoverrun reports
        self.note = Note(self)


class PosixTimers:
    def __init__(self, kernel):
        self.k = kernel

    def _fire(self, p, tm) -> None:
        if tm.interval:
            tm.deadline += tm.interval
            tm.event = self.k.machine.clock.at(tm.deadline, lambda: self._fire(p, tm))
        else:
            tm.event = None
        if tm.notify == SIGEV_NONE:
            return
        if tm.note.queued:
            tm.overrun += 1
            return
        t = tm.target
        if t is not None and (t.exited or t.proc is not p):
            return                        # its LWP is gone: the signal has no taker
        self.k.signals.post(p, tm.signo, t, tm.note)

    def arm(self, p, tm, deadline: int, interval: int) -> None:
        self.disarm(tm)
        tm.interval = interval
        if deadline:
            tm.deadline = max(deadline, self.k.sched.now())
            tm.event = self.k.machine.clock.at(tm.deadline, lambda: self._fire(p, tm))

    @staticmethod
    def disarm(tm) -> None:
        if tm.event is not None:
            tm.event.cancel()
            tm.event = None

    def delete_all(self, p) -> None:
        """exec and exit: every timer of p goes."""
        for tm in p.ptimers.values():
            self.disarm(tm)
        p.ptimers.clear()


def timer_of(t, timerid: int):
    tm = t.proc.ptimers.get(i32(timerid))
    if tm is None:
        raise SysError(EINVAL)
    return tm


def sys_timer_create(k, t, clock, sevp, idp):
    """Linux's order: the clock, the sigevent (EINVAL for an unknown notify, a bad signal, or
    SIGEV_THREAD_ID naming no LWP of this process), EAGAIN past TIMER_MAX, then the id is
    written. No sigevent: SIGEV_SIGNAL with SIGALRM and the timer id as its value."""
    clock = i32(clock)
    p = t.proc
    a = p.aspace
    if clock not in (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME):
        raise SysError(EINVAL)
    target = None
    if sevp:
        value, signo, notify, tid = struct.unpack("<Qiii", a.copyin(sevp, 20))
        if notify not in (SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID):
            raise SysError(EINVAL)
        if notify == SIGEV_THREAD_ID:
            target = k.sched.threads.get(tid)
            if target is None or target.proc is not p or target.exited:
                raise SysError(EINVAL)
        if notify != SIGEV_NONE and not 1 <= signo <= NSIG:
            raise SysError(EINVAL)
    else:
        value, signo, notify = None, SIGALRM, SIGEV_SIGNAL
    if len(p.ptimers) >= params.TIMER_MAX:
        raise SysError(EAGAIN)
    free = p.ptimer_next
    while free in p.ptimers:
        free = (free + 1) & DELAYTIMER_MAX
    p.ptimer_next = (free + 1) & DELAYTIMER_MAX
    a.copyout(idp, struct.pack("<i", free))
    p.ptimers[free] = Timer(free, clock, notify, signo, free if value is None else value, target)
    return 0


def _current(k, tm) -> bytes:
    left = max(0, tm.deadline - k.sched.now()) if tm.event is not None else 0
    return struct.pack("<qqqq", tm.interval // NS, tm.interval % NS, left // NS, left % NS)


def sys_timer_settime(k, t, timerid, flags, newp, oldp):
    """A zero it_value disarms; with TIMER_ABSTIME it_value is a time of the timer's clock
    (one already past fires at once). Linux's order: no new setting EINVAL, reading it
    EFAULT, a bad timespec EINVAL, then the timer id."""
    if not newp:
        raise SysError(EINVAL)
    a = t.proc.aspace
    a.check(newp, 32, PROT_R)
    interval = read_timespec(a, newp)
    value = read_timespec(a, newp + 16)
    tm = timer_of(t, timerid)
    if oldp:
        a.copyout(oldp, _current(k, tm))
    if value and i32(flags) & TIMER_ABSTIME:
        deadline = value - (k.boot_realtime if tm.clock == CLOCK_REALTIME else 0)
    else:
        deadline = k.sched.now() + value if value else 0
    tm.overrun = 0
    k.ptimers.arm(t.proc, tm, deadline, interval)
    return 0


def sys_timer_gettime(k, t, timerid, curp):
    t.proc.aspace.copyout(curp, _current(k, timer_of(t, timerid)))
    return 0


def sys_timer_getoverrun(k, t, timerid):
    return timer_of(t, timerid).overrun_last


def sys_timer_delete(k, t, timerid):
    tm = timer_of(t, timerid)
    k.ptimers.disarm(tm)
    del t.proc.ptimers[tm.id]
    return 0
