"""The machine: harts, RAM, clock, per-hart timers, console, disk, and the interleaving loop.

Harts are interleaved in ONE host thread, in rounds: each round covers virtual time
[now, end) where end = min(now + quantum, next event); every hart, in an order drawn from
the seeded RNG, runs until its local time reaches end. Guest atomics stay atomic because
harts never run at the same host instant. Events (device completions, kernel timers) fire
at round boundaries, so they are exact. When no hart has work the clock jumps to the next
event: idle harts cost nothing.

The kernel drives the harts through this contract (its object is passed to run()):
    has_work(hid) -> bool      something runnable for hart hid
    run_hart(hid, until)       run hart hid until harts[hid].time >= until or it idles
    timer_interrupt(hid)       the hart's timer (set_timer) expired
    deadlock()                 nothing can ever run again

A debugger pauses the machine with request_stop() (from outside unicorn hooks): the harts
are held, the kernel's run_hart returns as soon as it sees stop_requested, and run()
returns None with paused set. The next run() resumes exactly where the pause cut in (same
round, same hart, same `until`), so a paused-and-resumed run is the run without pauses.
"""
import random

from .clock import Clock
from .console import Console
from .hart import Hart
from .memory import PhysMem

RAM_BASE = 0x8000_0000
MAX_HARTS = 8
NEVER = float("inf")


class Machine:
    def __init__(self, cpus=4, mem_mib=128, seed=0, quantum=10_000, console=None, disk=None):
        if not 1 <= cpus <= MAX_HARTS:
            raise ValueError(f"--cpus must be 1..{MAX_HARTS}")
        if not 4 <= mem_mib <= 4096:
            raise ValueError("--mem must be 4..4096 MiB")
        if quantum < 100:
            raise ValueError("--quantum must be at least 100 instructions")
        self.mem = PhysMem(RAM_BASE, mem_mib << 20)
        self.harts = [Hart(i, self.mem) for i in range(cpus)]
        for h in self.harts:
            h.time = 0
        self.clock = Clock()
        self.quantum = quantum
        self.rng = random.Random(seed)
        self.console = console or Console()
        self.console.clock = self.clock
        self.disk = disk                    # a Disk (disk.py) or None: the machine has no disk
        if disk is not None:
            disk.clock = self.clock
        self.timer = [NEVER] * cpus
        self.halted = False
        self.exit_status = None
        self.rounds = 0
        self.stop_requested = False         # request_stop() was called: run() returns soon
        self.paused = False                 # run() returned because of a stop request
        self._order = list(range(cpus))     # hart order, reshuffled every round
        self._round = None                  # [end, index into _order] of an interrupted round
        self._hart_until = None             # `until` of an interrupted kernel.run_hart call
        for h in self.harts:
            h.on_debug_stop = self.request_stop

    def set_timer(self, hid: int, deadline: int) -> None:
        self.timer[hid] = deadline

    def flush_tlb_all(self) -> None:
        for h in self.harts:
            h.flush_tlb()

    def flush_code_all(self, pa: int, length: int) -> None:
        for h in self.harts:
            h.flush_code(pa, length)

    def halt(self, status: int) -> None:
        self.halted = True
        self.exit_status = status

    def now(self) -> int:
        return self.clock.now

    def request_stop(self) -> None:
        """Pause: the running hart stops at its next instruction boundary that the kernel
        reaches (after the kernel path in progress), and run() returns None."""
        self.stop_requested = True
        for h in self.harts:
            h.set_hold(True)

    def _pause(self):
        self.paused = True
        self.console.flush()
        return None

    def run(self, kernel, max_time=None) -> int:
        """Run until the machine halts and return the exit status; or, after request_stop(),
        return None (paused): calling run() again resumes."""
        harts, clock = self.harts, self.clock
        order = self._order
        if self.stop_requested or self.paused:
            self.stop_requested = self.paused = False
            for h in harts:
                h.set_hold(False)
        while not self.halted:
            if self._round is not None:
                end = self._round[0]
            else:
                for ev in clock.pop_due(clock.now):
                    ev.fn()
                if self.halted:
                    break
                if self.stop_requested:
                    return self._pause()
                end = self._plan_round(kernel)
                if end is None:
                    if self.halted:
                        break
                    continue
                self._round = [end, 0]
            while self._round[1] < len(order):
                self._run_hart(kernel, harts[order[self._round[1]]], end)
                if self.stop_requested and not self.halted:
                    return self._pause()
                if self.halted:
                    break
                self._round[1] += 1
            self._round = None
            clock.now = end
            self.rounds += 1
            if max_time is not None and clock.now >= max_time:
                kernel.timeout()
                break
        self.console.flush()
        return self.exit_status

    def _plan_round(self, kernel):
        """End time of the next round (harts reshuffled), or None when no hart has work:
        then the clock has jumped to the next event, or the machine halted (deadlock)."""
        harts, clock, order = self.harts, self.clock, self._order
        self.console.poll()
        if not any(kernel.has_work(h.hid) for h in harts):
            t = clock.next_time()
            if t is None:
                if self.console.interactive:
                    self.console.flush()
                    self.console.poll(timeout=None)
                    return None
                kernel.deadlock()
                return None
            clock.now = max(clock.now, t)
            return None
        nxt = clock.next_time()
        end = clock.now + self.quantum
        if nxt is not None and clock.now < nxt < end:
            end = nxt
        if len(order) > 1:
            self.rng.shuffle(order)
        return end

    def _run_hart(self, kernel, h, end):
        hid = h.hid
        if h.time < self.clock.now:
            h.time = self.clock.now
        while h.time < end and not self.halted:
            until = self._hart_until
            if until is None:
                if h.time >= self.timer[hid]:
                    self.timer[hid] = NEVER
                    kernel.timer_interrupt(hid)
                    if self.stop_requested:
                        return
                    continue
                if not kernel.has_work(hid):
                    break
                until = self._hart_until = min(end, self.timer[hid])
            kernel.run_hart(hid, until)
            if self.stop_requested and not self.halted:
                return                      # resumed by the next run() with the same until
            self._hart_until = None
        if h.time < end:
            h.time = end
