"""Interval timers (setitimer/getitimer) on virtual time.

ITIMER_REAL counts virtual wall time and sends SIGALRM (a clock event). ITIMER_VIRTUAL and
ITIMER_PROF count the process's user-mode time and send SIGVTALRM / SIGPROF: the scheduler
calls user_time() after each stretch of user code, and stops a hart's run exactly when the
earliest of them expires (Proc.vtimer is the budget it honours). Kernel time is charged
from the cost table, so PROF counts user time only here (documented in docs/abi.md).
"""
import struct

from .errno import EINVAL, SysError
from .signal import SIGALRM, SIGPROF, SIGVTALRM

ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF = 0, 1, 2
_SIGNAL = {ITIMER_VIRTUAL: SIGVTALRM, ITIMER_PROF: SIGPROF}
US = 1000


def _pack(interval_ns: int, value_ns: int) -> bytes:
    iv, vv = interval_ns // US, value_ns // US
    return struct.pack("<qqqq", iv // 1_000_000, iv % 1_000_000, vv // 1_000_000, vv % 1_000_000)


def _unpack(raw: bytes):
    isec, iusec, vsec, vusec = struct.unpack("<qqqq", raw)
    if min(isec, iusec, vsec, vusec) < 0 or iusec >= 1_000_000 or vusec >= 1_000_000:
        raise SysError(EINVAL)
    return (isec * 1_000_000 + iusec) * US, (vsec * 1_000_000 + vusec) * US


class ITimers:
    def __init__(self, kernel):
        self.k = kernel

    # ---- user-time timers ----
    def user_time(self, t, ran: int) -> None:
        p = t.proc
        for which, timer in list(p.cputimers.items()):
            timer[0] -= ran
            if timer[0] <= 0:
                self.k.signals.post(p, _SIGNAL[which])
                if timer[1]:
                    timer[0] += timer[1]
                    timer[0] = max(timer[0], 1)
                else:
                    del p.cputimers[which]
        self._budget(p)

    def _budget(self, p) -> None:
        p.vtimer = [min(x[0] for x in p.cputimers.values())] if p.cputimers else None

    # ---- the real-time timer ----
    def _fire(self, p) -> None:
        ev, interval, _deadline = p.rtimer
        self.k.signals.post(p, SIGALRM)
        if interval:
            deadline = self.k.machine.clock.now + interval
            p.rtimer = (self.k.machine.clock.at(deadline, lambda: self._fire(p)), interval, deadline)
        else:
            p.rtimer = None

    def cancel(self, p) -> None:
        if p.rtimer is not None:
            p.rtimer[0].cancel()
            p.rtimer = None
        p.cputimers.clear()
        p.vtimer = None

    # ---- the calls ----
    def get(self, p, which: int):
        """(interval_ns, remaining_ns) of timer `which`."""
        if which == ITIMER_REAL:
            if p.rtimer is None:
                return 0, 0
            return p.rtimer[1], max(0, p.rtimer[2] - self.k.sched.now())
        if which in _SIGNAL:
            left, interval = p.cputimers.get(which, (0, 0))
            return interval, max(0, left)
        raise SysError(EINVAL)

    def set(self, p, which: int, interval: int, value: int) -> None:
        if which == ITIMER_REAL:
            if p.rtimer is not None:
                p.rtimer[0].cancel()
                p.rtimer = None
            if value:
                deadline = self.k.sched.now() + value
                p.rtimer = (self.k.machine.clock.at(deadline, lambda: self._fire(p)), interval, deadline)
            return
        if which not in _SIGNAL:
            raise SysError(EINVAL)
        p.cputimers.pop(which, None)
        if value:
            p.cputimers[which] = [value, interval]
        self._budget(p)


def sys_getitimer(k, t, which, cur):
    interval, left = k.itimers.get(t.proc, which & 0xFFFFFFFF)
    t.proc.aspace.copyout(cur, _pack(interval, left))
    return 0


def sys_setitimer(k, t, which, new, old):
    which &= 0xFFFFFFFF
    p = t.proc
    interval, value = _unpack(p.aspace.copyin(new, 32)) if new else (0, 0)
    prev = k.itimers.get(p, which)
    if old:
        p.aspace.copyout(old, _pack(*prev))
    k.itimers.set(p, which, interval, value)
    return 0
