"""Futexes: wait queues keyed by a 32-bit word of user memory (Linux's futex(2): WAIT, WAKE,
REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET and WAKE_BITSET; docs/abi.md).

A queue is keyed by (address space, user address), as FUTEX_PRIVATE_FLAG asks and as
threads of one process need; without the flag a word in shared memory (MAP_SHARED, shm.py)
is keyed by (shared object, offset in it), so processes sharing it meet on one queue, as
Linux's shared futexes do (process-shared mutexes and condition variables). Each queue holds its
waiters oldest first; a waiter sleeps on a channel of its own, and `where` maps it to the
key of the queue it is in now (a requeue moves it), with its bitset. It leaves its queue
when it wakes for any reason (a wake, a timeout, a signal, or its process dying), so the
queues hold exactly the threads in a futex wait. "Check the word, then sleep" needs no
lock: a kernel path runs atomically up to its sleep (sched.py), so no wake can slip in
between; for the same reason WAKE_OP's read-modify-write of the second word is atomic.
"""
import struct

from . import params
from .arch import PAGE_SIZE, i32
from .errno import EAGAIN, EINTR, EINVAL, ENOSYS, ETIMEDOUT, SysError
from .sysproc import read_timespec
from .thread import INTERRUPTED, TIMEOUT
from .vm import PROT_R, Fault

FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 3, 4, 5
FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 9, 10
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
MATCH_ANY = 0xFFFFFFFF                    # FUTEX_BITSET_MATCH_ANY: the bitset of WAIT and WAKE
FUTEX_OP_OPARG_SHIFT = 8                  # WAKE_OP: the operand is 1 << oparg

# WAKE_OP's operations on the old value (oparg) and its comparisons (cmparg), by number
WAKE_OPS = (lambda old, arg: arg, lambda old, arg: old + arg, lambda old, arg: old | arg,
            lambda old, arg: old & ~arg, lambda old, arg: old ^ arg)
WAKE_CMPS = (lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b,
             lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b)


class Futex:
    def __init__(self, kernel):
        self.k = kernel
        self.queues = {}                  # (AddressSpace, uaddr) -> [Thread], oldest first
        self.where = {}                   # Thread in a futex wait -> [its key now, its bitset]

    def wait(self, t, key, deadline, bitset: int = MATCH_ANY):
        """Sleep until a wake matching bitset on key (or on the key a requeue moved t to), the
        virtual-time deadline (or None) or a signal: WOKEN, TIMEOUT or INTERRUPTED."""
        self.queues.setdefault(key, []).append(t)
        self.where[t] = [key, bitset]
        try:
            return self.k.sched.sleep_timed(("futex", t), deadline)
        finally:                          # also when t's process dies in its sleep
            self._leave(t)

    def _leave(self, t) -> None:
        if t not in self.where:
            return
        key = self.where.pop(t)[0]
        q = self.queues[key]
        q.remove(t)
        if not q:
            del self.queues[key]

    def wake(self, key, n: int, bitset: int = MATCH_ANY) -> int:
        """Wake up to n waiters on key whose bitset meets bitset, oldest first; how many woke
        (a waiter that already woke otherwise leaves the queue and is not counted)."""
        woken = 0
        for t in list(self.queues.get(key, ())):
            if woken >= n:
                break
            if self.where[t][1] & bitset:
                self._leave(t)
                woken += self.k.sched.wakeup(("futex", t))
        return woken

    def requeue(self, key, nwake: int, key2, nmove: int) -> int:
        """Wake up to nwake waiters on key, then move up to nmove more, oldest first, to the
        end of key2's queue (onto the same key they stay where they are); Linux's count:
        the waiters woken plus those moved."""
        woken = self.wake(key, nwake)
        moved = 0
        for t in list(self.queues.get(key, ()))[:nmove]:
            if key2 != key:
                bitset = self.where[t][1]
                self._leave(t)
                self.queues.setdefault(key2, []).append(t)
                self.where[t] = [key2, bitset]
            moved += 1
        return woken + moved


def futex_key(a, uaddr: int, private: bool):
    """The queue key of the word at uaddr, after Linux's get_futex_key checks: EINVAL for a
    misaligned word, EFAULT outside user space, and without FUTEX_PRIVATE_FLAG EFAULT for an
    unmapped word (Linux looks its page up; a private key is the address alone)."""
    if uaddr % 4:
        raise SysError(EINVAL)
    if uaddr + 4 > params.USER_TOP:
        raise Fault(uaddr)
    if not private:
        a.check(uaddr, 4, PROT_R)
        r = a.find(uaddr)
        if r.backing is not None and r.backing.shared:
            return r.backing.obj, r.backing.index(uaddr) * PAGE_SIZE + uaddr % PAGE_SIZE
    return a, uaddr


