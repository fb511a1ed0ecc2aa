"""The buffer cache and the disk driver: copies of disk blocks, LRU, at most NBUF of them.

bread(n) returns block n held (use it as `with bio.bread(n) as b:`; leaving the block
releases it). A miss queues a read on the disk and sleeps the calling thread,
uninterruptibly, until the disk's completion interrupt (intr, an event callback) marks the
buffer valid and wakes it; other threads and harts run meanwhile. write_blocks writes a
batch and sleeps until all of it is on the disk.

Invariants: at most one Buf per block number. A Buf that is held (refcnt > 0), pinned by
the log, or has I/O in flight is never evicted; only a pinned Buf holds data that is not
on the disk, so eviction never writes.

Exhaustion: user programs decide how many buffers are held or in flight at once (each
thread in a read holds a few), so running out is their doing, never a panic. prefetch is
advisory and never keeps more than NBUF/4 buffers in flight; a bread or bnew that finds
every buffer held, pinned or busy fails with ENOMEM (and a one-line log), which the file
system passes up like a disk error. It does not sleep for a buffer: a holder may itself be
waiting for one.
"""
from collections import OrderedDict

from emulator.disk import MAX_BLOCKS, OK, READ, WRITE

from . import params
from .errno import EIO, ENOMEM, SysError
from .fslayout import BSIZE
from .panic import KernelPanic


class Buf:
    __slots__ = ("cache", "blockno", "data", "valid", "refcnt", "pinned", "busy", "error")

    def __init__(self, cache, blockno):
        self.cache = cache
        self.blockno = blockno
        self.data = None                  # bytearray(BSIZE) once valid
        self.valid = False
        self.refcnt = 0
        self.pinned = False               # in the log's open transaction: not on the disk yet
        self.busy = False                 # a read is in flight
        self.error = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cache.brelse(self)
        return False


class _Batch:
    """Writes that one thread waits for together."""
    __slots__ = ("pending", "failed")

    def __init__(self):
        self.pending = 0
        self.failed = False


class SleepLock:
    """A lock held across sleeps (xv6's sleeplock), for inodes and renames. Waiters sleep
    uninterruptibly; the kernel is non-preemptive, so the test-and-set needs no atomics."""

    def __init__(self, kernel):
        self.k = kernel
        self.locked = False
        self.holder = None

    def __enter__(self):
        sched = self.k.sched
        me = sched.mythread() if sched.cur is not None else None
        if self.locked and me is not None and self.holder is me:
            raise KernelPanic("sleeplock: taken again by the thread that holds it")
        while self.locked:
            sched.sleep(self, interruptible=False)
        self.locked = True
        self.holder = me
        return self

    def __exit__(self, *exc):
        self.locked = False
        self.holder = None
        self.k.sched.wakeup(self)
        return False


