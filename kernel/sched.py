"""Kernel threads and the per-hart scheduler: run queues, sleep/wakeup, timer preemption.

Every runnable thing is a kernel thread (Thread) with its own kernel stack: a greenlet.
A thread with a user context (an LWP) alternates between user mode, where its hart runs
guest code, and kernel mode, where its greenlet runs kernel Python code for a trap.

Contracts:
- Kernel code runs only in a thread's greenlet (or in an event callback, which must not
  sleep). It leaves the greenlet only through sleep(), yield_(), exit or return-to-user,
  by switching to the scheduler greenlet (the machine loop). So the kernel is
  non-preemptive and each kernel path runs atomically up to its next sleep, as if under
  one big kernel lock: no kernel data needs a lock.
- Nothing here runs inside a unicorn hook: harts return Traps and we act afterwards.
- A thread's user registers live either in t.ctx or in the hart named by t.live (lazy
  save: a hart keeps the registers of the last thread it ran until another needs it).
"""
from collections import deque

from greenlet import greenlet

from emulator.hart import CAUSE_BUDGET, REG_PC, Trap

CAUSE_SIGNAL = -2

from . import cost, params
from .panic import KernelPanic

RUNNABLE, RUNNING, SLEEPING, ZOMBIE = "runnable", "running", "sleeping", "zombie"
USER, KERNEL = "user", "kernel"
TO_USER, SLEEP, YIELD, EXIT = "to_user", "sleep", "yield", "exit"


SIGNAL_CHECK = Trap(CAUSE_SIGNAL, 0, 0, 0)   # a pseudo-trap: enter the kernel to take signals


class ThreadExit(Exception):
    """Raised in a thread's greenlet to unwind its kernel stack when it exits."""


class Thread:
    def __init__(self, tid, name, proc, body):
        self.tid = tid
        self.name = name
        self.proc = proc                  # None for a pure kernel thread
        self.body = body                  # fn(thread, first_switch_value)
        self.glet = None
        self.state = RUNNABLE
        self.mode = USER if proc is not None else KERNEL
        self.ctx = None                   # saved user registers (list of NREGS) or None
        self.live = None                  # Cpu whose hart holds this thread's registers
        self.chan = None
        self.interruptible = False
        self.interrupted = False
        self.ready_at = 0
        self.cpu = None                   # Cpu it runs on (RUNNING) or last ran on
        self.cputime = 0
        self.fault = None                 # (cause, pc, addr) of the fault that killed it


class Cpu:
    def __init__(self, hart):
        self.hart = hart
        self.hid = hart.hid
        self.current = None
        self.runq = deque()
        self.loaded = None                # thread whose registers are in the hart
        self.aspace = None                # address space whose satp is in the hart
        self.switches = 0
        self.busy_time = 0                # virtual ns spent running user code
        self.instret = 0                  # user instructions retired


