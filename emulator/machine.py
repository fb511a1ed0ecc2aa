"""The machine: harts, RAM, clock, per-hart timers, console, and the interleaving loop.

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
    def __init__(self, cpus=4, mem_mib=128, seed=0, quantum=10_000, console=None):
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
        self.timer = [NEVER] * cpus
        self.halted = False
        self.exit_status = None
        self.rounds = 0

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

    def run(self, kernel, max_time=None) -> int:
        harts, clock = self.harts, self.clock
        order = list(range(len(harts)))
        while not self.halted:
            for ev in clock.pop_due(clock.now):
                ev.fn()
            if self.halted:
                break
            self.console.poll()
            if not any(kernel.has_work(h.hid) for h in harts):
                t = clock.next_time()
                if t is None:
                    if self.console.interactive:
                        self.console.flush()
                        self.console.poll(timeout=None)
                        continue
                    kernel.deadlock()
                    break
                clock.now = max(clock.now, t)
                continue
            nxt = clock.next_time()
            end = clock.now + self.quantum
            if nxt is not None and clock.now < nxt < end:
                end = nxt
            if len(order) > 1:
                self.rng.shuffle(order)
            for hid in order:
                self._run_hart(kernel, harts[hid], end)
                if self.halted:
                    break
            clock.now = end
            self.rounds += 1
            if max_time is not None and clock.now >= max_time:
                kernel.timeout()
                break
        self.console.flush()
        return self.exit_status

    def _run_hart(self, kernel, h, end):
        hid = h.hid
        if h.time < self.clock.now:
            h.time = self.clock.now
        while h.time < end and not self.halted:
            if h.time >= self.timer[hid]:
                self.timer[hid] = NEVER
                kernel.timer_interrupt(hid)
                continue
            if not kernel.has_work(hid):
                break
            kernel.run_hart(hid, min(end, self.timer[hid]))
        if h.time < end:
            h.time = end
