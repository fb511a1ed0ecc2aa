"""Virtual time and the event queue.

Virtual time is in nanoseconds: one guest instruction is one cycle is one ns. Events fire
in (time, sequence) order, so two events at the same time fire in the order they were
scheduled: the queue adds no nondeterminism of its own.
"""
import heapq
import itertools


class Event:
    __slots__ = ("time", "seq", "fn", "cancelled")

    def __init__(self, time, seq, fn):
        self.time, self.seq, self.fn, self.cancelled = time, seq, fn, False

    def __lt__(self, other):
        return (self.time, self.seq) < (other.time, other.seq)

    def cancel(self):
        self.cancelled = True


class Clock:
    def __init__(self):
        self.now = 0                      # time of the last round boundary (ns)
        self._heap = []
        self._seq = itertools.count()
        self.on_schedule = None           # fn(time), told of every event scheduled (the machine)

    def at(self, time: int, fn) -> Event:
        """Call fn() at virtual time `time` (from the machine loop, never inside a hook)."""
        ev = Event(time, next(self._seq), fn)
        heapq.heappush(self._heap, ev)
        if self.on_schedule is not None:
            self.on_schedule(time)
        return ev

    def next_time(self):
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].time if self._heap else None

    def pop_due(self, until: int):
        """Remove and return the live events with time <= until, in firing order."""
        due = []
        while self._heap and self._heap[0].time <= until:
            ev = heapq.heappop(self._heap)
            if not ev.cancelled:
                due.append(ev)
        return due
