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

from . import arch, cost, params
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
        self.vtime = 0                   # CPU time as the two-level scheduler counts it
        self.cputimers = {}              # ITIMER_VIRTUAL/PROF -> [ns left, interval ns]
        self.vtimer = None               # [ns until the first of them expires] while armed
        self.rtimer = None               # ITIMER_REAL (clock Event, interval ns) while armed

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
        if parent is not None:
            parent.children.append(p)
            p.pgid, p.sid = parent.pgid, parent.sid
            p.cwd = parent.cwd
        self.procs[p.pid] = p
        self.k.charge(cost.PROC_CREATE)
        return p

    def new_lwp(self, p: Proc, ctx, like=None):
        """A new LWP of p with user registers ctx; mask and affinity from `like`."""
        if len(p.threads) >= params.NLWP:
            raise SysError(EAGAIN)
        tid = p.pid if not p.threads and p.pid not in self.k.sched.threads else self.alloc_id()
        t = self.k.sched.new_thread(tid, p.name, p, self.k.trap.lwp_body)
        self.k.charge(cost.LWP_CREATE)
        t.ctx = ctx
        if like is not None:
            t.sigmask, t.affinity = like.sigmask, like.affinity
        p.threads.append(t)
        return t

    def fork(self, parent_thread) -> int:
        parent = parent_thread.proc
        child = self.new_proc(parent, parent.name)
        try:
            child.aspace = parent.aspace.fork()
        except OutOfMemory:
            self._discard(child)
            raise SysError(ENOMEM) from None
        child.symbols = parent.symbols
        for fd, f in enumerate(parent.files):
            if f is not None:
                child.files[fd] = f.dup()
        child.cloexec = set(parent.cloexec)
        regs = self.k.sched.regs(parent_thread)
        regs[arch.SYSCALL_RET] = 0       # the child sees fork() return 0
        t = self.new_lwp(child, regs, like=parent_thread)
        t.altstack = parent_thread.altstack      # fork keeps it; a new LWP in the same space starts without
        self.k.sched.make_runnable(t)
        if self.k.events is not None:
            self.k.event("fork", parent_thread, child=child.pid)
        return child.pid

    def _discard(self, p):
        p.parent.children.remove(p)
        del self.procs[p.pid]

    def exit_lwp(self, t, status: int = 0) -> None:
        """The calling LWP t ends (exit, lwp_exit); the last one ends its process."""
        p = t.proc
        live = [x for x in p.threads if x is not t]
        if not live:
            self.exit(p, status)
        self._clear_tid(t)
        p.threads.remove(t)
        p.cputime += t.cputime
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
            self.k.futex.wake(t.proc, t.clear_tid, 1)

    def exit(self, p: Proc, status: int) -> None:
        """Terminate process p with wait status `status`; called by one of its LWPs, which
        then unwinds (raises ThreadExit). Every other LWP is stopped first."""
        if p.exiting:
            raise ThreadExit()
        p.exiting = True
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
        p.aspace.destroy()
        p.aspace = None
        if p is not self.init:
            for c in p.children:
                c.parent = self.init
                self.init.children.append(c)
            if any(c.state == ZOMBIE for c in p.children):
                self.k.sched.wakeup(self.init)
            p.children = []
        p.cputime += sum(t.cputime for t in p.threads)
        p.threads = []
        p.lwp_zombies = {}
        p.state = ZOMBIE
        p.status = status
        if self.k.events is not None:
            self.k.event("exit", me, status=status)
        if p is self.init:
            self.k.halt_init(status)
        else:
            self.k.signals.post(p.parent, self.k.signals.SIGCHLD)
            self.k.sched.wakeup(p.parent)
        raise ThreadExit()

    def wait(self, p: Proc, pid: int, options: int):
        """Reap a child: returns (pid, status), or (0, 0) with WNOHANG; SysError otherwise."""
        while True:
            kids = [c for c in p.children if pid == -1 or c.pid == pid
                    or (pid == 0 and c.pgid == p.pgid) or (pid < -1 and c.pgid == -pid)]
            if not kids:
                raise SysError(ECHILD)
            for c in kids:
                if c.state == ZOMBIE:
                    p.children.remove(c)
                    del self.procs[c.pid]
                    return c.pid, c.status
                if options & WUNTRACED and c.sig.stop_report:
                    sig, c.sig.stop_report = c.sig.stop_report, 0
                    return c.pid, (sig << 8) | 0x7F
            if options & WNOHANG:
                return 0, 0
            if not self.k.sched.sleep(p):
                raise SysError(EINTR)
