"""The per-hart scheduler of kernel threads: run queues, sleep/wakeup, preemption.

Every runnable thing is a kernel thread (thread.Thread) with its own kernel stack: a greenlet.
A thread with a user context (an LWP) alternates between user mode, where its hart runs
guest code, and kernel mode, where its greenlet runs kernel Python code for a trap. Pure
kernel threads (daemons) have no user context and run only kernel code.

Contracts:
- Kernel code runs only in a thread's greenlet (or in an event callback, which must not
  sleep). It leaves the greenlet only through sleep(), yield_(), exit or return-to-user,
  by switching to the scheduler greenlet (the machine loop). So the kernel is
  non-preemptive and each kernel path runs atomically up to its next sleep, as if under
  one big kernel lock: no kernel data needs a lock.
- Nothing here runs inside a unicorn hook: harts return Traps and we act afterwards.
- A thread's user registers live either in t.ctx or in the hart named by t.live (lazy
  save: a hart keeps the registers of the last thread it ran until another needs it).
- Solo rounds (emulator/machine.py): whenever a hart other than the one running kernel
  code may have gained work (a thread queued on another hart, or queued on a busy hart
  where another hart may steal it), the scheduler calls machine.kick(); run_hart returns
  at its next loop boundary once the machine is kicked.
- A thread's state changes only through thread.set_state, called from the functions here;
  it checks each change against the state machine written in thread.py.

The policy (--sched, policy.py: flat or two-level) places a thread made runnable, chooses
the next thread of a queue, accounts run time and sets the time slice. Mechanism here,
the same under every policy: daemons marked idle run only when nothing else can; an idle
hart steals the most recently queued thread of the busiest hart. Preemption, by the hart's
timer or at forced points, is preempt.py's (a part of the Scheduler).
"""
from collections import deque

from greenlet import GreenletExit, greenlet

from . import arch, utrace
from .panic import KernelPanic
from .policy import POLICIES, Policy
from .preempt import Preemption
from .thread import (INTERRUPTED, KERNEL, RUNNABLE, RUNNING, SLEEPING, TIMEOUT, USER, WOKEN, ZOMBIE,
                     Thread, set_state)
from .trace import chan_name
from .vm import WX_CAUSES

# What a thread's greenlet says when it switches back to the scheduler (run_hart).
TO_USER, SLEEP, YIELD, EXIT = "to_user", "sleep", "yield", "exit"
REAPER_CHAN = ("kreaper",)                  # sleep channel of the reaper daemon
BUDGET = arch.BUDGET
SIGNAL_CHECK = arch.Trap(arch.SIGNAL, 0, 0, 0)   # a pseudo-trap: enter the kernel to take signals


class ThreadExit(Exception):
    """Raised in a thread's greenlet to unwind its kernel stack when it exits."""


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
        self.sys_time = 0                 # virtual ns spent running kernel code
        self.instret = 0                  # user instructions retired
        self.asids = []                   # address spaces its TLB holds tagged, oldest first


