"""Process, memory, time and identity system calls (more in systime.py, sysres.py).

Each handler is sys_<name>(k, t, args...) with raw 64-bit register arguments; it returns
the result or raises SysError (or vm.Fault, turned into EFAULT by the dispatcher).
"""
import struct
import time

from . import params
from .arch import i32
from .errno import EINTR, EINVAL, ENOSYS, EPERM, ESRCH, SysError
from .exec import execve
from .lwp import CLONE_THREAD, CLONE_VFORK, CLONE_VM, clone_thread
from .proc import ZOMBIE, rusage_bytes
from .sigframe import CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED
from .signal import SIGCHLD
from .thread import RUNNABLE, RUNNING
from .vm import PROT_R, PROT_W
from .vma import page_up

REALTIME_EPOCH = 1_767_225_600          # virtual wall clock starts at 2026-01-01 00:00 UTC
NS = 1_000_000_000
WNOHANG, WUNTRACED, WCONTINUED, WALL = 1, 2, 8, 0x40000000
WSTOPPED, WEXITED, WNOWAIT = WUNTRACED, 4, 0x01000000
P_ALL, P_PID, P_PGID = 0, 1, 2


def sys_getpid(k, t):
    return t.proc.pid


def sys_getppid(k, t):
    return t.proc.ppid


def sys_gettid(k, t):
    return t.tid


def sys_getuid(k, t):
    return 0


def sys_set_tid_address(k, t, addr):
    t.clear_tid = addr
    return t.tid


def sys_exit(k, t, status):
    """exit(2): this LWP only; the last LWP's status becomes the process's."""
    k.procs.exit_lwp(t, (status & 0xFF) << 8)


def sys_exit_group(k, t, status):
    k.procs.exit(t.proc, (status & 0xFF) << 8)


def sys_clone(k, t, flags, stack, ptid, tls, ctid):
    """fork (SIGCHLD), vfork (CLONE_VFORK, with or without CLONE_VM: musl's vfork, posix_spawn,
    system and popen), or a thread (CLONE_THREAD, lwp.py)."""
    if flags & 0xFF == SIGCHLD and flags >> 8 == 0 and stack == 0:
        return k.procs.fork(t)
    if flags & 0xFF in (0, SIGCHLD) and flags & ~0xFF in (CLONE_VFORK, CLONE_VFORK | CLONE_VM):
        return k.procs.fork(t, vfork=True, share_vm=bool(flags & CLONE_VM), stack=stack)
    if flags & CLONE_THREAD:
        return clone_thread(k, t, flags, stack, ptid, tls, ctid)
    k.log(f"pid {t.proc.pid} ({t.proc.name}): clone flags {flags:#x} not supported")
    raise SysError(ENOSYS if flags & CLONE_VM else EINVAL)


def sys_execve(k, t, path, argv, envp):
    execve(k, t, path, argv, envp)
    return None                        # the new image's registers are already set


def sys_wait4(k, t, pid, wstatus, options, rusage):
    pid, options = i32(pid), i32(options)
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | WALL):
        raise SysError(EINVAL)
    p = t.proc
    reaped = []
    cpid, status = k.procs.wait(p, pid, options, reaped)   # reaped even if the copies below fault (Linux)
    if cpid and wstatus:
        p.aspace.copyout(wstatus, struct.pack("<i", status))
    if cpid and rusage:
        c = reaped[0] if reaped else None                 # (none for a stop report)
        times = (c.utime + c.cutime, c.stime + c.cstime) if c else (0, 0)
        p.aspace.copyout(rusage, rusage_bytes(*times))
    return cpid


