"""Futexes: wait queues keyed by a 32-bit word of user memory (Linux's futex(2), the WAIT and
WAKE operations; docs/abi.md).

A queue is keyed by (address space, user address): every futex is private to its address
space, as FUTEX_PRIVATE_FLAG asks and as threads of one process need (processes share no
writable memory yet). Each queue holds its waiters oldest first; a waiter sleeps on a
channel of its own and leaves the queue when it wakes for any reason (FUTEX_WAKE, a timeout,
a signal, or its process dying), so the queues hold exactly the threads in FUTEX_WAIT.
"Check the word, then sleep" needs no lock: a kernel path runs atomically up to its sleep
(sched.py), so no wake can slip in between.
"""
import struct

from . import params
from .arch import i32
from .errno import EAGAIN, EINTR, EINVAL, ENOSYS, ETIMEDOUT, SysError
from .sysproc import read_timespec
from .thread import INTERRUPTED, TIMEOUT
from .vm import PROT_R, Fault

FUTEX_WAIT, FUTEX_WAKE, FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 0, 1, 128, 256


class Futex:
    def __init__(self, kernel):
        self.k = kernel
        self.queues = {}                  # (AddressSpace, uaddr) -> [Thread], oldest first

    def wait(self, t, uaddr: int, deadline):
        """Sleep until a wake on t's (address space, uaddr), the virtual-time deadline (or
        None) or a signal: WOKEN, TIMEOUT or INTERRUPTED."""
        key = (t.proc.aspace, uaddr)
        q = self.queues.setdefault(key, [])
        q.append(t)
        try:
            return self.k.sched.sleep_timed(("futex", t), deadline)
        finally:                          # also when t's process dies in its sleep
            if t in q:
                q.remove(t)
            if not q and self.queues.get(key) is q:
                del self.queues[key]

    def wake(self, p, uaddr: int, n: int) -> int:
        """Wake up to n waiters on p's (address space, uaddr), oldest first; how many woke."""
        key = (p.aspace, uaddr)
        q = self.queues.get(key)
        woken = 0
        while q and woken < n:
            woken += self.k.sched.wakeup(("futex", q.pop(0)))   # 0 if it already woke otherwise
        if q is not None and not q:
            del self.queues[key]
        return woken


def sys_futex(k, t, uaddr, op, val, timeout, uaddr2, val3):
    """FUTEX_WAIT and FUTEX_WAKE, checked in Linux's order: the timeout first, then the op
    (FUTEX_CLOCK_REALTIME is only for absolute-deadline ops: ENOSYS here), then the key
    (a misaligned address is EINVAL, one outside user space EFAULT). Every futex is private
    to its address space; a wake on an unmapped address is 0 with FUTEX_PRIVATE_FLAG (the
    key is the address alone) and EFAULT without (Linux looks the page up)."""
    op = i32(op)
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    a = t.proc.aspace
    deadline = None
    if cmd == FUTEX_WAIT and timeout:
        deadline = k.sched.now() + read_timespec(a, timeout)
    if op & FUTEX_CLOCK_REALTIME or cmd not in (FUTEX_WAIT, FUTEX_WAKE):
        raise SysError(ENOSYS)
    if uaddr % 4:
        raise SysError(EINVAL)
    if uaddr + 4 > params.USER_TOP:
        raise Fault(uaddr)
    if cmd == FUTEX_WAIT:
        k.charge(k.cost.FUTEX_WAIT)
        word = struct.unpack("<I", a.copyin(uaddr, 4))[0]
        if word != val & 0xFFFFFFFF:
            raise SysError(EAGAIN)
        why = k.futex.wait(t, uaddr, deadline)
        if why == TIMEOUT:
            raise SysError(ETIMEDOUT)
        if why == INTERRUPTED:
            raise SysError(EINTR)
        return 0
    if not op & FUTEX_PRIVATE_FLAG:
        a.check(uaddr, 4, PROT_R)
    k.charge(k.cost.FUTEX_WAKE)
    return k.futex.wake(t.proc, uaddr, max(1, i32(val)))     # Linux wakes one when val <= 0
