"""The text of the /proc files (procfs.py), in Linux's formats (proc(5)), made when opened.

What the kernel does not track is written as 0 (page-fault counts, context switches,
wchan). Times are in clock ticks of 100 Hz (USER_HZ, AT_CLKTCK), memory in kB or pages as
Linux writes them. A process's line is its first LWP's when that one is alive.
"""
import math


from . import params
from .arch import PAGE_SIZE
from .bio import Buf
from .proc import ZOMBIE
from .signal import SIG_DFL, SIG_IGN
from .thread import RUNNABLE, RUNNING, SLEEPING
from .vm import PROT_R, PROT_W, PROT_X

HZ = params.USER_HZ
TICK = 1_000_000_000 // HZ
RLIM_INFINITY = (1 << 64) - 1
TTY_CONSOLE = 0x0501                  # tty_nr of the console (5:1): every process's terminal
PF_KTHREAD = 0x00200000
_STATE_NAMES = {"R": "R (running)", "S": "S (sleeping)", "D": "D (disk sleep)", "T": "T (stopped)",
                "Z": "Z (zombie)", "I": "I (idle)"}


def thread_state(t) -> str:
    """R running or runnable, S sleeping, D in an uninterruptible sleep (the disk), I a pure
    kernel thread waiting for work (Linux's idle kernel threads), T stopped, Z exited."""
    if t.state in (RUNNING, RUNNABLE):
        return "R"
    if t.state is SLEEPING:
        if t.proc is not None and t.proc.sig.stopped and t.chan == ("stopped", t.proc):
            return "T"
        if t.interruptible:
            return "S"
        return "I" if t.proc is None and not isinstance(t.chan, Buf) else "D"
    return "Z"


def proc_state(p) -> str:
    if p.state is ZOMBIE:
        return "Z"
    if p.sig.stopped:
        return "T"
    states = [thread_state(t) for t in p.threads]
    for s in ("R", "D", "S"):
        if s in states:
            return s
    return "Z"


def leader(p):
    """The LWP whose stat stands for the process: the first one alive."""
    return next((t for t in p.threads if t.tid == p.pid), p.threads[0] if p.threads else None)


def utime_stime(p, t=None):
    """(user, system) ns of LWP t, or of process p (live and exited LWPs)."""
    if t is not None:
        return t.utime, t.stime
    return p.utime + sum(x.utime for x in p.threads), p.stime + sum(x.stime for x in p.threads)


def vm_pages(aspace):
    """(bytes mapped, pages present) of an address space."""
    if aspace is None:
        return 0, 0
    size = sum(r.end - r.start for r in aspace.regions)
    return size, sum(1 for _ in aspace.present(0, params.USER_TOP))


def sig_masks(p):
    """(ignored, caught) signal bit masks of process p."""
    ign = caught = 0
    for sig, a in p.sig.action.items():
        if a.handler == SIG_IGN:
            ign |= 1 << (sig - 1)
        elif a.handler != SIG_DFL:
            caught |= 1 << (sig - 1)
    return ign, caught


def image(p):
    """The FileBacking of the program p runs (its exe), or None (a zombie)."""
    if p.aspace is None:
        return None
    return next((b for b in p.aspace.backings if b.image), None)


def stat(k, p, t=None) -> bytes:
    """/proc/PID/stat (t None) or /proc/PID/task/TID/stat: the 52 fields of proc(5)."""
    if p is None:                                      # a pure kernel thread
        return kthread_stat(k, t)
    one = t if t is not None else leader(p)
    state = thread_state(t) if t is not None else proc_state(p)
    utime, stime = utime_stime(p, t)
    vsize, rss = vm_pages(p.aspace)
    ign, caught = sig_masks(p)
    brk = p.aspace.brk_start if p.aspace is not None else 0
    pid = t.tid if t is not None else p.pid
    name = (t.name if t is not None else p.name)[:15]
    fields = [pid, f"({name})", state, p.ppid, p.pgid, p.sid, TTY_CONSOLE, k.tty.fg_pgrp, 0, 0, 0, 0, 0,
              utime // TICK, stime // TICK, p.cutime // TICK, p.cstime // TICK, 20 + p.nice, p.nice,
              len(p.threads), 0, p.start_time // TICK, vsize, rss, RLIM_INFINITY, 0, 0, 0, 0, 0,
              p.sig.pending | (one.sigpending if one else 0), one.sigmask if one else 0, ign, caught, 0, 0, 0,
              17, one.cpu.hid if one is not None and one.cpu is not None else 0, 0, 0, 0, 0, 0, 0, 0,
              brk, 0, 0, 0, 0, p.status if p.state is ZOMBIE else 0]
    return (" ".join(str(f) for f in fields) + "\n").encode()