def sys_waitid(k, t, idtype, id_, infop, options, rusage):
    """wait4's search (P_ALL, P_PID, P_PGID with 0 for the caller's group) reported as
    Linux's waitid reports it: si_signo SIGCHLD, si_code CLD_EXITED, CLD_KILLED, CLD_DUMPED
    or CLD_STOPPED, si_pid, si_uid, si_status; with WNOHANG and nothing to report, 0 and
    those fields zero. WNOWAIT leaves the child waitable. Continues are not reported (as
    wait4's WCONTINUED); P_PIDFD is EINVAL (no pidfds)."""
    idtype, id_, options = i32(idtype), i32(id_), i32(options)
    if (options & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL)
            or not options & (WSTOPPED | WEXITED | WCONTINUED)):
        raise SysError(EINVAL)
    if idtype == P_ALL:
        pid = -1
    elif idtype == P_PID and id_ > 0:
        pid = id_
    elif idtype == P_PGID and id_ >= 0:
        pid = 0 if id_ in (0, t.proc.pgid) else -id_        # (-1 would mean any child)
    else:
        raise SysError(EINVAL)
    p = t.proc
    reaped = []
    cpid, status = k.procs.wait(p, pid, options, reaped, exited=bool(options & WEXITED),
                                nowait=bool(options & WNOWAIT))
    if not cpid:
        code = signo = 0
    elif status & 0xFF == 0x7F:
        signo, code, status = SIGCHLD, CLD_STOPPED, (status >> 8) & 0xFF
    elif status & 0x7F == 0:
        signo, code, status = SIGCHLD, CLD_EXITED, (status >> 8) & 0xFF
    else:
        signo, code, status = SIGCHLD, CLD_DUMPED if status & 0x80 else CLD_KILLED, status & 0x7F
    if infop:
        p.aspace.copyout(infop, struct.pack("<iii4xiIi", signo, 0, code, cpid, 0, status))
    if cpid and rusage:
        c = reaped[0] if reaped else None
        times = (c.utime + c.cutime, c.stime + c.cstime) if c else (0, 0)
        p.aspace.copyout(rusage, rusage_bytes(*times))
    return 0


def sys_brk(k, t, addr):
    a = t.proc.aspace
    if addr < a.brk_start or addr > a.brk_start + params.HEAP_MAX:
        return a.brk
    old_end, new_end = page_up(a.brk), page_up(addr)
    if new_end > old_end:
        if a.overlaps(old_end, new_end):
            return a.brk
        heap = a.find(old_end - 1) if old_end > a.brk_start else None
        if heap is not None and heap.kind == "heap":
            a.resize(heap, new_end)
        else:
            try:
                a.add_region(old_end, new_end, PROT_R | PROT_W, "heap")
            except SysError:
                return a.brk           # no region left (MAX_MAP_COUNT): the break stays
    elif new_end < old_end:
        a.remove_range(new_end, old_end)
    a.brk = addr
    return addr


SYS_RISCV_FLUSH_ICACHE_ALL = 1         # SYS_RISCV_FLUSH_ICACHE_LOCAL, the only flag Linux knows


def sys_riscv_flush_icache(k, t, start, end, flags):
    """Nothing to flush: the kernel keeps every hart's code coherent with memory (vm.py,
    W^X). Flags are checked as Linux checks them."""
    if flags & ~SYS_RISCV_FLUSH_ICACHE_ALL:
        raise SysError(EINVAL)
    return 0


def read_timespec(a, va) -> int:
    """A struct timespec at user address va, checked, in ns."""
    sec, nsec = struct.unpack("<qq", a.copyin(va, 16))
    if sec < 0 or not 0 <= nsec < NS:
        raise SysError(EINVAL)
    return sec * NS + nsec


