"""Processes: creation (fork), exit, wait, and the process table.

A process owns an address space, a file table, a cwd and one or more threads (LWPs).
Invariants: procs holds every process until its parent reaps it; a ZOMBIE has no address
space, no files and no threads; every process but init has a parent in procs; when a
parent exits its children are given to init (pid 1).
"""
from . import cost, params
from .errno import EAGAIN, ECHILD, EINTR, ENOMEM, SysError
from .kalloc import OutOfMemory
from .sched import ThreadExit

ALIVE, ZOMBIE = "alive", "zombie"
WNOHANG = 1


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
        self.threads = []
        self.state = ALIVE
        self.status = 0                  # wait status, valid once ZOMBIE
        self.pgid = pid
        self.sid = pid
        self.symbols = None              # symbol table of the running image, for reports
        self.sig = None                  # SigState, set by signals.init_proc
        self.exiting = False
        self.cputime = 0                 # cputime of threads that already exited

    @property
    def ppid(self) -> int:
        return self.parent.pid if self.parent is not None else 0


class ProcTable:
    def __init__(self, kernel):
        self.k = kernel
        self.procs = {}                  # pid -> Proc, in creation order
        self.next_pid = 1
        self.init = None

    def _alloc_pid(self) -> int:
        while self.next_pid in self.procs:
            self.next_pid += 1
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def new_proc(self, parent, name) -> Proc:
        if len(self.procs) >= params.NPROC:
            raise SysError(EAGAIN)
        p = Proc(self._alloc_pid(), parent, name)
        self.k.signals.init_proc(p, parent)
        if parent is not None:
            parent.children.append(p)
            p.pgid, p.sid = parent.pgid, parent.sid
            p.cwd = parent.cwd
        self.procs[p.pid] = p
        self.k.charge(cost.PROC_CREATE)
        return p

    def new_lwp(self, p: Proc, ctx) -> "Thread":
        t = self.k.sched.new_thread(p.name, p, self.k.trap.lwp_body)
        t.ctx = ctx
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
        regs[10] = 0                     # the child sees fork() return 0
        t = self.new_lwp(child, regs)
        self.k.sched.make_runnable(t)
        if self.k.events is not None:
            self.k.event("fork", parent.pid, child.pid)
        return child.pid

    def _discard(self, p):
        p.parent.children.remove(p)
        del self.procs[p.pid]

    def exit(self, p: Proc, status: int) -> None:
        """Terminate process p with wait status `status`; called by one of its threads,
        which then unwinds (raises ThreadExit). Other threads are stopped too."""
        if p.exiting:
            raise ThreadExit()
        p.exiting = True
        me = self.k.sched.mythread()
        for t in list(p.threads):
            if t is not me:
                self.k.sched.kill_thread(t)
        for fd in range(params.NOFILE):
            if p.files[fd] is not None:
                p.files[fd].close()
                p.files[fd] = None
        if p.cwd is not None:
            p.cwd = None
        p.aspace.destroy()
        if p is not self.init:
            for c in p.children:
                c.parent = self.init
                self.init.children.append(c)
            if any(c.state == ZOMBIE for c in p.children):
                self.k.sched.wakeup(self.init)
            p.children = []
        p.cputime += sum(t.cputime for t in p.threads)
        p.threads = []
        p.state = ZOMBIE
        p.status = status
        if self.k.events is not None:
            self.k.event("exit", p.pid, status)
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
            if options & WNOHANG:
                return 0, 0
            if not self.k.sched.sleep(p):
                raise SysError(EINTR)
