"""Preemption, a part of the Scheduler (sched.py): at the end of a time slice (the hart's
timer, through the machine) and at forced points (the race explorer's schedules,
tools/explore.py, through kernel/boot.py).

Both run between the runs of a hart (run_hart), with no kernel code running (self.cur is
None), never inside a unicorn hook. A preempted thread leaves its hart (Scheduler._off)
and is made runnable again, joining the queue its policy places it on. At the timer the
policy decides (policy.py: preempt); at a forced point the thread is preempted whenever
another thread may use the hart.
"""


class Preemption:
    """The Scheduler's preemption methods (mixed into Scheduler; self is the Scheduler)."""

    def timer_interrupt(self, hid: int) -> None:
        """Slice expired: round robin if anyone else can use this hart."""
        cpu = self.cpus[hid]
        t = cpu.current
        if t is None:
            return
        waiting = self._candidates(cpu)
        if not waiting:
            victim = self._victim(cpu)
            waiting = [x for x in victim.runq if not x.idle and x.affinity >> hid & 1] if victim else []
        preempt = self.policy.preempt(t, waiting)
        if self.k.events is not None:
            self.cur = cpu
            self.k.event("timer", t, preempt=preempt)
            self.cur = None
        if preempt:
            self.cur = cpu                      # the off event is this hart's, at its time
            self._off(cpu, t, "preempt")
            self.cur = None
            self.make_runnable(t)
        else:
            self.machine.set_timer(hid, cpu.hart.time + self.policy.time_slice(t))

    def preempt_at(self, points) -> None:
        """Forced preemption points, (hid, time) pairs (the race explorer's schedules,
        tools/explore.py): each is a clock event, so every hart's round ends at time, and
        then hart hid's thread is preempted as by its timer, to the back of the queue, if
        another thread may use the hart; if none may, the hart stalls one quantum with
        it, while the other harts run on. A point at an idle hart does nothing."""
        for hid, time in points:
            self.machine.clock.at(time, lambda c=self.cpus[hid]: self._forced(c))

    def _forced(self, cpu) -> None:
        t = cpu.current
        if t is None:
            return
        preempt = bool(self._candidates(cpu)) or self._victim(cpu) is not None
        self.cur = cpu
        if self.k.events is not None:
            self.k.event("timer", t, preempt=preempt, forced=True)
        if preempt:
            self._off(cpu, t, "preempt")
            self.cur = None
            self.make_runnable(t)
        else:
            self.cur = None
            cpu.hart.time = max(cpu.hart.time, self.machine.clock.now) + self.machine.quantum
