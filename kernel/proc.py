"""Processes and their LWPs: creation (fork, new LWPs), exit, wait, the process table.

A process owns an address space, a file table, a cwd and one or more LWPs; each LWP is a
kernel thread with a user context. Process ids and LWP ids share one number space and a
process's first LWP has lwpid == pid.
Invariants: procs holds every process until its parent reaps it; a ZOMBIE has no address
space, no files and no LWPs; every process but init has a parent in procs; when a parent
exits its children are given to init (pid 1).
"""
import enum
import struct

from . import arch, params
from .errno import EAGAIN, ECHILD, EINTR, ENOMEM, SysError
from .kalloc import OutOfMemory
from .sched import ThreadExit
from .vm import Fault



class ProcState(enum.StrEnum):
    """A process is ALIVE until its last LWP exits, then a ZOMBIE until its parent reaps it."""
    ALIVE = "alive"
    ZOMBIE = "zombie"


ALIVE, ZOMBIE = ProcState.ALIVE, ProcState.ZOMBIE
WNOHANG, WUNTRACED = 1, 2
RLIMIT_STACK, RLIMIT_CORE, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS = 3, 4, 6, 7, 8, 9
RLIMIT_NICE, RLIMIT_RTPRIO, RLIM_NLIMITS = 13, 14, 16
RLIM_INFINITY = (1 << 64) - 1


def default_rlimits() -> list:
    """[soft, hard] per resource, as init starts with them: the kernel's own limits where it
    has one (params), Linux's defaults elsewhere; only RLIMIT_NOFILE is enforced."""
    lim = [[RLIM_INFINITY, RLIM_INFINITY] for _ in range(RLIM_NLIMITS)]
    lim[RLIMIT_STACK] = [params.STACK_MAX, params.STACK_MAX]
    lim[RLIMIT_CORE] = [0, RLIM_INFINITY]
    lim[RLIMIT_NPROC] = [params.NPROC, params.NPROC]
    lim[RLIMIT_NOFILE] = [params.NOFILE, params.NOFILE]
    lim[RLIMIT_MEMLOCK] = [8 << 20, 8 << 20]
    lim[RLIMIT_AS] = [params.USER_TOP, params.USER_TOP]
    lim[RLIMIT_NICE] = lim[RLIMIT_RTPRIO] = [0, 0]
    return lim


