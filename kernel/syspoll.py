"""ppoll and pselect6: wait until descriptors are ready, the timeout passes, or a signal.

riscv64 Linux has no poll, select or pause call: musl implements all three with these.
Readiness is each open file's poll() (file.py): pipes and the console wait, everything
else is always ready. A waiting call sleeps on its own channel, registered with every
object its files name (poll_queues), whose changes wake it (file.notify); it then checks
all its files again. The timeout is in virtual time, and the remaining time is written
back, as Linux does. A sigmask replaces the caller's mask for the wait and is restored on
return; a signal handled meanwhile ends the call with EINTR, the handler running with the
wait's mask and the old one restored after it (as rt_sigsuspend). The call is not
restarted after a signal (Linux restarts it only when no handler ran).
"""
import struct

from .errno import EBADF, EINTR, EINVAL, SysError
from .file import POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM, fd_limit
from .thread import INTERRUPTED
from .signal import UNBLOCKABLE
from .arch import i32
from .sysproc import NS, read_timespec
from .vm import Fault

POLLIN_SET = POLLIN | POLLRDNORM | POLLHUP | POLLERR          # what select counts as readable
POLLOUT_SET = POLLOUT | POLLWRNORM | POLLERR                   # ... as writable
POLLEX_SET = POLLPRI                                           # ... as an exception


def _deadline(k, t, tsp):
    """Virtual time the wait ends at: None for no timeout (NULL)."""
    return None if not tsp else k.sched.now() + read_timespec(t.proc.aspace, tsp)


def _swap_mask(k, t, sigmask, size) -> bool:
    """Install the wait's signal mask (if given); True if the old one must come back."""
    if not sigmask:
        return False
    if size != 8:
        raise SysError(EINVAL)
    (mask,) = struct.unpack("<Q", t.proc.aspace.copyin(sigmask, 8))
    t.saved_mask, t.sigmask = t.sigmask, mask & ~UNBLOCKABLE
    return True


def _wait(k, t, check, files, deadline, swapped) -> list:
    """Loop until check() finds something ready (returns it) or the deadline passes
    (returns what check() gives then); EINTR on a signal."""
    chan = ("poll", t)
    try:
        while True:
            ready = check()
            if ready[0] or (deadline is not None and k.sched.now() >= deadline):
                return ready
            queues = {id(q): q for f in files for q in f.poll_queues()}.values()
            for q in queues:
                q.pollers.add(chan)
            try:
                woke = k.sched.sleep_timed(chan, deadline)
            finally:
                for q in queues:
                    q.pollers.discard(chan)
            if woke == INTERRUPTED:
                swapped = False                       # the signal's delivery restores the mask
                raise SysError(EINTR)
    finally:
        if swapped:
            t.sigmask, t.saved_mask = t.saved_mask, None


def _write_left(k, t, tsp, deadline) -> None:
    if tsp and deadline is not None:
        left = max(0, deadline - k.sched.now())
        try:
            t.proc.aspace.copyout(tsp, struct.pack("<qq", left // NS, left % NS))
        except Fault:                                 # a read-only timeout is left as it is
            pass


def sys_ppoll(k, t, fds_va, nfds, tsp, sigmask, sigsetsize):
    p = t.proc
    if nfds > fd_limit(p):
        raise SysError(EINVAL)
    raw = p.aspace.copyin(fds_va, 8 * nfds) if nfds else b""
    polls = [struct.unpack_from("<ihh", raw, 8 * i) for i in range(nfds)]
    deadline = _deadline(k, t, tsp)
    swapped = _swap_mask(k, t, sigmask, sigsetsize)
    files = [p.files[fd] for fd, _, _ in polls if 0 <= fd < len(p.files) and p.files[fd] is not None]

    def check():
        out = []
        for fd, events, _ in polls:
            if fd < 0:
                out.append(0)
            elif fd >= len(p.files) or p.files[fd] is None:
                out.append(POLLNVAL)
            else:
                out.append(p.files[fd].poll() & ((events & 0xFFFF) | POLLERR | POLLHUP))
        return [sum(1 for r in out if r), out]

    count, revents = _wait(k, t, check, files, deadline, swapped)
    if nfds:
        p.aspace.copyout(fds_va, b"".join(struct.pack("<ihh", fd, ev, r) for (fd, ev, _), r in zip(polls, revents)))
    _write_left(k, t, tsp, deadline)
    return count


def sys_pselect6(k, t, nfds, rd, wr, ex, tsp, sig):
    """select on riscv64: fd_sets of nfds bits (descriptors past the table are ignored, as
    Linux ignores those past its table); a closed descriptor in a set is EBADF. sig points
    at {const sigset_t *mask; size_t size}."""
    p = t.proc
    nfds = i32(nfds)
    if nfds < 0:
        raise SysError(EINVAL)
    nfds = min(nfds, len(p.files))
    nbytes = (nfds + 63) // 64 * 8
    sets = [p.aspace.copyin(va, nbytes) if va and nbytes else bytes(nbytes) for va in (rd, wr, ex)]
    wanted = [[fd for fd in range(nfds) if s[fd // 8] >> (fd % 8) & 1] for s in sets]
    for fd in set(wanted[0] + wanted[1] + wanted[2]):
        if p.files[fd] is None:
            raise SysError(EBADF)
    mask_va = size = 0
    if sig:
        mask_va, size = struct.unpack("<QQ", p.aspace.copyin(sig, 16))
    deadline = _deadline(k, t, tsp)
    swapped = _swap_mask(k, t, mask_va, size)
    files = [p.files[fd] for fd in set(wanted[0] + wanted[1] + wanted[2])]

    def check():
        out = []
        for which, bits in zip(wanted, (POLLIN_SET, POLLOUT_SET, POLLEX_SET)):
            out.append([fd for fd in which if p.files[fd].poll() & bits])
        return [sum(len(x) for x in out), out]

    count, ready = _wait(k, t, check, files, deadline, swapped)
    for va, fds in zip((rd, wr, ex), ready):
        if va and nbytes:
            s = bytearray(nbytes)
            for fd in fds:
                s[fd // 8] |= 1 << (fd % 8)
            p.aspace.copyout(va, bytes(s))
    _write_left(k, t, tsp, deadline)
    return count