def kthread_stat(k, t) -> bytes:
    fields = [t.tid, f"({t.name[:15]})", thread_state(t), 0, 0, 0, 0, -1, PF_KTHREAD, 0, 0, 0, 0, 0,
              t.stime // TICK, 0, 0, 20, 0, 1, 0, 0, 0, 0, RLIM_INFINITY] + [0] * 12 + \
             [17, t.cpu.hid if t.cpu is not None else 0] + [0] * 13
    return (" ".join(str(f) for f in fields) + "\n").encode()


def status(k, p, t=None) -> bytes:
    """/proc/PID/status: the lines ps and top read, and a few more."""
    if p is None:
        return (f"Name:\t{t.name}\nState:\t{_STATE_NAMES[thread_state(t)]}\nTgid:\t{t.tid}\nPid:\t{t.tid}\n"
                f"PPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n").encode()
    one = t if t is not None else leader(p)
    state = thread_state(t) if t is not None else proc_state(p)
    vsize, rss = vm_pages(p.aspace)
    ign, caught = sig_masks(p)
    affinity = one.affinity & k.sched.all_harts if one is not None else k.sched.all_harts
    harts = ",".join(str(h) for h in range(len(k.sched.cpus)) if affinity >> h & 1)
    lines = [("Name", (t.name if t is not None else p.name)[:15]), ("Umask", f"{p.umask:04o}"),
             ("State", _STATE_NAMES[state]), ("Tgid", p.pid), ("Ngid", 0), ("Pid", t.tid if t else p.pid),
             ("PPid", p.ppid), ("TracerPid", 0), ("Uid", "0\t0\t0\t0"), ("Gid", "0\t0\t0\t0"),
             ("FDSize", params.NOFILE), ("Groups", " ".join(str(g) for g in p.groups))]
    if p.aspace is not None:
        lines += [("VmSize", f"{vsize >> 10:8d} kB"), ("VmRSS", f"{rss * PAGE_SIZE >> 10:8d} kB")]
    lines += [("Threads", len(p.threads)), ("SigPnd", f"{one.sigpending if one else 0:016x}"),
              ("ShdPnd", f"{p.sig.pending:016x}"), ("SigBlk", f"{one.sigmask if one else 0:016x}"),
              ("SigIgn", f"{ign:016x}"), ("SigCgt", f"{caught:016x}"), ("Cpus_allowed", f"{affinity:x}"),
              ("Cpus_allowed_list", harts), ("voluntary_ctxt_switches", 0), ("nonvoluntary_ctxt_switches", 0)]
    return "".join(f"{key}:\t{value}\n" for key, value in lines).encode()


def cmdline(p) -> bytes:
    return b"".join(a + b"\0" for a in p.cmdline) if p is not None and p.state is not ZOMBIE else b""


def maps(k, p) -> bytes:
    """/proc/PID/maps: one line per region; the program's segments name its file."""
    if p.aspace is None:
        return b""
    out = []
    for r in p.aspace.regions:
        perms = "".join(c if r.prot & bit else "-" for c, bit in (("r", PROT_R), ("w", PROT_W), ("x", PROT_X)))
        off, dev, ino, name, shared = 0, "00:00", 0, b"", False
        if r.backing is not None:                  # named by its file (or /dev/zero)
            off, node, name, shared = r.backing.map_info(r.start)
            if node is not None:
                ino = node.ino
                dev = f"{node.fs.dev >> 8:02x}:{node.fs.dev & 0xFF:02x}"
        elif r.kind == "heap":
            name = b"[heap]"
        elif r.kind == "stack" and r.end == params.STACK_TOP:
            name = b"[stack]"
        elif r.kind == "sigtramp":
            name = b"[sigpage]"
        perms += "s" if shared else "p"
        line = f"{r.start:08x}-{r.end:08x} {perms} {off:08x} {dev} {ino}".encode()
        out.append(line.ljust(73) + name if name else line)
    return b"\n".join(out) + b"\n"


class LoadAverage:
    """The 1, 5 and 15 minute load averages: exponentially decayed samples of the number of
    runnable threads, taken whenever they are read (no timer samples them every 5 s, as
    Linux's does: that would add clock events to every run)."""

    def __init__(self):
        self.when = 0
        self.avg = (0.0, 0.0, 0.0)

    def read(self, k):
        """(the three averages, runnable threads, threads)."""
        now = k.sched.now()
        threads = list(k.sched.threads.values())
        running = sum(1 for t in threads if t.state in (RUNNING, RUNNABLE) and not t.idle)
        dt = max(0, now - self.when) / 1e9
        self.avg = tuple(a * math.exp(-dt / span) + running * (1 - math.exp(-dt / span))
                         for a, span in zip(self.avg, (60, 300, 900)))
        self.when = now
        return self.avg, running, len(threads)


def meminfo(k) -> bytes:
    total, free = k.kalloc.total * PAGE_SIZE >> 10, k.kalloc.nfree * PAGE_SIZE >> 10
    lines = [("MemTotal", total), ("MemFree", free), ("MemAvailable", free), ("Buffers", 0), ("Cached", 0),
             ("SwapCached", 0), ("Active", total - free), ("Inactive", 0), ("SwapTotal", 0), ("SwapFree", 0),
             ("Shmem", 0), ("SReclaimable", 0)]
    return "".join(f"{key + ':':16}{value:8d} kB\n" for key, value in lines).encode()


def uptime(k) -> bytes:
    now = k.sched.now()
    idle = sum(max(0, now - c.busy_time - c.sys_time) for c in k.sched.cpus)
    return f"{now / 1e9:.2f} {idle / 1e9:.2f}\n".encode()


def cpu_stat(k) -> bytes:
    """/proc/stat: per-hart user, system and idle ticks (no nice, iowait or interrupts)."""
    now = k.sched.now()
    rows = []
    for c in k.sched.cpus:
        rows.append((c.busy_time // TICK, c.sys_time // TICK, max(0, now - c.busy_time - c.sys_time) // TICK))
    out = ["cpu  " + " ".join(str(x) for x in (sum(r[0] for r in rows), 0, sum(r[1] for r in rows),
                                                sum(r[2] for r in rows), 0, 0, 0, 0, 0, 0))]
    out += [f"cpu{i} {u} 0 {s} {idle} 0 0 0 0 0 0" for i, (u, s, idle) in enumerate(rows)]
    threads = list(k.sched.threads.values())
    out += ["intr 0", f"ctxt {sum(c.switches for c in k.sched.cpus)}", f"btime {k.boot_realtime // 10**9}",
            f"processes {k.procs.next_id - 1}",
            f"procs_running {sum(1 for t in threads if t.state in (RUNNING, RUNNABLE) and not t.idle)}",
            f"procs_blocked {sum(1 for t in threads if t.state is SLEEPING and not t.interruptible)}"]
    return ("\n".join(out) + "\n").encode()


def cpuinfo(k) -> bytes:
    return "".join(f"processor\t: {c.hid}\nhart\t\t: {c.hid}\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\n"
                   f"uarch\t\t: pvtos,unicorn\n\n" for c in k.sched.cpus).encode()


def mounts(k) -> bytes:
    lines = []
    for path, root in k.fsys.mount_table():
        fs = root.fs
        opts = "rw,nosuid,nodev,noexec,relatime" if fs.fstype == "proc" else "rw,relatime"
        lines.append(f"{fs.source} {path.decode(errors='replace')} {fs.fstype} {opts} 0 0\n")
    return "".join(lines).encode()