def rusage_bytes(utime: int, stime: int) -> bytes:
    """struct rusage (144 bytes) for user and system ns: two timevals, then 14 longs the
    kernel does not track (0: maxrss, faults, block I/O, context switches...)."""
    us = [x // 1000 for x in (utime, stime)]
    return struct.pack("<4q", us[0] // 1_000_000, us[0] % 1_000_000, us[1] // 1_000_000,
                       us[1] % 1_000_000) + bytes(144 - 32)


class Proc:
    def __init__(self, pid, parent, name):
        self.pid = pid
        self.parent = parent
        self.children = []
        self.name = name
        self.aspace = None
        self.files = [None] * params.NOFILE
        self.cloexec = set()
        self.cwd = None
        self.threads = []                # live LWPs
        self.lwp_zombies = {}            # lwpid -> Thread: exited, waitable by lwp_wait
        self.sa = None                   # SAState once sa_register was called (kernel/sa.py)
        self.state = ALIVE
        self.status = 0                  # wait status, valid once ZOMBIE
        self.pgid = pid
        self.sid = pid
        self.symbols = None              # symbol table of the running image, for reports
        self.sig = None                  # SigState, set by signals.init_proc
        self.exiting = False
        self.cputime = 0                 # cputime of LWPs that already exited
        self.vtime = 0                   # CPU time as the policy counts it (policy.py)
        self.cputimers = {}              # ITIMER_VIRTUAL/PROF -> [ns left, interval ns]
        self.vtimer = None               # [ns until the first of them expires] while armed
        self.rtimer = None               # ITIMER_REAL (clock Event, interval ns) while armed
        self.ptimers = {}                # POSIX timers: id -> ptimer.Timer
        self.ptimer_next = 0             # where the search for a free timer id starts (ptimer.py)
        self.vfork_waiter = None         # the parent LWP asleep in vfork until this child execs or exits
        self.borrowed_vm = False         # aspace is its vfork parent's: exec and exit leave it alone
        self.start_time = 0              # virtual time of its creation
        self.utime = self.stime = 0      # user and system time of LWPs that already exited
        self.cutime = self.cstime = 0    # user and system time of its reaped children (and theirs)
        self.cmdline = []                # argv of the running program (/proc/PID/cmdline)
        self.umask = 0o022
        self.groups = ()                 # supplementary group ids (every process is uid and gid 0)
        self.nice = 0                    # -20..19, kept for getpriority and /proc; not used to schedule
        self.rlimits = default_rlimits()
        self.membarrier = False          # registered for MEMBARRIER_CMD_PRIVATE_EXPEDITED

    @property
    def ppid(self) -> int:
        return self.parent.pid if self.parent is not None else 0


class ProcTable:
    def __init__(self, kernel):
        self.k = kernel
        self.procs = {}                  # pid -> Proc, in creation order
        self.next_id = 1
        self.init = None

    def alloc_id(self) -> int:
        """A number used by no process and no thread (they share one space)."""
        threads = self.k.sched.threads
        while self.next_id in self.procs or self.next_id in threads:
            self.next_id += 1
        n = self.next_id
        self.next_id += 1
        return n

    def new_proc(self, parent, name) -> Proc:
        if len(self.procs) >= params.NPROC:
            raise SysError(EAGAIN)
        p = Proc(self.alloc_id(), parent, name)
        self.k.signals.init_proc(p, parent)
        p.start_time = self.k.sched.now()
        if parent is not None:
            parent.children.append(p)
            p.pgid, p.sid = parent.pgid, parent.sid
            p.cwd = parent.cwd
            p.cmdline, p.umask, p.groups = parent.cmdline, parent.umask, parent.groups
            p.nice = parent.nice
            p.rlimits = [list(x) for x in parent.rlimits]
            p.membarrier = parent.membarrier
        self.procs[p.pid] = p
        self.k.charge(self.k.cost.PROC_CREATE)
        return p

    def new_lwp(self, p: Proc, ctx, like=None):
        """A new LWP of p with user registers ctx; mask and affinity from `like`."""
        if len(p.threads) >= params.NLWP:
            raise SysError(EAGAIN)
        tid = p.pid if not p.threads and p.pid not in self.k.sched.threads else self.alloc_id()
        t = self.k.sched.new_thread(tid, p.name, p, self.k.trap.lwp_body)
        self.k.charge(self.k.cost.LWP_CREATE)
        t.ctx = ctx
        if like is not None:
            t.sigmask, t.affinity = like.sigmask, like.affinity
        p.threads.append(t)
        return t

    def fork(self, parent_thread, vfork=False, share_vm=False, stack=0) -> int:
        """fork, or clone with CLONE_VFORK (vfork): then the calling LWP sleeps until the child
        execs or exits, and with CLONE_VM as well the child runs on the parent's address
        space itself (borrowed_vm), on `stack` if not 0, while the parent sleeps. The
        sleep is killable, as Linux's: a signal whose action is to terminate ends the
        parent's process at once, the others wait. Should the parent's process exit
        meanwhile (so, or by another of its LWPs), the child keeps the address space and
        frees it at its own exec or exit."""
        parent = parent_thread.proc
        child = self.new_proc(parent, parent.name)
        try:
            child.aspace = parent.aspace if share_vm else parent.aspace.fork()
        except OutOfMemory:
            self._discard(child)
            raise SysError(ENOMEM) from None
        child.borrowed_vm = share_vm
        child.symbols = parent.symbols
        for fd, f in enumerate(parent.files):
            if f is not None:
                child.files[fd] = f.dup()
        child.cloexec = set(parent.cloexec)
        regs = self.k.sched.regs(parent_thread)
        regs[arch.SYSCALL_RET] = 0       # the child sees fork() return 0
        if stack:
            regs[arch.SP] = stack
        t = self.new_lwp(child, regs, like=parent_thread)
        t.altstack = parent_thread.altstack      # fork keeps it; a new LWP in the same space starts without
        self.k.sched.make_runnable(t)
        if self.k.events is not None:
            self.k.event("fork", parent_thread, child=child.pid)
        if vfork:
            child.vfork_waiter = parent_thread
            sig = self.k.signals
            while child.vfork_waiter is not None:
                fatal = sig.fatal(parent, sig.deliverable(parent, parent_thread))
                if fatal:                         # killable, as Linux's vfork wait
                    sig.terminate(parent_thread, fatal)
                self.k.sched.sleep(("vfork", child), interruptible=False)
        return child.pid

    def vfork_done(self, p) -> None:
        """p execs or exits: its vfork parent goes on, and p stops borrowing its memory."""
        p.borrowed_vm = False
        if p.vfork_waiter is not None:
            p.vfork_waiter = None
            self.k.sched.wakeup(("vfork", p))

    def _discard(self, p):
        p.parent.children.remove(p)
        del self.procs[p.pid]

    def exit_lwp(self, t, status: int = 0) -> None:
        """The calling LWP t ends (exit, lwp_exit); the last one ends its process."""
        p = t.proc
        live = [x for x in p.threads if x is not t]
        if not live:
            self.exit(p, status)
        self.k.charge(self.k.cost.LWP_EXIT)
        self._clear_tid(t)
        p.threads.remove(t)
        p.cputime += t.cputime
        p.utime += t.utime
        p.stime += t.stime
        t.exited = True
        if not t.detached:
            p.lwp_zombies[t.tid] = t
        if self.k.events is not None:
            self.k.event("lwp_exit", t, status=status)
        self.k.sched.wakeup(("lwp_wait", p))
        raise ThreadExit()

    def _clear_tid(self, t) -> None:
        """CLONE_CHILD_CLEARTID / set_tid_address: zero the word, wake one futex waiter."""
        if t.clear_tid and t.proc.aspace is not None:
            try:
                t.proc.aspace.copyout(t.clear_tid, struct.pack("<i", 0))
            except Fault:
                return
            self.k.futex.wake((t.proc.aspace, t.clear_tid), 1)

    def exit(self, p: Proc, status: int) -> None:
        """Terminate process p with wait status `status`; called by one of its LWPs, which
        then unwinds (raises ThreadExit). Every other LWP is stopped first."""
        if p.exiting:
            raise ThreadExit()
        p.exiting = True
        self.k.charge(self.k.cost.PROC_EXIT)
        me = self.k.sched.mythread()
        for t in list(p.threads):
            if t is not me:
                self.k.sched.kill_thread(t)
        if p.sa is not None:
            self.k.sa.on_exit(p)
        for fd in range(params.NOFILE):
            if p.files[fd] is not None:
                p.files[fd].close()
                p.files[fd] = None
        p.cwd = None
        self.k.itimers.cancel(p)
        self.k.ptimers.delete_all(p)
        lent = [c for c in p.children if c.borrowed_vm and c.aspace is p.aspace]
        for c in lent:                   # its vfork child runs on it: the child frees it
            c.borrowed_vm = False
        if not p.borrowed_vm and not lent:
            p.aspace.destroy()
        self.vfork_done(p)
        p.aspace = None
        if p is not self.init:
            for c in p.children:
                c.parent = self.init
                self.init.children.append(c)
            if any(c.state == ZOMBIE for c in p.children):
                self.k.sched.wakeup(self.init)
            p.children = []
        p.cputime += sum(t.cputime for t in p.threads)
        p.utime += sum(t.utime for t in p.threads)
        p.stime += sum(t.stime for t in p.threads)
        p.threads = []
        p.lwp_zombies = {}
        p.state = ZOMBIE
        p.status = status
        if self.k.events is not None:
            self.k.event("exit", me, status=status)
        if p is self.init:
            self.k.halt_init(status)
        else:
            self.k.signals.post(p.parent, self.k.signals.SIGCHLD, info=self.k.signals.child_info(p))
            self.k.sched.wakeup(p.parent)
        raise ThreadExit()

    def wait(self, p: Proc, pid: int, options: int, reaped=None, exited=True, nowait=False):
        """Reap a child: returns (pid, status), or (0, 0) with WNOHANG; SysError otherwise.
        The reaped Proc is appended to the list `reaped`, if given (wait4's rusage).
        waitid's choices: exited False ignores zombies (no WEXITED), nowait leaves the
        child or its stop report to be waited for again (WNOWAIT)."""
        while True:
            kids = [c for c in p.children if pid == -1 or c.pid == pid
                    or (pid == 0 and c.pgid == p.pgid) or (pid < -1 and c.pgid == -pid)]
            if not kids:
                raise SysError(ECHILD)
            for c in kids:
                if c.state == ZOMBIE and exited:
                    if nowait:
                        return c.pid, c.status
                    self.k.charge(self.k.cost.PROC_WAIT)
                    p.children.remove(c)
                    del self.procs[c.pid]
                    p.cutime += c.utime + c.cutime
                    p.cstime += c.stime + c.cstime
                    if reaped is not None:
                        reaped.append(c)
                    return c.pid, c.status
                if options & WUNTRACED and c.sig.stop_report:
                    sig = c.sig.stop_report
                    if not nowait:
                        c.sig.stop_report = 0
                    return c.pid, (sig << 8) | 0x7F
            if options & WNOHANG:
                return 0, 0
            if not self.k.sched.sleep(p):
                raise SysError(EINTR)
