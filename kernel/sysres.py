"""Identity, limits and small process calls: user and group ids, supplementary groups,
resource limits, prctl names, nice values, the scheduling-policy queries (every process is
SCHED_OTHER), membarrier, getrandom.

One user: every process is root, uid and gid 0 (real, effective, saved, file system).
The set*id calls accept 0 and -1 ("unchanged"); any other id is EPERM, since the kernel has
no other user to become (Linux lets root become anyone). Supplementary groups are kept as
set. Resource limits are kept per process, inherited by fork and kept by exec; only
RLIMIT_NOFILE is enforced (EMFILE past it), the others are reported as the kernel's limits
(params.py) and stored when changed.
"""
import struct

from . import params
from .errno import EFAULT, EINVAL, EPERM, ESRCH, SysError
from .proc import RLIM_NLIMITS, RLIMIT_NOFILE, ZOMBIE
from .arch import i32
from .vm import PROT_W

NO_ID = 0xFFFFFFFF                    # (uid_t)-1: leave this id unchanged
PR_SET_NAME, PR_GET_NAME = 15, 16
PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2
SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE = 0, 1, 2, 3, 5, 6
MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED = 0, 1, 2
MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 4, 8
MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16
MEMBARRIER_SUPPORTED = 1 | 2 | 4 | 8 | 16
GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE = 1, 2, 4
MAX_RANDOM = 1 << 20                  # bytes one getrandom returns at most, as one read() (Linux: 32 MiB)


# ---- ids ----
def _ids(*ids) -> int:
    for i in ids:
        if i & NO_ID not in (0, NO_ID):
            raise SysError(EPERM)
    return 0


def sys_setuid(k, t, uid):
    if uid & NO_ID == NO_ID:
        raise SysError(EINVAL)
    return _ids(uid)


def sys_setreuid(k, t, ruid, euid):
    return _ids(ruid, euid)


def sys_setresuid(k, t, ruid, euid, suid):
    return _ids(ruid, euid, suid)


def sys_setfsuid(k, t, fsuid):
    return 0                          # the previous fsuid, whether or not it changes


def sys_getresuid(k, t, r, e, s):
    a = t.proc.aspace
    for va in (r, e, s):
        a.copyout(va, struct.pack("<I", 0))
    return 0


def sys_getgroups(k, t, size, va):
    size = i32(size)
    groups = t.proc.groups
    if size < 0 or (size and size < len(groups)):
        raise SysError(EINVAL)
    if size:
        t.proc.aspace.copyout(va, struct.pack(f"<{len(groups)}I", *groups))
    return len(groups)


def sys_setgroups(k, t, size, va):
    size = i32(size)
    if not 0 <= size <= params.NGROUPS_MAX:
        raise SysError(EINVAL)
    raw = t.proc.aspace.copyin(va, 4 * size) if size else b""
    t.proc.groups = tuple(sorted(set(struct.unpack(f"<{size}I", raw))))
    return 0


# ---- resource limits ----
def _target(k, t, pid: int):
    if pid == 0 or pid == t.proc.pid:
        return t.proc
    p = k.procs.procs.get(pid)
    if p is None or p.state == ZOMBIE:
        raise SysError(ESRCH)
    return p


def sys_prlimit64(k, t, pid, resource, new, old):
    """prlimit64(pid, resource, new, old): struct rlimit64 (two u64, RLIM_INFINITY = ~0).
    soft > hard is EINVAL; RLIMIT_NOFILE above the descriptor table (params.NOFILE) is
    EPERM, as Linux's nr_open."""
    resource = i32(resource)
    p = _target(k, t, i32(pid))
    if not 0 <= resource < RLIM_NLIMITS:
        raise SysError(EINVAL)
    a = t.proc.aspace
    if old:
        a.check(old, 16, PROT_W)
    cur = p.rlimits[resource]
    was = tuple(cur)
    if new:
        soft, hard = struct.unpack("<QQ", a.copyin(new, 16))
        if soft > hard:
            raise SysError(EINVAL)
        if resource == RLIMIT_NOFILE and hard > params.NOFILE:
            raise SysError(EPERM)
        cur[:] = [soft, hard]
    if old:
        a.copyout(old, struct.pack("<QQ", *was))
    return 0


def sys_getrlimit(k, t, resource, va):
    if not va:
        raise SysError(EFAULT)
    return sys_prlimit64(k, t, 0, resource, 0, va)