class Scheduler:
    def __init__(self, kernel):
        self.k = kernel
        self.machine = kernel.machine
        self.cpus = [Cpu(h) for h in self.machine.harts]
        self.main = greenlet.getcurrent()
        self.cur = None                   # Cpu executing kernel code now (None: event context)
        self.waiting = {}                 # chan -> [Thread]
        self.next_tid = 1
        self.threads = {}                 # tid -> Thread

    # ---- identity and time ----
    def mythread(self) -> Thread:
        return self.cur.current

    def now(self) -> int:
        return self.cur.hart.time if self.cur is not None else self.machine.clock.now

    def charge(self, cycles: int) -> None:
        if self.cur is not None:
            self.cur.hart.time += cycles

    # ---- thread creation ----
    def new_thread(self, name, proc, body) -> Thread:
        t = Thread(self.next_tid, name, proc, body)
        self.next_tid += 1
        t.glet = greenlet(run=lambda arg=None: self._thread_main(t, arg), parent=self.main)
        self.threads[t.tid] = t
        return t

    def _thread_main(self, t, arg):
        try:
            t.body(t, arg)
        except ThreadExit:
            pass
        return EXIT

    # ---- run queues ----
    def make_runnable(self, t: Thread) -> None:
        t.state = RUNNABLE
        t.ready_at = self.now()
        self._place(t).runq.append(t)

    def _place(self, t) -> Cpu:
        """Idle hart first (last one used, then lowest id), else the least loaded one."""
        idle = [c for c in self.cpus if c.current is None and not c.runq]
        if t.cpu in idle:
            return t.cpu
        if idle:
            return idle[0]
        return min(self.cpus, key=lambda c: (len(c.runq) + 1, c is not t.cpu, c.hid))

    def _pick(self, cpu: Cpu):
        if cpu.runq:
            return cpu.runq.popleft()
        victim = self._victim()
        if victim is not None:
            return victim.runq.pop()          # steal the most recently queued
        return None

    def _victim(self):
        """The busy hart with the longest queue: an idle hart serves its own queue."""
        busy = [c for c in self.cpus if c.runq and c.current is not None]
        return max(busy, key=lambda c: (len(c.runq), -c.hid)) if busy else None

    def has_work(self, hid: int) -> bool:
        cpu = self.cpus[hid]
        return cpu.current is not None or bool(cpu.runq) or self._victim() is not None

    # ---- the per-hart loop body, called by the machine ----
    def run_hart(self, hid: int, until: int) -> None:
        cpu = self.cpus[hid]
        h = cpu.hart
        self.cur = cpu
        try:
            while h.time < until:
                t = cpu.current
                if t is None:
                    t = self._pick(cpu)
                    if t is None:
                        return
                    self._switch_in(cpu, t)
                if t.mode == USER and t.proc.sig.pending and self.k.signals.interrupting(t.proc):
                    t.mode = KERNEL                 # as if interrupted: deliver on the way back
                    msg = t.glet.switch(SIGNAL_CHECK)
                elif t.mode == USER:
                    self._enter_user(cpu, t)
                    start = h.time
                    trap = h.run(until - h.time, h.time)
                    h.time += trap.executed
                    cpu.instret += trap.executed
                    t.cputime += h.time - start
                    cpu.busy_time += h.time - start
                    if trap.cause == CAUSE_BUDGET:
                        continue
                    h.time += cost.TRAP_ENTRY
                    t.mode = KERNEL
                    msg = t.glet.switch(trap)
                else:
                    msg = t.glet.switch()
                self._after(cpu, t, msg)
        finally:
            self.cur = None

    def _switch_in(self, cpu, t) -> None:
        h = cpu.hart
        if h.time < t.ready_at:
            h.time = t.ready_at
        t.state = RUNNING
        t.cpu = cpu
        cpu.current = t
        cpu.switches += 1
        if self.k.events is not None:
            self.k.event("switch", t.tid, t.name)
        h.time += cost.KTHREAD_SWITCH
        self.machine.set_timer(cpu.hid, h.time + params.TIME_SLICE_NS)

    def _enter_user(self, cpu, t) -> None:
        h = cpu.hart
        aspace = t.proc.aspace
        if cpu.aspace is not aspace:
            h.set_satp(aspace.satp)
            cpu.aspace = aspace
            h.time += cost.ASPACE_SWITCH + cost.TLB_REFILL
        if t.live is not cpu:
            if t.live is not None:             # registers still on the hart it last ran on
                self._save(t.live)
            if cpu.loaded is not None:
                self._save(cpu)
            h.load(t.ctx)
            cpu.loaded = t
            t.live = cpu

    def _save(self, cpu) -> None:
        t = cpu.loaded
        t.ctx = cpu.hart.save()
        t.live = None
        cpu.loaded = None

    def _after(self, cpu, t, msg) -> None:
        h = cpu.hart
        if msg == TO_USER:
            t.mode = USER
            h.time += cost.TRAP_EXIT
            return
        cpu.current = None
        if msg == YIELD:
            self.make_runnable(t)
        elif msg == EXIT:
            t.state = ZOMBIE
            self.threads.pop(t.tid, None)
            if t.live is not None:
                t.live.loaded = None
                t.live = None
        elif msg != SLEEP:
            raise KernelPanic(f"thread {t.tid} returned {msg!r} to the scheduler")

    def timer_interrupt(self, hid: int) -> None:
        """Slice expired: round robin if anyone else can use this hart."""
        cpu = self.cpus[hid]
        t = cpu.current
        if t is None:
            return
        if any(c.runq for c in self.cpus):
            cpu.current = None
            self.make_runnable(t)
        else:
            self.machine.set_timer(hid, cpu.hart.time + params.TIME_SLICE_NS)

    # ---- called from a thread's greenlet ----
    def to_user(self):
        """Return the current thread to user mode; resumes with its next Trap."""
        return self.main.switch(TO_USER)

    def yield_(self) -> None:
        self.main.switch(YIELD)

    def sleep(self, chan, interruptible=True) -> bool:
        """Block the current thread on chan until wakeup(chan). Returns False if a signal
        interrupted the sleep (only when interruptible). Callers recheck their condition."""
        t = self.mythread()
        if interruptible and t.proc is not None and self.k.signals.interrupting(t.proc):
            return False
        t.state = SLEEPING
        t.chan = chan
        t.interruptible = interruptible
        self.waiting.setdefault(chan, []).append(t)
        self.main.switch(SLEEP)
        t.chan = None
        if t.interrupted:
            t.interrupted = False
            return False
        return True

    def wakeup(self, chan) -> None:
        for t in self.waiting.pop(chan, ()):
            if self.k.events is not None:
                self.k.event("wakeup", t.tid)
            t.chan = None
            self.make_runnable(t)

    def interrupt(self, t) -> None:
        """Wake t from an interruptible sleep (signal delivery)."""
        if t.state != SLEEPING or not t.interruptible:
            return
        q = self.waiting.get(t.chan)
        if q is not None and t in q:
            q.remove(t)
            if not q:
                del self.waiting[t.chan]
        t.chan = None
        t.interrupted = True
        self.make_runnable(t)

    def sleep_until(self, deadline: int) -> bool:
        """Sleep until virtual time deadline; False if interrupted by a signal first."""
        chan = object()
        ev = self.machine.clock.at(deadline, lambda: self.wakeup(chan))
        while self.now() < deadline:
            if not self.sleep(chan):
                ev.cancel()
                return False
        return True

    # ---- registers of a thread, wherever they live ----
    def regs(self, t) -> list:
        if t.live is not None:
            return t.live.hart.save()
        return list(t.ctx)

    def set_regs(self, t, regs) -> None:
        if t.live is not None:
            t.live.loaded = None
            t.live = None
        t.ctx = list(regs)

    def set_reg(self, t, n: int, value: int) -> None:
        if t.live is not None:
            if n == REG_PC:
                t.live.hart.set_pc(value)
            else:
                t.live.hart.set_x(n, value)
        elif n:
            t.ctx[n] = value & 0xFFFFFFFFFFFFFFFF

    def kill_thread(self, t) -> None:
        """Stop thread t for good (its process is exiting). t is not the caller; since
        kernel paths run atomically, t is sleeping, queued, or in user mode on a hart."""
        if t.state == SLEEPING:
            q = self.waiting.get(t.chan)
            if q is not None and t in q:
                q.remove(t)
                if not q:
                    del self.waiting[t.chan]
        for c in self.cpus:
            if t in c.runq:
                c.runq.remove(t)
            if c.current is t:
                c.current = None
        if t.live is not None:
            t.live.loaded = None
            t.live = None
        t.state = ZOMBIE
        self.threads.pop(t.tid, None)