class Scheduler(Preemption):
    def __init__(self, kernel, policy="flat"):
        if policy not in POLICIES:
            raise ValueError(f"--sched must be one of {', '.join(POLICIES)}")
        self.k = kernel
        self.machine = kernel.machine
        self.cpus = [Cpu(h) for h in self.machine.harts]
        self.policy = POLICIES[policy](self)
        # policy.ran after every user run, or None when the policy keeps Policy's (no-op) ran
        self._ran = None if type(self.policy).ran is Policy.ran else self.policy.ran
        self.all_harts = (1 << len(self.cpus)) - 1
        self.main = greenlet.getcurrent()
        self.cur = None                   # Cpu executing kernel code now (None: event context)
        self.waiting = {}                 # chan -> [Thread]
        self.threads = {}                 # tid -> Thread, live ones
        self.dead = []                    # exited threads whose kernel stacks await the reaper

    # ---- identity and time ----
    def mythread(self) -> Thread:
        return self.cur.current

    def now(self) -> int:
        return self.cur.hart.time if self.cur is not None else self.machine.clock.now

    def charge(self, cycles: int) -> None:
        if self.cur is not None:
            self.cur.hart.time += cycles

    # ---- thread creation ----
    def new_thread(self, tid, name, proc, body, idle=False) -> Thread:
        t = Thread(tid, name, proc, body, idle)
        t.glet = greenlet(run=lambda arg=None: self._thread_main(t, arg), parent=self.main)
        self.threads[tid] = t
        return t

    def _thread_main(self, t, arg):
        try:
            t.body(t, arg)
        except ThreadExit:
            pass
        return EXIT

    # ---- run queues ----
    def make_runnable(self, t: Thread):
        """t (new, woken, or leaving its hart) joins the queue of the hart the policy places
        it on; returns that hart's Cpu."""
        set_state(t, RUNNABLE)
        return self._enqueue(t)

    def _enqueue(self, t: Thread):
        t.ready_at = max(self.now(), t.left_at)   # never before it left its last hart
        cpu = self.policy.place(t)
        cpu.runq.append(t)
        if cpu is not self.cur or cpu.current is not None and self._stealable(t, cpu):
            self.machine.kick()             # another hart has work now
        return cpu

    def run_next(self, t: Thread) -> None:
        """New thread t goes to the head of this hart's queue, not where the policy would
        place it: the hart's current thread is about to sleep and hands its hart over (a
        scheduler activation's vp going on with a new activation, sa.py). The policy still
        chooses: flat runs t next; two-level does if t's process is the one due."""
        set_state(t, RUNNABLE)
        t.ready_at = self.now()
        self.cur.runq.appendleft(t)

    def _stealable(self, t, cpu) -> bool:
        """May a hart other than cpu steal t from cpu's queue (while cpu is busy)?"""
        return not t.idle and t.affinity & self.all_harts & ~(1 << cpu.hid) != 0

    def group_active(self, g, exclude) -> bool:
        """Has group g (a process, or a pure kernel thread) a thread other than exclude that
        is runnable or running? (For policies: policy.py.)"""
        threads = [g] if isinstance(g, Thread) else g.threads
        return any(x is not exclude and x.state in (RUNNABLE, RUNNING) for x in threads)

    @staticmethod
    def _candidates(cpu):
        """The threads of cpu's queue the policy may choose from (see policy.py)."""
        return [t for t in cpu.runq if not t.idle and t.affinity >> cpu.hid & 1]

    def _pick(self, cpu: Cpu):
        cands = self._candidates(cpu)
        t = self.policy.choose(cands, cpu) if cands else None
        if t is None:
            victim = self._victim(cpu)
            if victim is not None:
                t = [x for x in victim.runq if not x.idle and x.affinity >> cpu.hid & 1][-1]
                victim.runq.remove(t)          # steal the most recently queued
                return t
            t = next((x for x in cpu.runq if x.idle), None)
            if t is None:
                return None
        cpu.runq.remove(t)
        return t

    def _victim(self, cpu):
        """The busy hart with the longest queue of threads cpu may run: an idle hart
        serves its own queue."""
        best = None
        for c in self.cpus:
            if c is cpu or c.current is None:
                continue
            n = sum(1 for x in c.runq if not x.idle and x.affinity >> cpu.hid & 1)
            if n and (best is None or n > best[0]):
                best = (n, c)
        return best[1] if best else None

    def has_work(self, hid: int) -> bool:
        """Contract with the machine loop: if True, run_hart(hid) makes progress."""
        cpu = self.cpus[hid]
        return (cpu.current is not None or any(x.idle or x.affinity >> hid & 1 for x in cpu.runq)
                or self._victim(cpu) is not None)

    def requeue(self, t) -> None:
        """t's affinity changed: move it off a run queue it may no longer be served from."""
        for c in self.cpus:
            if t in c.runq and not t.affinity >> c.hid & 1:
                c.runq.remove(t)
                self._enqueue(t)
                return
        self.machine.kick()                 # an idle hart may now steal t

    # ---- the per-hart loop body, called by the machine ----
    def run_hart(self, hid: int, until: int) -> None:
        cpu = self.cpus[hid]
        h = cpu.hart
        self.cur = cpu
        m = self.machine
        ran = self._ran
        try:
            while h.time < until and not m.stop_requested and not m.kicked:   # pause, kick: machine.py
                t = cpu.current
                if t is None:
                    t = self._pick(cpu)
                    if t is None:
                        return
                    self._switch_in(cpu, t)
                start = h.time
                if t.mode != USER:
                    msg = t.glet.switch()
                    t.cputime += h.time - start
                    self.policy.ran(t, h.time - start)
                elif ((t.proc.sig.pending or t.sigpending or t.proc.sig.stopped) and self.k.signals.wants(t)
                        or t.act is not None and (t.act.interrupt or t.act.pending)):
                    t.mode = KERNEL                 # as if interrupted: deliver on the way back
                    msg = t.glet.switch(SIGNAL_CHECK)
                else:
                    p = t.proc
                    if cpu.aspace is not p.aspace or t.live is not cpu:
                        self._enter_user(cpu, t)
                    now = h.time
                    vt = p.vtimer
                    budget = until - now if vt is None else min(until - now, max(1, vt[0]))  # exact expiry
                    trap = h.run(budget, now)
                    cause = trap.cause
                    if cause in WX_CAUSES:          # W^X switches (vm.py): no kernel entry
                        while True:
                            done, trap = trap, p.aspace.coherence(h, trap, now, budget)
                            cause = trap.cause
                            if trap is done or cause not in WX_CAUSES:
                                break
                    n = trap.executed
                    free = cause == arch.SYSCALL and self.k.utrace and utrace.trace_only(self.k, t, h)
                    if free:                                # the observer's call: no time (utrace.py)
                        n -= min(n, utrace.STUB)
                    h.time = now + n
                    cpu.instret += n
                    cpu.busy_time += n
                    t.cputime += n
                    t.utime += n
                    if ran is not None:
                        ran(t, n)
                    if vt is not None:
                        self.k.itimers.user_time(t, n)
                    if cause == BUDGET:
                        continue
                    if free:
                        utrace.report(self.k, t, h)
                        continue
                    h.time += self.k.cost.TRAP_ENTRY
                    t.mode = KERNEL
                    start = h.time
                    msg = t.glet.switch(trap)
                t.stime += h.time - start           # kernel code, up to this thread's next stop
                cpu.sys_time += h.time - start
                if msg == TO_USER and t.affinity >> hid & 1:
                    t.mode = USER                   # _after's common case, inline
                    h.time += self.k.cost.TRAP_EXIT
                else:
                    self._after(cpu, t, msg)
        finally:
            self.cur = None

    def _switch_in(self, cpu, t) -> None:
        h = cpu.hart
        if h.time < t.ready_at:
            h.time = t.ready_at
        set_state(t, RUNNING)
        t.cpu = cpu
        cpu.current = t
        if cpu.runq and any(self._stealable(x, cpu) for x in cpu.runq):
            self.machine.kick()             # cpu is busy now: other harts may steal
        cpu.switches += 1
        h.time += self.k.cost.KTHREAD_SWITCH
        self.machine.set_timer(cpu.hid, h.time + self.policy.time_slice(t))
        if self.k.events is not None:
            self.k.event("switch", t, name=t.name)

    def _enter_user(self, cpu, t) -> None:
        h = cpu.hart
        aspace = t.proc.aspace
        if cpu.aspace is not aspace:
            h.set_satp(aspace.satp)
            cpu.aspace = aspace
            cost = self.k.cost
            h.time += cost.ASPACE_SWITCH
            if aspace in cpu.asids:             # still tagged in this hart's TLB: no refill
                cpu.asids.remove(aspace)
            else:
                h.time += cost.TLB_REFILL
            if cost.TLB_ASIDS:
                cpu.asids.append(aspace)
                del cpu.asids[:-cost.TLB_ASIDS]
            if self.k.events is not None:
                self.k.event("aspace", t, pid=t.proc.pid)
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
            h.time += self.k.cost.TRAP_EXIT
            if not t.affinity >> cpu.hid & 1:      # sched_setaffinity moved it off this hart
                self._off(cpu, t, "migrate")
                self.make_runnable(t)
            return
        self._off(cpu, t, msg)
        if msg == YIELD:
            self.make_runnable(t)
        elif msg == EXIT:
            self._bury(t)
        elif msg != SLEEP:
            raise KernelPanic(f"thread {t.tid} returned {msg!r} to the scheduler")

    def _off(self, cpu, t, why) -> None:
        cpu.current = None
        t.left_at = cpu.hart.time
        if self.k.events is not None:
            self.k.event("off", t, why=why)

    def _bury(self, t) -> None:
        set_state(t, ZOMBIE)
        self.threads.pop(t.tid, None)
        if t.live is not None:
            t.live.loaded = None
            t.live = None
        self.dead.append(t)
        self.wakeup(REAPER_CHAN)

    # ---- called from a thread's greenlet ----
    def to_user(self):
        """Return the current thread to user mode; resumes with its next Trap."""
        return self.main.switch(TO_USER)

    def yield_(self) -> None:
        self.main.switch(YIELD)

    def sleep(self, chan, interruptible=True) -> bool:
        """Block the current thread on chan until wakeup(chan). Returns False if a signal
        interrupted the sleep (only when interruptible). Callers recheck their condition."""
        return self.sleep_timed(chan, None, interruptible) != INTERRUPTED

    def sleep_timed(self, chan, deadline, interruptible=True) -> str:
        """Like sleep, with an optional virtual-time deadline: WOKEN, TIMEOUT or INTERRUPTED."""
        t = self.mythread()
        if interruptible and t.proc is not None and self.k.signals.deliverable(t.proc, t):
            return INTERRUPTED
        p = t.proc
        if (t.act is not None and t.act.hands_over() and not p.exiting and not p.sig.stopped
                and p.sa is not None and p.sa.enabled):
            self.k.sa.on_block(t)             # its virtual processor goes on with an upcall
        set_state(t, SLEEPING)
        t.chan = chan
        t.interruptible = interruptible
        t.wake_reason = WOKEN
        self.waiting.setdefault(chan, []).append(t)
        if self.k.events is not None:
            self.k.event("sleep", t, chan=chan_name(chan))
        ev = None
        if deadline is not None:
            ev = self.machine.clock.at(deadline, lambda: self._unsleep(t, chan, TIMEOUT))
        self.main.switch(SLEEP)
        if ev is not None:
            ev.cancel()
        t.chan = None
        return t.wake_reason

    def _unsleep(self, t, chan, reason) -> None:
        if t.state != SLEEPING or t.chan is not chan:
            return
        q = self.waiting.get(chan)
        if q is not None and t in q:
            q.remove(t)
            if not q:
                del self.waiting[chan]
        t.chan = None
        t.wake_reason = reason
        if self.k.events is not None:
            self.k.event("wakeup", t, chan=chan_name(chan), by=0, reason=reason)
        self.make_runnable(t)

    def wakeup(self, chan, n=None) -> int:
        """Wake the threads sleeping on chan (at most n, oldest first); how many woke."""
        q = self.waiting.get(chan)
        if not q:
            return 0
        woken = q if n is None else q[:n]
        rest = [] if n is None else q[n:]
        if rest:
            self.waiting[chan] = rest
        else:
            del self.waiting[chan]
        for t in woken:
            if self.k.events is not None:
                by = self.cur.current if self.cur is not None else None
                self.k.event("wakeup", t, chan=chan_name(chan), by=by.tid if by is not None else 0)
            t.chan = None
            t.wake_reason = WOKEN
            cost = self.k.cost
            self.charge(cost.WAKEUP)
            if self.make_runnable(t) is not self.cur and self.cur is not None:
                self.charge(cost.IPI)       # the interrupt that tells the other hart
        return len(woken)

    def interrupt(self, t) -> None:
        """Wake t from an interruptible sleep (signal delivery)."""
        if t.state == SLEEPING and t.interruptible:
            self._unsleep(t, t.chan, INTERRUPTED)

    def sleep_until(self, deadline: int) -> bool:
        """Sleep until virtual time deadline; False if interrupted by a signal first."""
        return self.sleep_timed(("nanosleep", object()), deadline) != INTERRUPTED

    def kill_thread(self, t) -> None:
        """Stop thread t for good (its process is exiting); t is not the caller. Since
        kernel paths run atomically, t is sleeping, queued, or in user mode on a hart.
        Its kernel stack is unwound now (ThreadExit thrown into it), deterministically."""
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
                if self.k.events is not None:      # stamped with that hart and its time
                    cur, self.cur = self.cur, c
                    self.k.event("off", t, why="kill")
                    self.cur = cur
        if t.glet is not None and t.glet and not t.glet.dead:
            t.glet.parent = greenlet.getcurrent()
            t.glet.throw(ThreadExit())
        self._bury(t)

    def shutdown(self) -> None:
        """After the machine halted: unwind every kernel stack still suspended, so that
        nothing keeps the machine alive (a suspended greenlet holds its frames)."""
        me = greenlet.getcurrent()
        for t in list(self.threads.values()) + self.dead:
            g = t.glet
            if g is not None and g and not g.dead:
                g.parent = me
                g.throw(GreenletExit)

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
        """Set register n (an arch name: arch.A0, arch.PC, ...) of t's user context."""
        if t.live is not None:
            if n == arch.PC:
                t.live.hart.set_pc(value)
            else:
                t.live.hart.set_x(n, value)
        elif n != arch.ZERO:
            t.ctx[n] = value & arch.WORD_MASK
