"""The machine: harts, RAM, clock, per-hart timers, console, disk, and the interleaving loop.

Harts are interleaved in ONE host thread, in rounds. A round covers virtual time [now, end);
guest atomics stay atomic because harts never run at the same host instant. Events (device
completions, kernel timers) fire between rounds, and rounds end at the next event, so they
are exact. Each round is planned from the harts that have work:
- none: no round; the clock jumps to the next event (idle harts cost nothing).
- two or more: end = min(now + quantum, next event); every hart, in an order drawn from the
  seeded RNG, runs until its local time reaches end (an idle hart's time is set to end).
- exactly one, a solo round: end = min(now + SOLO_QUANTA * quantum, next event) and only
  that hart runs; the others keep their time and catch up with the clock in the next round
  they take part in. The round is cut short, and ends at the solo hart's time, when that
  hart idles, or when something that could make another hart run is created: the kernel
  calls kick() when it may have given work to another hart (a wakeup, fork, preemption...)
  and the clock reports an event scheduled before the round's end. The kernel's run_hart
  returns at its next loop boundary after a kick, so the other hart starts, or the event
  fires, no later than with quantum-long rounds. While one hart alone has work nothing can
  observe the round's length: solo rounds save the per-round cost (most of the host time
  of a CPU-bound program on a quiet machine) and draw nothing from the RNG.
No round crosses max_time, where run() halts the machine.

The kernel drives the harts through this contract (its object is passed to run()):
    has_work(hid) -> bool      something runnable for hart hid
    run_hart(hid, until)       run hart hid until harts[hid].time >= until or it idles
                               (returning at once if it has no work); return early, at a
                               loop boundary, once stop_requested or kicked is set
    timer_interrupt(hid)       the hart's timer (set_timer) expired
    deadlock()                 nothing can ever run again
    timeout()                  run()'s max_time was reached

A debugger pauses the machine with request_stop() (from outside unicorn hooks): the harts
are held, the kernel's run_hart returns as soon as it sees stop_requested, and run()
returns None with paused set. The next run() resumes exactly where the pause cut in (same
round, same hart, same `until`, same kick; at a round boundary, the due events already
fired, not those they scheduled for now), so a paused-and-resumed run is the run without
pauses: the same events, output, virtual times and instruction counts, wherever the stop
was requested (tests/test_pause.py). A stop requested during the kernel call that halts the
machine is dropped: that call goes on to its `until`, as it would have.
"""
import random

from . import blockcount
from .clock import Clock
from .console import Console
from .hart import Hart
from .memory import PhysMem

RAM_BASE = 0x8000_0000
MAX_HARTS = 8
NEVER = float("inf")
SOLO_QUANTA = 64        # quanta a solo round lasts at most: bounds the console's poll latency


