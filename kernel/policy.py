"""Scheduling policies: where a thread made runnable waits, which runnable thread a hart
runs next, for how long, and the bookkeeping those answers need. The mechanism (run
queues, sleep/wakeup, switching, stealing, preemption) is the Scheduler's (sched.py); a
policy only answers its five questions:

- place(t) -> Cpu: t was made runnable (new, woken, preempted, yielding): the hart whose
  queue it joins (at the tail).
- choose(cands, cpu) -> Thread: the thread cpu runs next, one of cands: the threads of
  cpu's queue it may run (affinity), idle daemons left out, oldest first; never empty.
- ran(t, ns): t held a hart for ns of virtual time (its user code, or its kernel code).
- time_slice(t) -> ns: how long t runs before the hart's timer checks whether another
  thread is waiting for the hart.
- preempt(t, waiting) -> bool: t's slice is over and the threads of waiting could run on
  its hart instead (its queue's candidates, else those it could steal): is t preempted and
  placed again? Round robin: whenever someone waits.

Adding a policy (Stride below, or lottery scheduling) is adding a subclass of Policy that
overrides what differs, and listing it in POLICIES (then --sched NAME selects it). Numbers
a policy keeps per scheduled entity live on t.group (the process of an LWP, or the pure
kernel thread itself): TwoLevel's and Stride's is `vtime` (one policy runs per boot); a
new one adds its attribute to Proc
(proc.py) and to Thread's slots (thread.py). A policy runs in kernel context, must not
sleep, and must be deterministic (draw lots from the kernel's seeded k.rng).

Stealing (an idle hart takes the most recently queued thread of the busiest hart it may
run) and the idle daemons (run only when a hart has nothing else) are the same under
every policy.
"""
from . import params


class Policy:
    """The interface, with round robin's answers: the base of every policy."""
    name = None

    def __init__(self, sched):
        self.sched = sched

    def place(self, t):
        """An idle hart t may run on (the one it last ran on, else the lowest id), else
        the least loaded of them (shortest queue, then the last one used, then lowest id)."""
        cpus = self.sched.cpus
        allowed = [c for c in cpus if t.affinity >> c.hid & 1] or cpus
        idle = [c for c in allowed if c.current is None and not c.runq]
        if t.cpu in idle:
            return t.cpu
        if idle:
            return idle[0]
        return min(allowed, key=lambda c: (len(c.runq) + 1, c is not t.cpu, c.hid))

    def choose(self, cands, cpu):
        return cands[0]

    def ran(self, t, ns: int) -> None:
        pass

    def time_slice(self, t) -> int:
        return params.TIME_SLICE_NS

    def preempt(self, t, waiting) -> bool:
        return bool(waiting)


def behind(t, waiting) -> bool:
    """For the policies fair between groups by g.vtime: does a thread of t's own group wait
    (round robin inside it), or one of a group that is behind t's? A group alone ahead of
    every waiting one keeps its hart: fair across the machine, not per hart (a process with
    one thread gets a whole hart while one with eight shares the others)."""
    g = t.group
    return any(w.group is g or w.group.vtime < g.vtime for w in waiting)


class Flat(Policy):
    """Round robin over all the runnable threads of a hart's queue."""
    name = "flat"


class TwoLevel(Policy):
    """Fair between processes, then round robin between a process's threads: first the
    group (process, or pure kernel thread) that has had the least CPU time (g.vtime), then
    that group's longest-waiting thread. A group coming back from sleep gets no credit for
    the time it slept: its vtime is raised to the least of those queued or running where it
    is placed."""
    name = "two-level"

    def place(self, t):
        cpu = Policy.place(self, t)         # named, not super(): Stride shares this method
        g = t.group
        busy = [x.group.vtime for x in cpu.runq] + ([cpu.current.group.vtime] if cpu.current else [])
        if busy and not self.sched.group_active(g, exclude=t):
            g.vtime = max(g.vtime, min(busy))
        return cpu

    def choose(self, cands, cpu):
        g = min((t.group for t in cands), key=lambda g: g.vtime)
        return next(t for t in cands if t.group is g)

    def ran(self, t, ns: int) -> None:
        t.group.vtime += ns

    def preempt(self, t, waiting) -> bool:
        return behind(t, waiting)


class Stride(Policy):
    """Stride scheduling between processes (Waldspurger and Weihl, 1995), then round robin
    between a process's threads. A group holds tickets(g) tickets; its pass (g.vtime) grows
    by STRIDE1 // tickets for every ns it runs, so over a busy stretch the groups' CPU times
    are in the ratio of their tickets; a hart runs the group with the least pass, its
    longest-waiting thread first. A group coming back from sleep gets no credit for the time
    it slept: its pass is raised to the least of those queued or running where it is placed.
    Deterministic: no lottery, ties go to the oldest waiting thread."""
    name = "stride"
    STRIDE1 = 1 << 20               # the pass one ns adds to a group holding one ticket

    @staticmethod
    def tickets(g) -> int:
        """20 - nice: 1..40 (nice 0: 20); a pure kernel thread (no nice) holds 20."""
        return 20 - getattr(g, "nice", 0)

    # LAB stride BEGIN: place, choose, ran and preempt of stride scheduling (docs/labs.md)
    # TwoLevel is stride with equal tickets: its answers are stride's, the pass's growth aside
    # (shared, not inherited: in the lab's tree Stride stays a Policy, written whole).
    place, choose, preempt = TwoLevel.place, TwoLevel.choose, TwoLevel.preempt

    def ran(self, t, ns: int) -> None:
        t.group.vtime += ns * (self.STRIDE1 // self.tickets(t.group))
    # LAB stride SKELETON
    # def place(self, t):
    #     return super().place(t)       # your code: a group back from sleep gets no credit
    #
    # def choose(self, cands, cpu):
    #     return cands[0]               # your code: the least pass, then the oldest thread
    #
    # def ran(self, t, ns: int) -> None:
    #     pass                          # your code: advance t's group's pass
    #
    # def preempt(self, t, waiting) -> bool:
    #     return bool(waiting)          # your code: keep the hart while t's group is ahead
    # LAB stride END


POLICIES = {p.name: p for p in (Flat, TwoLevel, Stride)}
