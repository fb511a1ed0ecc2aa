"""The block map and the data of a diskfs inode: which disk block holds each file block.

BlockMap is the half of DiskInode (inode.py) that reads and writes a file's bytes: 10 direct
pointers, one indirect block and one double-indirect block (fslayout.py). Every method
expects the caller to hold the inode's lock and, when it modifies anything, to be inside
log.begin_op/end_op. A data block belongs to the file only below ceil(size / BSIZE): shrink
frees the rest and zeroes the tail of the last block, so a file grown again reads zeros there.
"""
from .errno import ENOSPC, SysError
from .fslayout import BSIZE, NDIRECT, NINDIRECT, get_addr, set_addr, unpack_addrs


class BlockMap:
    """Needs from the subclass: fs, ino, size, addrs, mtime, ctime and iupdate()."""

    # ---- block map ----
    def bmap(self, bn: int, alloc: bool) -> int:
        """Disk block of file block bn; 0 for a hole unless alloc (then SysError(ENOSPC))."""
        if bn < NDIRECT:
            return self._top(bn, alloc)
        bn -= NDIRECT
        if bn < NINDIRECT:
            ind = self._top(NDIRECT, alloc)
            return self._slot(ind, bn, alloc) if ind else 0
        bn -= NINDIRECT
        top = self._top(NDIRECT + 1, alloc)
        mid = self._slot(top, bn // NINDIRECT, alloc) if top else 0
        return self._slot(mid, bn % NINDIRECT, alloc) if mid else 0

    def _top(self, i, alloc) -> int:
        if not self.addrs[i] and alloc:
            self.addrs[i] = self.fs.balloc()
        return self.addrs[i]

    def _slot(self, ind, i, alloc) -> int:
        fs = self.fs
        with fs.bio.bread(ind) as b:
            a = fs.check_addr(get_addr(b.data, i), f"inode {self.ino}, indirect block {ind}")
            if not a and alloc:
                a = fs.balloc()
                set_addr(b.data, i, a)
                fs.log.write(b)
            return a

    def shrink(self, size: int) -> None:
        """Free every block past size and zero the tail of the last one (lock held, in an op)."""
        fs = self.fs
        if size % BSIZE and size < self.size:
            a = self.bmap(size // BSIZE, False)
            if a:
                with fs.bio.bread(a) as b:
                    b.data[size % BSIZE:] = bytes(BSIZE - size % BSIZE)
                    fs.log.write(b)
        first = (size + BSIZE - 1) // BSIZE
        for i in range(first, NDIRECT):
            if self.addrs[i]:
                fs.bfree(self.addrs[i], f"inode {self.ino}")
                self.addrs[i] = 0
        self.addrs[NDIRECT] = self._free_tree(self.addrs[NDIRECT], 1, max(0, first - NDIRECT))
        self.addrs[NDIRECT + 1] = self._free_tree(self.addrs[NDIRECT + 1], 2,
                                                  max(0, first - NDIRECT - NINDIRECT))

    def _free_tree(self, a, level, first) -> int:
        """Free the file blocks from index `first` on under indirect block a (level 1 maps
        data blocks, level 2 maps level-1 blocks); returns a, or 0 if a was freed too."""
        if not a:
            return 0
        fs = self.fs
        span = NINDIRECT ** (level - 1)
        where = f"inode {self.ino}, indirect block {a}"
        with fs.bio.bread(a) as b:
            changed = False
            for i, e in enumerate(unpack_addrs(b.data)):
                if not e or (i + 1) * span <= first:
                    continue
                if level == 1:
                    fs.bfree(e, where)
                elif self._free_tree(fs.check_addr(e, where), 1, max(0, first - i * span)):
                    continue
                if first:
                    set_addr(b.data, i, 0)
                    changed = True
            if changed:
                fs.log.write(b)
        if first == 0:
            fs.bfree(a, f"inode {self.ino}")
            return 0
        return a

    # ---- data ----
    def readi(self, off: int, n: int) -> bytes:
        fs = self.fs
        if off >= self.size:
            return b""
        n = min(n, self.size - off)
        first, last = off // BSIZE, (off + n - 1) // BSIZE
        if last > first:                  # one disk request per run of consecutive blocks
            run = []
            for a in [self.bmap(bn, False) for bn in range(first, last + 1)] + [0]:
                if run and a != run[0] + len(run):
                    fs.bio.prefetch(run[0], len(run))
                    run = []
                if a:
                    run.append(a)
        out = bytearray()
        while len(out) < n:
            pos = off + len(out)
            boff = pos % BSIZE
            m = min(BSIZE - boff, n - len(out))
            a = self.bmap(pos // BSIZE, False)
            if a:
                with fs.bio.bread(a) as b:
                    out += b.data[boff:boff + m]
            else:
                out += bytes(m)
        return bytes(out)

    def writei(self, off: int, data: bytes) -> int:
        """Write data at off (lock held, in an op). A full disk ends it early: returns the
        bytes written, SysError(ENOSPC) if none."""
        fs = self.fs
        n, err = 0, None
        try:
            while n < len(data):
                pos = off + n
                boff = pos % BSIZE
                m = min(BSIZE - boff, len(data) - n)
                a = self.bmap(pos // BSIZE, True)
                with (fs.bio.bnew(a) if m == BSIZE else fs.bio.bread(a)) as b:
                    b.data[boff:boff + m] = data[n:n + m]
                    fs.log.write(b)
                n += m
        except SysError as e:
            err = e
        if off + n > self.size:
            self.size = off + n
        self.mtime = self.ctime = fs.now()
        self.iupdate()
        if err is not None and (n == 0 or err.errno != ENOSPC):
            raise err
        return n
