"""The log (journal): every change to the disk reaches it through an atomic transaction.

As in xv6, a file-system operation brackets its changes with begin_op() / end_op() and
records each block it modifies with write(buf). The modified blocks stay pinned in the
buffer cache until a commit writes them to the log area, writes the header (the commit
point), copies them to their homes, and clears the header. recover() at mount finishes a
commit that a crash interrupted after its commit point; one before it never happened.

Unlike xv6, commits are grouped: end_op commits only when no operation is in progress
and either some operation asked for it (end_op(sync=True), fsync, close of a written
file: force()) or the transaction is too full to admit another operation. So data
written by write() stays in memory until the file is closed or fsync'd; metadata
operations (create, mkdir, unlink, rename, truncate) are committed when the last
operation in progress ends.

Invariants: no operation begins while a commit runs, nor while a requested commit waits
for the operations in progress (so it cannot be put off forever); a transaction never
holds more than `size` blocks, because each operation dirties at most MAXOPBLOCKS
distinct blocks and begin_op reserves that many for every operation in progress.
"""
from . import params
from .fslayout import LayoutError, pack_log_header, unpack_log_header
from .panic import KernelPanic


class Log:
    def __init__(self, kernel, bio, sb):
        self.k = kernel
        self.bio = bio
        self.sb = sb
        self.start = sb.logstart            # header block; log blocks follow it
        self.size = min(params.LOGSIZE, sb.nlog)
        self.blocks = {}                    # blockno -> Buf of the open transaction, pinned
        self.outstanding = 0                # operations between begin_op and end_op
        self.committing = False
        self.want = False                   # someone asked for the open transaction's commit
        self.epoch = 0                      # commits completed since mount
        self.stats = {"commits": 0, "blocks": 0}

    def recover(self) -> int:
        """Install a transaction committed before a crash; returns its size in blocks.
        Raises LayoutError if the header is not a valid one."""
        with self.bio.bread(self.start) as h:
            homes = unpack_log_header(h.data)
        if len(homes) > self.sb.nlog:
            raise LayoutError(f"log header holds {len(homes)} blocks, the log has {self.sb.nlog}")
        for i, home in enumerate(homes):
            if not self.sb.inodestart <= home < self.sb.size:
                raise LayoutError(f"log entry {i} names block {home}, outside the file system")
        if homes:
            writes = []
            for i, home in enumerate(homes):
                with self.bio.bread(self.start + 1 + i) as lb:
                    writes.append((home, bytes(lb.data)))
            self.bio.write_blocks(writes)
            self.bio.write_blocks([(self.start, pack_log_header([]))])
        return len(homes)

    def begin_op(self) -> None:
        sched = self.k.sched
        while (self.committing or self.want and self.outstanding               # a commit is due: drain
               or len(self.blocks) + (self.outstanding + 1) * params.MAXOPBLOCKS > self.size):
            if not self.committing and self.outstanding == 0:
                self.commit()                          # full, and nobody is inside: commit now
            else:
                sched.sleep(self, interruptible=False)
        self.outstanding += 1

    def write(self, b) -> None:
        """Record that the current operation modified buffer b (which it holds)."""
        if self.outstanding < 1 or self.committing:
            raise KernelPanic("log: write outside an operation")
        if b.blockno not in self.blocks:
            if len(self.blocks) >= self.size:
                raise KernelPanic(f"log: transaction exceeds {self.size} blocks")
            b.pinned = True
            self.blocks[b.blockno] = b

    def end_op(self, sync: bool = False) -> None:
        self.outstanding -= 1
        if sync:
            self.want = True
        if self.outstanding == 0 and (self.want or len(self.blocks) + params.MAXOPBLOCKS > self.size):
            self.commit()
        self.k.sched.wakeup(self)

    def force(self) -> None:
        """Return once every operation that has ended is on the disk (fsync)."""
        if not self.blocks and not self.committing:
            return
        target = self.epoch + 1
        self.want = True
        if self.outstanding == 0 and not self.committing:
            self.commit()
        while self.epoch < target:
            self.k.sched.sleep(self, interruptible=False)

    def commit(self) -> None:
        self.committing = True
        self.want = False
        bufs = list(self.blocks.values())
        if bufs:
            snap = [bytes(b.data) for b in bufs]
            bio = self.bio
            bio.write_blocks([(self.start + 1 + i, d) for i, d in enumerate(snap)])
            bio.write_blocks([(self.start, pack_log_header([b.blockno for b in bufs]))])
            bio.write_blocks([(b.blockno, d) for b, d in zip(bufs, snap)])
            bio.write_blocks([(self.start, pack_log_header([]))])
            for b in bufs:
                b.pinned = False
            self.stats["commits"] += 1
            self.stats["blocks"] += len(bufs)
        self.blocks = {}
        self.committing = False
        self.epoch += 1
        self.k.sched.wakeup(self)
