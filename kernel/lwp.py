"""LWP system calls: lwp_* (private, NetBSD style), clone threads, affinity, lwpinfo.

An LWP is a user execution context (registers, user stack, signal mask) of a process,
bound to exactly one kernel thread; see docs/threads.md. Semantics are in docs/abi.md.
"""
import struct

from . import arch, params
from .arch import i32, sx
from .errno import EDEADLK, EINTR, EINVAL, ESRCH, ETIMEDOUT, SysError
from .thread import INTERRUPTED, RUNNABLE, RUNNING, SLEEPING, ZOMBIE
from .vm import PROT_W, PROT_X

LWP_DETACHED = 1
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_VFORK = 0x100, 0x200, 0x400, 0x800, 0x4000
CLONE_THREAD, CLONE_SYSVSEM, CLONE_SETTLS = 0x10000, 0x40000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x400000, 0x1000000
THREAD_FLAGS = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD
CLONE_KNOWN = (THREAD_FLAGS | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID
               | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)


def _spawn(k, t, regs, detached=False):
    nt = k.procs.new_lwp(t.proc, regs, like=t)
    nt.detached = detached
    k.sched.make_runnable(nt)
    if k.events is not None:
        k.event("lwp_create", t, lwp=nt.tid)
    return nt


def sys_lwp_create(k, t, entry, arg, stack_top, flags):
    flags = i32(flags)
    a = t.proc.aspace
    if flags & ~LWP_DETACHED or stack_top % 16 or not params.USER_MIN < stack_top <= params.USER_TOP:
        raise SysError(EINVAL)
    r = a.find(entry)
    if r is None or not r.prot & PROT_X:
        raise SysError(EINVAL)
    regs = arch.context(pc=entry, sp=stack_top)
    regs[arch.A0] = arg
    return _spawn(k, t, regs, bool(flags & LWP_DETACHED)).tid


def clone_thread(k, t, flags, stack, ptid, tls, ctid):
    """clone as musl's pthread_create calls it: a new LWP returning 0 on `stack`."""
    if flags & THREAD_FLAGS != THREAD_FLAGS or flags & ~(CLONE_KNOWN | 0xFF):
        raise SysError(EINVAL)
    a = t.proc.aspace
    if flags & CLONE_PARENT_SETTID:
        a.check(ptid, 4, PROT_W)
    regs = k.sched.regs(t)
    regs[arch.SYSCALL_RET] = 0
    if stack:
        regs[arch.SP] = stack
    if flags & CLONE_SETTLS:
        regs[arch.TP] = tls
    nt = _spawn(k, t, regs)
    if flags & CLONE_CHILD_CLEARTID:
        nt.clear_tid = ctid
    if flags & CLONE_PARENT_SETTID:
        a.copyout(ptid, struct.pack("<i", nt.tid))
    if flags & CLONE_CHILD_SETTID:
        a.copyout(ctid, struct.pack("<i", nt.tid))
    return nt.tid


def sys_lwp_exit(k, t):
    k.procs.exit_lwp(t, 0)


def sys_lwp_self(k, t):
    return t.tid


def _lwp(t, lwpid):
    for x in t.proc.threads:
        if x.tid == lwpid:
            return x
    raise SysError(ESRCH)


def sys_lwp_park(k, t, timeout):
    timeout = sx(timeout)
    if t.park_token:
        t.park_token = False
        return 0
    deadline = None if timeout < 0 else k.sched.now() + timeout
    why = k.sched.sleep_timed(("park", t), deadline)
    if t.park_token:                          # unparked, possibly racing a timeout
        t.park_token = False
        return 0
    if why == INTERRUPTED:
        raise SysError(EINTR)
    raise SysError(ETIMEDOUT)


def sys_lwp_unpark(k, t, lwpid):
    target = _lwp(t, i32(lwpid))
    target.park_token = True
    k.sched.wakeup(("park", target))
    return 0


def sys_lwp_wait(k, t, lwpid):
    lwpid = i32(lwpid)
    p = t.proc
    if lwpid == t.tid:
        raise SysError(EDEADLK)
    while True:
        if lwpid == 0 and p.lwp_zombies:
            done = next(iter(p.lwp_zombies))
        elif lwpid in p.lwp_zombies:
            done = lwpid
        else:
            waitable = [x for x in p.threads if not x.detached and x is not t]
            if lwpid == 0 and not waitable or lwpid != 0 and all(x.tid != lwpid for x in waitable):
                raise SysError(ESRCH)
            if not k.sched.sleep(("lwp_wait", p)):
                raise SysError(EINTR)
            continue
        del p.lwp_zombies[done]
        k.charge(k.cost.LWP_WAIT)
        return done


def _target(k, t, tid):
    tid = i32(tid)
    if tid == 0:
        return t
    x = k.sched.threads.get(tid)
    if x is None or x.proc is None:
        raise SysError(ESRCH)
    return x


def sys_sched_setaffinity(k, t, tid, size, mask):
    x = _target(k, t, tid)
    if size == 0:
        raise SysError(EINVAL)
    raw = t.proc.aspace.copyin(mask, min(size, 8))
    bits = int.from_bytes(raw, "little") & ((1 << len(k.sched.cpus)) - 1)
    if not bits:
        raise SysError(EINVAL)
    x.affinity = bits
    k.sched.requeue(x)
    return 0


def sys_sched_getaffinity(k, t, tid, size, mask):
    x = _target(k, t, tid)
    if size < 8 or size % 8:
        raise SysError(EINVAL)
    t.proc.aspace.copyout(mask, (x.affinity & ((1 << len(k.sched.cpus)) - 1)).to_bytes(8, "little"))
    return 8


# LAB syscall BEGIN: the kernel's half of lwpcount(pid)
def sys_lwpcount(k, t, pid):
    """The live LWPs of process pid (0: the caller's): what the kernel sees of its threads."""
    pid = i32(pid)
    if pid < 0:
        raise SysError(EINVAL)
    p = t.proc if pid == 0 else k.procs.procs.get(pid)
    if p is None:
        raise SysError(ESRCH)
    return len(p.threads)
# LAB syscall END


def sys_lwpinfo(k, t, buf, n):
    n = i32(n)
    if n < 0:
        raise SysError(EINVAL)
    rows = []
    for p in k.procs.procs.values():
        for x in p.threads + list(p.lwp_zombies.values()):
            rows.append((p.pid, x, 0))
    rows += [(0, x, 1) for x in k.kthreads if x.state is not ZOMBIE]     # finished daemons are gone
    recs = []
    for pid, x, kernel in rows[:n]:
        state = {RUNNING: "R", RUNNABLE: "r", SLEEPING: "S"}.get(x.state, "Z")
        hart = x.cpu.hid if x.state is RUNNING else -1
        recs.append(struct.pack("<6iq16s", pid, x.tid, ord(state), hart, kernel, 0, x.cputime,
                                x.name.encode()[:15]))
    t.proc.aspace.copyout(buf, b"".join(recs))
    return len(recs)