def sys_setrlimit(k, t, resource, va):
    if not va:
        raise SysError(EFAULT)
    return sys_prlimit64(k, t, 0, resource, va, 0)


# ---- prctl, priorities ----
def sys_prctl(k, t, option, arg2, arg3, arg4, arg5):
    """PR_SET_NAME / PR_GET_NAME (the calling LWP's name, 15 bytes and a NUL; the first
    LWP's is the process's); every other option is EINVAL."""
    option = i32(option)
    a = t.proc.aspace
    if option == PR_SET_NAME:
        name = a.copyinstr(arg2, 16)
        if name is None:
            name = a.copyin(arg2, 15)
        t.name = name[:15].decode("utf-8", "replace")
        if t.tid == t.proc.pid:
            t.proc.name = t.name
        return 0
    if option == PR_GET_NAME:
        a.copyout(arg2, t.name.encode()[:15].ljust(16, b"\0"))
        return 0
    raise SysError(EINVAL)


def _prio_targets(k, t, which: int, who: int) -> list:
    procs = [p for p in k.procs.procs.values() if p.state != ZOMBIE]
    if which == PRIO_PROCESS:
        x = k.sched.threads.get(who) if who else t
        return [x.proc] if x is not None and x.proc is not None else []
    if which == PRIO_PGRP:
        return [p for p in procs if p.pgid == (who or t.proc.pgid)]
    if which == PRIO_USER:
        return procs if who == 0 else []
    raise SysError(EINVAL)


def sys_setpriority(k, t, which, who, prio):
    """Stores the nice value (clamped to -20..19) of the processes named; the scheduler does
    not use it (docs/linux.md)."""
    targets = _prio_targets(k, t, i32(which), i32(who))
    if not targets:
        raise SysError(ESRCH)
    for p in targets:
        p.nice = max(-20, min(19, i32(prio)))
    return 0


def sys_getpriority(k, t, which, who):
    """20 - nice of the highest-priority process named (1..40), as the raw Linux call."""
    targets = _prio_targets(k, t, i32(which), i32(who))
    if not targets:
        raise SysError(ESRCH)
    return 20 - min(p.nice for p in targets)


def sys_sched_getscheduler(k, t, pid):
    """Every process is SCHED_OTHER (0): the policy of kernel/policy.py is the machine's."""
    if i32(pid) < 0:
        raise SysError(EINVAL)
    _target(k, t, i32(pid))
    return SCHED_OTHER


def sys_sched_getparam(k, t, pid, param):
    """struct sched_param: priority 0, SCHED_OTHER's only one."""
    if i32(pid) < 0 or not param:
        raise SysError(EINVAL)
    _target(k, t, i32(pid))
    t.proc.aspace.copyout(param, bytes(4))
    return 0


def sys_sched_get_priority_max(k, t, policy):
    return _priority_range(policy)[1]


def sys_sched_get_priority_min(k, t, policy):
    return _priority_range(policy)[0]


def _priority_range(policy):
    """Linux's static priorities: 1-99 for the real-time policies, 0 for the others."""
    policy = i32(policy)
    if policy in (SCHED_FIFO, SCHED_RR):
        return 1, 99
    if policy in (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE):
        return 0, 0
    raise SysError(EINVAL)


# ---- membarrier, getrandom ----
def sys_membarrier(k, t, cmd, flags, cpu_id):
    """The barriers are no-ops that are correct here: harts are interleaved in one host
    thread and each switch between them orders every memory access before it. The private
    expedited barrier still needs its registration (EPERM without), as on Linux."""
    cmd, flags = i32(cmd), i32(flags)
    if flags:
        raise SysError(EINVAL)
    if cmd == MEMBARRIER_CMD_QUERY:
        return MEMBARRIER_SUPPORTED
    if cmd == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
        t.proc.membarrier = True
        return 0
    if cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED:
        if not t.proc.membarrier:
            raise SysError(EPERM)
        return 0
    if cmd in (MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED):
        return 0
    raise SysError(EINVAL)


def sys_getrandom(k, t, buf, count, flags):
    """Bytes from the kernel's seeded generator (deterministic: the same seed gives the same
    bytes); never blocks, so GRND_NONBLOCK and GRND_RANDOM change nothing."""
    flags = i32(flags)
    if flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) or flags & GRND_RANDOM and flags & GRND_INSECURE:
        raise SysError(EINVAL)
    n = min(count, MAX_RANDOM)
    t.proc.aspace.check(buf, n, PROT_W)
    t.proc.aspace.copyout(buf, k.random_bytes(n))
    return n