class BufCache:
    def __init__(self, kernel, disk):
        self.k = kernel
        self.disk = disk
        self.nblocks = disk.nblocks
        self.bufs = OrderedDict()         # blockno -> Buf, least recently used first
        self.stats = {"hits": 0, "misses": 0, "evictions": 0}
        self.reading = 0                  # buffers with a read in flight
        disk.on_complete = self.intr

    # ---- reading ----
    def bread(self, n: int) -> Buf:
        """Block n, valid and held. SysError(EIO) if the disk rejects the read."""
        self.k.charge(self.k.cost.BIO_LOOKUP)
        b = self.bufs.get(n)
        if b is not None:
            self.bufs.move_to_end(n)
            b.refcnt += 1
            if b.valid:
                self.stats["hits"] += 1
                return b
        else:
            b = self._new(n)
            b.refcnt = 1
            self._read([b])
        self.stats["misses"] += 1
        while b.busy:
            self.k.sched.sleep(b, interruptible=False)
        if not b.valid:
            self.brelse(b)
            raise SysError(EIO)
        return b

    def bnew(self, n: int) -> Buf:
        """Block n held, zero-filled, without reading it: for a block just allocated."""
        self.k.charge(self.k.cost.BIO_LOOKUP)
        b = self.bufs.get(n)
        if b is None:
            b = self._new(n)
        else:
            self.bufs.move_to_end(n)
        b.refcnt += 1
        while b.busy:
            self.k.sched.sleep(b, interruptible=False)
        b.data = bytearray(BSIZE)
        b.valid, b.error = True, False
        return b

    def prefetch(self, start: int, count: int) -> None:
        """Start reading the blocks of [start, start+count) that are not cached, one request
        per run; returns at once (a later bread waits for them). Stops early rather than
        keep more than NBUF/4 buffers in flight or take the last free one."""
        run = []
        for n in range(start, min(start + count, self.nblocks)):
            if n in self.bufs or len(run) == MAX_BLOCKS:
                if run:
                    self._read(run)
                run = []
            if n not in self.bufs:
                if self.reading + len(run) >= params.NBUF // 4 or self._victim() is None:
                    break
                run.append(self._new(n))
        if run:
            self._read(run)

    def brelse(self, b: Buf) -> None:
        if b.refcnt <= 0:
            raise KernelPanic(f"bio: release of block {b.blockno}, which is not held")
        b.refcnt -= 1
        if b.error and b.refcnt == 0 and self.bufs.get(b.blockno) is b:
            del self.bufs[b.blockno]      # a failed read is not cached

    def _victim(self):
        """The least recently used buffer that may be evicted; True if there is room
        without evicting; None if every buffer is held, pinned or busy."""
        if len(self.bufs) < params.NBUF:
            return True
        for b in self.bufs.values():
            if b.refcnt == 0 and not b.pinned and not b.busy:
                return b
        return None

    def _new(self, n: int) -> Buf:
        if not 0 <= n < self.nblocks:
            raise KernelPanic(f"bio: block {n} outside the disk (0..{self.nblocks - 1})")
        victim = self._victim()
        if victim is None:
            self.k.log(f"bio: all {params.NBUF} buffers are held, pinned or busy: ENOMEM")
            raise SysError(ENOMEM)
        if victim is not True:
            del self.bufs[victim.blockno]
            self.stats["evictions"] += 1
        b = Buf(self, n)
        self.bufs[n] = b
        return b

    def _read(self, bufs) -> None:
        self.reading += len(bufs)
        for b in bufs:
            b.busy = True
        self._submit(READ, bufs[0].blockno, len(bufs), None, bufs)

    # ---- writing ----
    def write_blocks(self, writes) -> None:
        """Write [(blockno, bytes)] and sleep until all of it is on the disk. Consecutive
        blocks go in one request. Cached copies of those blocks take the new contents."""
        batch = _Batch()
        run = []
        for n, data in sorted(writes, key=lambda w: w[0]):
            b = self.bufs.get(n)
            if b is not None and b.valid and b.data is not data:
                b.data[:] = data
            if run and (n != run[-1][0] + 1 or len(run) == MAX_BLOCKS):
                self._write_run(run, batch)
                run = []
            run.append((n, data))
        if run:
            self._write_run(run, batch)
        while batch.pending:
            self.k.sched.sleep(batch, interruptible=False)
        if batch.failed:
            raise KernelPanic(f"bio: the disk rejected a write among blocks {[n for n, _ in writes]}")

    def _write_run(self, run, batch) -> None:
        for n, _ in run:
            if not 0 <= n < self.nblocks:
                raise KernelPanic(f"bio: write of block {n}, outside the disk")
        batch.pending += 1
        self._submit(WRITE, run[0][0], len(run), b"".join(bytes(d) for _, d in run), batch)

    # ---- the driver ----
    def _submit(self, op, block, count, data, tag) -> None:
        k = self.k
        k.charge(k.cost.DISK_SUBMIT)
        cpu = k.sched.cur
        if k.events is not None:
            k.event("disk", op=op, block=block, count=count)
        self.disk.submit(op, block, count, data, hart=cpu.hid if cpu is not None else 0, tag=tag,
                         now=k.sched.now())

    def intr(self, req) -> None:
        """The disk's completion interrupt (event context: must not sleep)."""
        k = self.k
        h = k.machine.harts[req.hart]
        h.time = max(h.time, k.machine.clock.now) + k.cost.DISK_INTR     # the handler runs on that hart
        if k.events is not None:
            k.event("irq", device="disk", op=req.op, block=req.block, count=req.count,
                    hart=req.hart, status=req.status, issued=req.issued)
        if req.op == READ:
            self.reading -= len(req.tag)
            for i, b in enumerate(req.tag):
                b.busy = False
                if req.status == OK:
                    b.data = bytearray(req.data[i * BSIZE:(i + 1) * BSIZE])
                    b.valid = True
                else:
                    b.error = True
                    if b.refcnt == 0 and self.bufs.get(b.blockno) is b:
                        del self.bufs[b.blockno]
                k.sched.wakeup(b)
            if req.status != OK:
                k.log(f"disk: read of blocks {req.block}..{req.block + req.count - 1} failed")
        else:
            batch = req.tag
            batch.pending -= 1
            if req.status != OK:
                batch.failed = True
            if batch.pending == 0:
                k.sched.wakeup(batch)
