"""Physical frame allocator with exact accounting and reference counts (for COW).

Invariants: a frame is either free with refcount 0, on exactly one of the lists `zeroed`
(known to hold zeros) or `dirty`, or allocated with refcount >= 1; nfree counts both lists.
The kworker daemon moves frames from dirty to zeroed in the background.

Translated code: each hart keeps code it translated from a frame until told to drop it
(unicorn does not notice when RAM is rewritten by another hart or by the kernel). A frame
is flagged (`had_code`) from the moment it is mapped executable until its translations are
dropped on every hart (drop_code); vm.py drops them before it maps the frame writable, and
decref drops them when the frame is freed.
"""
from .arch import PAGE_SIZE
from .panic import KernelPanic


class OutOfMemory(Exception):
    pass


class FrameAllocator:
    def __init__(self, kernel, start: int, end: int):
        self.k = kernel
        self.mem = kernel.machine.mem
        self.base = start
        self.total = (end - start) // PAGE_SIZE
        self.refs = bytearray(self.total)        # refcount per frame (<= 255 sharers)
        self.had_code = bytearray(self.total)
        self.zeroed = [start + i * PAGE_SIZE for i in reversed(range(self.total))]   # RAM starts zeroed
        self.dirty = []

    @property
    def nfree(self) -> int:
        return len(self.zeroed) + len(self.dirty)

    def _index(self, pa: int) -> int:
        i = (pa - self.base) // PAGE_SIZE
        if pa % PAGE_SIZE or not 0 <= i < self.total:
            raise KernelPanic(f"kalloc: bad frame address {pa:#x}")
        return i

    def alloc(self) -> int:
        """A zeroed frame with refcount 1; raises OutOfMemory when none is left."""
        if self.zeroed:
            pa = self.zeroed.pop()
        elif self.dirty:
            pa = self.dirty.pop()
            self.mem.zero(pa, PAGE_SIZE)
            self.k.charge(self.k.cost.PAGE_ZERO)
        else:
            raise OutOfMemory()
        self.refs[self._index(pa)] = 1
        return pa

    def prezero_one(self) -> bool:
        """Zero one dirty free frame (kworker); False when none is left."""
        if not self.dirty:
            return False
        pa = self.dirty.pop()
        self.mem.zero(pa, PAGE_SIZE)
        self.k.charge(self.k.cost.PAGE_ZERO)
        self.zeroed.append(pa)
        return True

    def incref(self, pa: int) -> None:
        i = self._index(pa)
        if self.refs[i] == 0 or self.refs[i] == 255:
            raise KernelPanic(f"kalloc: incref of frame {pa:#x} with refcount {self.refs[i]}")
        self.refs[i] += 1

    def refcount(self, pa: int) -> int:
        return self.refs[self._index(pa)]

    def mark_code(self, pa: int) -> None:
        self.had_code[self._index(pa)] = 1

    def drop_code(self, pa: int) -> None:
        """Drop the frame's translated code on every hart, if it may have some."""
        i = self._index(pa)
        if self.had_code[i]:
            self.had_code[i] = 0
            self.k.machine.flush_code_all(pa, PAGE_SIZE)

    def decref(self, pa: int) -> None:
        i = self._index(pa)
        if self.refs[i] == 0:
            raise KernelPanic(f"kalloc: double free of frame {pa:#x}")
        self.refs[i] -= 1
        if self.refs[i] == 0:
            self.drop_code(pa)
            self.dirty.append(pa)
            if len(self.dirty) == 1:
                self.k.sched.wakeup(self)
