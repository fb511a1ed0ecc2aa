"""Time and resource-usage system calls: gettimeofday, clock_getres, clock_nanosleep, times, getrusage,
sysinfo. All clocks run on virtual time (1 instruction = 1 ns, kernel work charged from
cost.py); CLOCK_REALTIME is that plus the boot's wall-clock time (Kernel.realtime).

CPU time is split as the scheduler measures it: user time is the instructions a thread's
user code retired, system time the virtual time its kernel code ran (sched.py). Not
tracked, so reported as 0: page faults, block I/O counts, context switches, maxrss.
"""
import struct

from .errno import EINTR, EINVAL, EOPNOTSUPP, SysError
from .proc import rusage_bytes
from .proctext import TICK
from .arch import i32
from .sysproc import NS, read_timespec
from .vm import PROT_W

CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID = 0, 1, 2, 3
CLOCK_BOOTTIME = 7
CLOCKS = range(8)                     # REALTIME .. BOOTTIME, the ones clock_gettime reads
TIMER_ABSTIME = 1
RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD = 0, -1, 1


def sys_gettimeofday(k, t, tv, tz):
    """struct timeval of CLOCK_REALTIME; the struct timezone, if asked, is UTC (zeros)."""
    a = t.proc.aspace
    if tv:
        ns = k.realtime()
        a.copyout(tv, struct.pack("<qq", ns // NS, ns % NS // 1000))
    if tz:
        a.copyout(tz, bytes(8))
    return 0


def sys_clock_getres(k, t, clk, res):
    """Every clock counts whole nanoseconds of virtual time: resolution 1 ns."""
    if i32(clk) not in CLOCKS:
        raise SysError(EINVAL)
    if res:
        t.proc.aspace.copyout(res, struct.pack("<qq", 0, 1))
    return 0


def sleep_until(k, t, deadline: int, rem: int = 0) -> int:
    """Sleep until virtual time deadline: 0, or EINTR after a signal (with the time left
    written to rem, if given). Not restarted after a handler, as Linux's nanosleep."""
    if k.sched.sleep_until(deadline):
        return 0
    if rem:
        left = max(0, deadline - k.sched.now())
        t.proc.aspace.copyout(rem, struct.pack("<qq", left // NS, left % NS))
    raise SysError(EINTR)


def sys_clock_nanosleep(k, t, clk, flags, req, rem):
    """Relative, or with TIMER_ABSTIME until the clock reads *req (then rem is not written).
    Sleeping on the CPU-time clocks and the raw and coarse ones: EOPNOTSUPP (Linux: only the
    process CPU clock has such sleeps besides these)."""
    clk, flags = i32(clk), i32(flags)
    if clk == CLOCK_THREAD_CPUTIME_ID or clk not in CLOCKS:
        raise SysError(EINVAL)
    if clk not in (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME):
        raise SysError(EOPNOTSUPP)
    a = t.proc.aspace
    when = read_timespec(a, req)
    if rem and not flags & TIMER_ABSTIME:
        a.check(rem, 16, PROT_W)
    if not flags & TIMER_ABSTIME:
        return sleep_until(k, t, k.sched.now() + when, rem)
    if clk == CLOCK_REALTIME:
        when -= k.boot_realtime
    return sleep_until(k, t, max(when, k.sched.now()))


def proc_times(p):
    """(user, system) ns of process p: its live LWPs and those that exited."""
    return p.utime + sum(x.utime for x in p.threads), p.stime + sum(x.stime for x in p.threads)


def sys_times(k, t, buf):
    """struct tms in clock ticks (100 Hz); returns the ticks since boot."""
    p = t.proc
    if buf:
        utime, stime = proc_times(p)
        t.proc.aspace.copyout(buf, struct.pack("<4q", utime // TICK, stime // TICK, p.cutime // TICK,
                                                p.cstime // TICK))
    return k.sched.now() // TICK


def sys_getrusage(k, t, who, ru):
    who = i32(who)
    p = t.proc
    if who == RUSAGE_SELF:
        times = proc_times(p)
    elif who == RUSAGE_CHILDREN:
        times = (p.cutime, p.cstime)
    elif who == RUSAGE_THREAD:
        times = (t.utime, t.stime)
    else:
        raise SysError(EINVAL)
    p.aspace.copyout(ru, rusage_bytes(*times))
    return 0


def sys_sysinfo(k, t, info):
    """struct sysinfo (112 bytes): uptime, loads (16.16 fixed point), memory in bytes
    (mem_unit 1): total and free RAM frames; no swap, and the buffer cache lives outside
    guest RAM, so bufferram is 0. procs counts threads, as Linux's."""
    loads, _, nthreads = k.procfs.load.read(k)
    kalloc = k.kalloc
    raw = struct.pack("<q3Q6QHHI2QI4x", k.sched.now() // NS, *(int(x * 65536) for x in loads),
                      kalloc.total * 4096, kalloc.nfree * 4096, 0, 0, 0, 0, min(nthreads, 0xFFFF), 0, 0, 0, 0, 1)
    t.proc.aspace.copyout(info, raw)
    return 0