def read_word(a, uaddr: int) -> int:
    return struct.unpack("<I", a.copyin(uaddr, 4))[0]


def wake_op(a, uaddr2: int, encoded: int) -> bool:
    """WAKE_OP's atomic step: *uaddr2 = op(old, oparg); whether old compares true with
    cmparg. Both arguments are signed 12-bit fields; an unknown op (nothing written) or
    comparison (after the write) is ENOSYS, as in Linux."""
    op, cmp = (encoded >> 28) & 7, (encoded >> 24) & 15
    oparg = ((encoded >> 12) & 0xFFF) - (((encoded >> 12) & 0x800) << 1)
    cmparg = (encoded & 0xFFF) - ((encoded & 0x800) << 1)
    if encoded & (FUTEX_OP_OPARG_SHIFT << 28):
        oparg = 1 << (oparg & 31)
    if op >= len(WAKE_OPS):
        raise SysError(ENOSYS)
    old = i32(read_word(a, uaddr2))
    a.copyout(uaddr2, struct.pack("<I", WAKE_OPS[op](old, oparg) & 0xFFFFFFFF))
    if cmp >= len(WAKE_CMPS):
        raise SysError(ENOSYS)
    return WAKE_CMPS[cmp](old, cmparg)


def futex_deadline(k, a, cmd: int, op: int, timeout: int):
    """The virtual-time deadline of a wait: FUTEX_WAIT's timeout is relative, FUTEX_WAIT_BITSET's
    absolute on CLOCK_MONOTONIC (CLOCK_REALTIME with FUTEX_CLOCK_REALTIME); None without one."""
    if not timeout or cmd not in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        return None
    when = read_timespec(a, timeout)
    if cmd == FUTEX_WAIT:
        return k.sched.now() + when
    if op & FUTEX_CLOCK_REALTIME:
        when -= k.boot_realtime
    return max(when, k.sched.now())


def sys_futex(k, t, uaddr, op, val, timeout, uaddr2, val3):
    """Checked in Linux's order: the timeout first (for the waits), then the op
    (FUTEX_CLOCK_REALTIME only with FUTEX_WAIT_BITSET, PI and unknown ops: ENOSYS), then the
    counts and bitsets (EINVAL), then the keys (futex_key), then the words. For the
    requeues and WAKE_OP the timeout argument is the second count. A count <= 0 wakes one
    in WAKE and WAKE_OP, as Linux's loops do; REQUEUE's counts are exact (negative: EINVAL)."""
    op = i32(op)
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    private = bool(op & FUTEX_PRIVATE_FLAG)
    a = t.proc.aspace
    deadline = futex_deadline(k, a, cmd, op, timeout)
    if op & FUTEX_CLOCK_REALTIME and cmd != FUTEX_WAIT_BITSET:
        raise SysError(ENOSYS)
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        bitset = MATCH_ANY if cmd == FUTEX_WAIT else val3 & 0xFFFFFFFF
        if not bitset:
            raise SysError(EINVAL)
        key = futex_key(a, uaddr, private)
        k.charge(k.cost.FUTEX_WAIT)
        if read_word(a, uaddr) != val & 0xFFFFFFFF:
            raise SysError(EAGAIN)
        why = k.futex.wait(t, key, deadline, bitset)
        if why == TIMEOUT:
            raise SysError(ETIMEDOUT)
        if why == INTERRUPTED:
            raise SysError(EINTR)
        return 0
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = MATCH_ANY if cmd == FUTEX_WAKE else val3 & 0xFFFFFFFF
        if not bitset:
            raise SysError(EINVAL)
        key = futex_key(a, uaddr, private)
        k.charge(k.cost.FUTEX_WAKE)
        return k.futex.wake(key, max(1, i32(val)), bitset)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        nwake, nmove = i32(val), i32(timeout)
        if nwake < 0 or nmove < 0:
            raise SysError(EINVAL)
        key, key2 = futex_key(a, uaddr, private), futex_key(a, uaddr2, private)
        k.charge(k.cost.FUTEX_WAKE)
        if cmd == FUTEX_CMP_REQUEUE and read_word(a, uaddr) != val3 & 0xFFFFFFFF:
            raise SysError(EAGAIN)
        return k.futex.requeue(key, nwake, key2, nmove)
    if cmd == FUTEX_WAKE_OP:
        key, key2 = futex_key(a, uaddr, private), futex_key(a, uaddr2, private)
        k.charge(k.cost.FUTEX_WAKE)
        hit = wake_op(a, uaddr2, val3 & 0xFFFFFFFF)
        woken = k.futex.wake(key, max(1, i32(val)))
        if hit:
            woken += k.futex.wake(key2, max(1, i32(timeout)))
        return woken
    raise SysError(ENOSYS)