def sys_nanosleep(k, t, req, rem):
    a = t.proc.aspace
    dur = read_timespec(a, req)
    if rem:
        a.check(rem, 16, PROT_W)
    deadline = k.sched.now() + dur
    if k.sched.sleep_until(deadline):
        return 0
    if rem:
        left = max(0, deadline - k.sched.now())
        a.copyout(rem, struct.pack("<qq", left // NS, left % NS))
    raise SysError(EINTR)


def sys_clock_gettime(k, t, clk, tp):
    clk = i32(clk)
    now = k.sched.now()
    if clk in (0, 5):                                  # REALTIME, REALTIME_COARSE
        ns = REALTIME_EPOCH * NS + now
    elif clk in (1, 4, 6, 7):                          # MONOTONIC, _RAW, _COARSE, BOOTTIME
        ns = now
    elif clk == 2:                                     # PROCESS_CPUTIME_ID
        ns = t.proc.cputime + sum(x.cputime for x in t.proc.threads)
    elif clk == 3:                                     # THREAD_CPUTIME_ID
        ns = t.cputime
    else:
        raise SysError(EINVAL)
    t.proc.aspace.copyout(tp, struct.pack("<qq", ns // NS, ns % NS))
    return 0


def sys_hostclock(k, t, ts):
    """The HOST's monotonic clock, so that a demo can print what its run cost the host beside
    the virtual figures (s20_parallel, solaris, costs). Nothing in the kernel or the libc
    decides anything by it; but printing the number runs instructions that depend on its
    digits, so virtual times after such a print vary from run to run (tests that compare
    whole runs replace time.monotonic_ns: tests/test_eventlog.py)."""
    ns = time.monotonic_ns()
    t.proc.aspace.copyout(ts, struct.pack("<qq", ns // NS, ns % NS))
    return 0


def sys_sched_yield(k, t):
    k.sched.yield_()
    return 0


def sys_getcpu(k, t, cpu, node, cache):
    a = t.proc.aspace
    if cpu:
        a.copyout(cpu, struct.pack("<I", t.cpu.hid))
    if node:
        a.copyout(node, struct.pack("<I", 0))
    return 0


def sys_uname(k, t, buf):
    version = f"#1 costs={k.cost.label}".encode()[:64]        # the cost profile in force (docs/costs.md)
    fields = [b"pvtos", b"pvtos", b"0.1", version, b"riscv64", b"(none)"]
    t.proc.aspace.copyout(buf, b"".join(f.ljust(65, b"\0") for f in fields))
    return 0


def sys_setpgid(k, t, pid, pgid):
    pid, pgid = i32(pid), i32(pgid)
    me = t.proc
    target = me if pid in (0, me.pid) else next((c for c in me.children if c.pid == pid), None)
    if target is None or target.state == ZOMBIE:
        raise SysError(ESRCH)
    if pgid < 0:
        raise SysError(EINVAL)
    pgid = pgid or target.pid
    if pgid != target.pid and not any(q.pgid == pgid and q.sid == me.sid for q in k.procs.procs.values()):
        raise SysError(EPERM)
    target.pgid = pgid
    return 0


def _proc_named(k, t, pid):
    """The process pid names (0: the caller's), or ESRCH."""
    pid = i32(pid)
    p = t.proc if pid == 0 else k.procs.procs.get(pid)
    if p is None:
        raise SysError(ESRCH)
    return p


def sys_getpgid(k, t, pid):
    return _proc_named(k, t, pid).pgid


def sys_getsid(k, t, pid):
    return _proc_named(k, t, pid).sid


def sys_setsid(k, t):
    p = t.proc
    if any(q.pgid == p.pid for q in k.procs.procs.values()):
        raise SysError(EPERM)
    p.sid = p.pgid = p.pid
    return p.pid


def sys_procinfo(k, t, buf, n):
    n = i32(n)
    if n < 0:
        raise SysError(EINVAL)
    recs = []
    for p in list(k.procs.procs.values())[:n]:
        if p.state == ZOMBIE:
            state, hart = "Z", -1
        else:
            running = [x for x in p.threads if x.state is RUNNING]
            hart = running[0].cpu.hid if running else -1
            state = "R" if running else "r" if any(x.state is RUNNABLE for x in p.threads) else "S"
        cputime = p.cputime + sum(x.cputime for x in p.threads)
        recs.append(struct.pack("<6iq16s", p.pid, p.ppid, p.pgid, ord(state), hart, len(p.threads),
                                cputime, p.name.encode()[:15]))
    t.proc.aspace.copyout(buf, b"".join(recs))
    return len(recs)


def sys_uevent(k, t, code, arg):
    """A user-level event (e.g. a green-thread switch) for the event stream; free when off."""
    if k.events is not None:
        k.event("uevent", t, code=i32(code), arg=arg)
    return 0


def sys_kstat(k, t, buf):
    vals = (k.kalloc.nfree, k.kalloc.total, k.sched.now(), len(k.procs.procs), len(k.sched.cpus))
    t.proc.aspace.copyout(buf, struct.pack("<5q", *vals))
    return 0

