"""Waiting for signals synchronously, and sending them to one LWP or with a siginfo:
rt_sigtimedwait (sigwait, sigwaitinfo, sigtimedwait), tgkill, tkill, rt_sigqueueinfo
(sigqueue) and rt_tgsigqueueinfo.

rt_sigtimedwait takes a pending signal of its set, the LWP's own first, lowest number first
and a real-time signal's instances in the order they were sent. With none pending it
sleeps with the set in t.sigwait: signal.py counts those signals as deliverable to it though
blocked (so post() wakes it for one) and keeps them pending though ignored (SIGCHLD), as
Linux's real_blocked does; no handler runs for a signal it takes.
"""
import struct

from . import params
from .arch import i32
from .errno import EAGAIN, EINTR, EINVAL, EPERM, ESRCH, SysError
from .signal import NSIG, SIGRTMIN_KERNEL, UNBLOCKABLE
from .sigframe import INFO_SIZE, SI_TKILL, info_sender
from .sysproc import read_timespec
from .thread import TIMEOUT


def take_one(k, t, these: int):
    """(sig, siginfo) of the first pending signal of t in the set these, taken; or None."""
    p = t.proc
    for bits in (t.sigpending & these, p.sig.pending & these):
        if bits:
            sig = (bits & -bits).bit_length()
            return sig, k.signals.take(p, t, sig)
    return None


def sys_rt_sigtimedwait(k, t, setp, infop, timeout, size):
    """Linux's order: the set's size, the set, the timeout (a zero one polls: EAGAIN at once
    with nothing pending); EAGAIN when the timeout passes, EINTR when a signal outside the
    set (with a handler, or ignored) wakes it; siginfo written after the signal is taken."""
    if size != 8:
        raise SysError(EINVAL)
    a = t.proc.aspace
    these = struct.unpack("<Q", a.copyin(setp, 8))[0] & ~UNBLOCKABLE
    deadline = k.sched.now() + read_timespec(a, timeout) if timeout else None
    got = take_one(k, t, these)
    if got is None:
        if deadline is not None and deadline <= k.sched.now():
            raise SysError(EAGAIN)
        t.sigwait = these
        try:
            why = k.sched.sleep_timed(("sigwait", t), deadline)
        finally:
            t.sigwait = 0
        got = take_one(k, t, these)
        if got is None:
            raise SysError(EAGAIN if why == TIMEOUT else EINTR)
    sig, info = got
    if infop:
        a.copyout(infop, info)
    return sig


def read_info(a, infop, sig: int) -> bytes:
    info = bytearray(a.copyin(infop, INFO_SIZE))
    struct.pack_into("<i", info, 0, sig)            # si_signo is the call's signal
    return bytes(info)


def check_sender(t, target_tid: int, info: bytes) -> None:
    """Only a process's kernel sends SI_USER, SI_KERNEL or SI_TKILL siginfo to another: EPERM."""
    code = struct.unpack_from("<i", info, 8)[0]
    if (code >= 0 or code == SI_TKILL) and t.tid != target_tid:
        raise SysError(EPERM)


def check_room(k, p, sig: int, per_thread=None) -> None:
    """EAGAIN when a real-time signal already has SIGQUEUE_MAX instances queued."""
    q = (per_thread.siginfo if per_thread is not None else p.sig.info).get(sig, ())
    if sig >= SIGRTMIN_KERNEL and len(q) >= params.SIGQUEUE_MAX:
        raise SysError(EAGAIN)


def sys_rt_sigqueueinfo(k, t, pid, sig, infop):
    pid, sig = i32(pid), i32(sig)
    info = read_info(t.proc.aspace, infop, sig)
    check_sender(t, pid, info)
    target = k.procs.procs.get(pid) if pid > 0 else None
    if target is None:
        raise SysError(ESRCH)
    if not 0 <= sig <= NSIG:
        raise SysError(EINVAL)
    if sig:
        check_room(k, target, sig)
    k.signals.kill(t.proc, pid, sig, info)
    return 0


def sys_rt_tgsigqueueinfo(k, t, tgid, tid, sig, infop):
    tgid, tid, sig = i32(tgid), i32(tid), i32(sig)
    info = read_info(t.proc.aspace, infop, sig)
    if tid <= 0 or tgid <= 0:
        raise SysError(EINVAL)
    check_sender(t, tid, info)
    x = k.sched.threads.get(tid)
    if x is None or x.proc is None or x.proc.pid != tgid or x.exited:
        raise SysError(ESRCH)
    if not 0 <= sig <= NSIG:
        raise SysError(EINVAL)
    if sig:
        check_room(k, x.proc, sig, x)
        k.signals.post(x.proc, sig, x, info)
    return 0


def sys_tgkill(k, t, tgid, tid, sig):
    if i32(tgid) <= 0:
        raise SysError(EINVAL)
    return _tkill(k, t, i32(tgid), tid, sig)


def sys_tkill(k, t, tid, sig):
    return _tkill(k, t, None, tid, sig)


def _tkill(k, t, tgid, tid, sig):
    """Signal LWP tid, of process tgid unless that is None (tkill)."""
    tid, sig = i32(tid), i32(sig)
    x = k.sched.threads.get(tid)
    if tid <= 0 or not 0 <= sig <= NSIG:
        raise SysError(EINVAL)
    if x is None or x.proc is None or (tgid is not None and x.proc.pid != tgid):
        raise SysError(ESRCH)
    if sig:
        k.signals.post(x.proc, sig, x, info_sender(sig, SI_TKILL, t.proc.pid))
    return 0