class _Round:
    __slots__ = ("end", "harts", "next", "solo")

    def __init__(self, end, harts, solo):
        self.end = end                  # planned end; a solo round's is lowered when it ends
        self.harts = harts              # the harts to run, in order
        self.next = 0                   # index in harts of the one running or next to run
        self.solo = solo


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
        self.clock.on_schedule = self._scheduled
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
        self.kicked = False                 # the solo round in progress must end (see kick)
        self._order = list(range(cpus))     # hart order, reshuffled every round of 2+ harts
        self._round = None                  # the _Round in progress (kept across a pause)
        self._hart_until = None             # `until` of an interrupted kernel.run_hart call
        self._fired = False                 # the due events of this boundary fired (kept across a pause)
        for h in self.harts:
            h.on_debug_stop = self.request_stop

    def notes(self) -> list:
        """The emulator's fallbacks in use, one line each, for the boot log (empty when the
        harts count natively and rdcycle/rdinstret are virtual: see blockcount.py)."""
        return blockcount.notes()

    def set_timer(self, hid: int, deadline: int) -> None:
        self.timer[hid] = deadline

    def flush_code_all(self, pa: int, length: int) -> None:
        for h in self.harts:
            h.flush_code(pa, length)

    def halt(self, status: int) -> None:
        self.halted = True
        self.exit_status = status

    def now(self) -> int:
        return self.clock.now

    def kick(self) -> None:
        """The kernel may have given work to a hart other than the running one: a solo
        round ends at the running hart's next loop boundary. Harmless at any other time,
        and on a one-hart machine."""
        r = self._round
        if r is not None and r.solo and len(self.harts) > 1:
            self.kicked = True

    def _scheduled(self, time: int) -> None:
        """Clock.on_schedule: an event due before a solo round's end ends the round, so that
        the next one ends at the event."""
        r = self._round
        if r is not None and r.solo and time < r.end:
            self.kicked = True

    def request_stop(self) -> None:
        """Pause: the running hart stops at its next instruction boundary that the kernel
        reaches (after the kernel path in progress), and run() returns None."""
        self.stop_requested = True
        for h in self.harts:
            h.set_hold(True)

    def _release(self) -> None:
        self.stop_requested = self.paused = False
        for h in self.harts:
            h.set_hold(False)

    def _pause(self):
        self.paused = True
        self.console.flush()
        return None

    def run(self, kernel, max_time=None) -> int:
        """Run until the machine halts and return the exit status; or, after request_stop(),
        return None (paused): calling run() again resumes."""
        clock = self.clock
        if self.stop_requested or self.paused:
            self._release()
        while not self.halted:
            r = self._round
            if r is None:
                if not self._fired:
                    for ev in clock.pop_due(clock.now):
                        ev.fn()
                    self._fired = True          # (a resume must not fire what they scheduled)
                if self.halted:
                    break
                if self.stop_requested:
                    return self._pause()
                self._fired = False
                r = self._round = self._plan_round(kernel, max_time)
                if r is None:
                    continue
            harts = r.harts
            while r.next < len(harts):
                h = harts[r.next]
                self._run_hart(kernel, h, r.end)
                if self.stop_requested and not self.halted:
                    return self._pause()
                if r.solo:
                    r.end = min(r.end, h.time)      # it reached the end, idled or was kicked
                elif h.time < r.end:
                    h.time = r.end                  # it idled
                if self.halted:
                    break
                r.next += 1
            self._round = None
            clock.now = r.end
            self.rounds += 1
            if max_time is not None and clock.now >= max_time:
                kernel.timeout()
                break
        self.console.flush()
        return self.exit_status

    def _plan_round(self, kernel, max_time):
        """The next _Round, or None when no hart has work: then the clock has jumped to the
        next event, or the machine halted (deadlock)."""
        clock = self.clock
        self.console.poll()
        busy = [h for h in self.harts if kernel.has_work(h.hid)]
        if not busy:
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
        now = clock.now
        solo = len(busy) == 1
        end = now + (SOLO_QUANTA * self.quantum if solo else self.quantum)
        nxt = clock.next_time()
        if nxt is not None and now < nxt < end:
            end = nxt
        if max_time is not None and now < max_time < end:
            end = max_time
        self.kicked = False
        if solo:
            return _Round(end, busy, True)
        order = self._order
        bits = self.rng.getrandbits
        for i in range(len(order) - 1, 0, -1):  # the draws of Python 3.11's random.shuffle
            k = (i + 1).bit_length()
            j = bits(k)
            while j > i:
                j = bits(k)
            order[i], order[j] = order[j], order[i]
        harts = self.harts
        return _Round(end, [harts[i] for i in order], False)

    def _run_hart(self, kernel, h, end):
        """Run hart h until its time reaches end, it idles, or kick() cut the round. Returns
        early on a pause, keeping _hart_until for the resumed call."""
        hid = h.hid
        timer = self.timer
        now = self.clock.now
        if h.time < now:
            h.time = now
        while h.time < end and not self.halted:
            until = self._hart_until
            if until is None:
                if self.kicked:
                    break
                due = timer[hid]
                if h.time >= due:
                    timer[hid] = NEVER
                    kernel.timer_interrupt(hid)
                    if self.stop_requested:
                        return
                    continue
                until = self._hart_until = end if end < due else due
            kernel.run_hart(hid, until)
            while self.stop_requested and self.halted:
                self._release()             # the call that halted goes on as without the pause
                kernel.run_hart(hid, until)
            if self.stop_requested:
                return                      # resumed by the next run() with the same until
            self._hart_until = None
            if h.time < until and not self.kicked:
                break                       # it idled (has_work was, or became, False)
        self._hart_until = None             # also when a resumed call finds h at end already
