"""diskfs: the inode file system on the disk, behind the inode interface of ramfs.py.

The format is in fslayout.py and docs/fs.md. Every change to the disk is made inside a
log transaction (log.begin_op ... log.end_op) that dirties at most MAXOPBLOCKS blocks, so
a crash keeps all of an operation or none of it. Writes are split into transactions of
WRITE_CHUNK blocks; each chunk is atomic, a whole write() is not.

Locks (bio.SleepLock, held across sleeps): one per in-memory inode, and the rename lock.
Order: begin_op -> rename lock -> directory -> inode of one of its entries; the two
directories of a rename: the ancestor first, else the lower inode number first.

Every inode used since mount stays in `icache`, so there is one object per inode number
(at most ninodes). An inode whose last link goes is freed at once unless a file is open
on it (refs, counted by opened/closed): then at the last close; one left by a crash is
freed at the next mount. A freed inode object is `dead` and behaves as removed.
Corrupt metadata (a pointer outside the data area, an impossible inode) is EIO with a
one-line log: the disk is outside the kernel, so it never panics it.
"""
from . import params
from .bio import SleepLock
from .errno import EIO, ENOENT, ENOSPC, SysError
from .fslayout import (BPB, BSIZE, DIRSIZ, FREE_DINODE, INODE_SIZE, IPB, MAGIC, NDIRECT, ROOTINO, T_FREE, Dinode,
                       LayoutError, bit, inode_block, inode_offset, pack_dinode, set_bit, unpack_dinode,
                       unpack_superblock)
from .inode import TYPE, DiskInode
from .log import Log
from .ramfs import DIR


class MountError(Exception):
    """The disk cannot be mounted; the message is the one-line reason."""


class Corrupt(SysError):
    """Metadata on the disk is inconsistent: EIO for the caller."""

    def __init__(self, msg):
        super().__init__(EIO)
        self.msg = msg


def _find_zero(data, lo: int, hi: int):
    """Index of the first clear bit in [lo, hi) of a bitmap block, or None."""
    i = lo
    while i < hi and i % 8:
        if not data[i // 8] >> (i % 8) & 1:
            return i
        i += 1
    if i >= hi:
        return None
    seg = bytes(data[i // 8:(hi + 7) // 8])
    skip = len(seg) - len(seg.lstrip(b"\xff"))
    i += 8 * skip
    while i < hi:
        if not data[i // 8] >> (i % 8) & 1:
            return i
        i += 1
    return None


class DiskFS:
    fstype = "pvfs"
    magic = MAGIC                         # statfs f_type: the superblock's magic
    dev = 0xFE00                          # st_dev: 254:0, Linux's first virtio disk (vda)

    def __init__(self, kernel, bio, log, sb):
        self.k = kernel
        self.bio = bio
        self.log = log
        self.sb = sb
        self.icache = {}                  # inum -> DiskInode
        self.rename_lock = SleepLock(kernel)
        self.bhint = sb.datastart         # balloc looks here first
        self.root = None
        self.source = "/dev/vda"
        self.nfree = 0                    # free data blocks and inodes, counted at mount, kept by
        self.ifree_count = 0              # balloc/bfree and ialloc/ifree (statfs)

    def now(self) -> int:
        return self.k.realtime()

    def statfs(self) -> dict:
        sb = self.sb
        return {"type": self.magic, "bsize": BSIZE, "blocks": sb.size - sb.datastart, "bfree": self.nfree,
                "files": sb.ninodes - 1, "ffree": self.ifree_count, "namelen": DIRSIZ}

    def corrupt(self, msg: str) -> Corrupt:
        self.k.log(f"diskfs: {msg}")
        return Corrupt(msg)

    def check_addr(self, a: int, where: str) -> int:
        if a and not self.sb.datastart <= a < self.sb.size:
            raise self.corrupt(f"{where}: block pointer {a} outside the data area")
        return a

    # ---- inodes ----
    def iget(self, inum: int):
        """The loaded inode inum, or None if it is free (it vanished under the caller)."""
        if not 1 <= inum < self.sb.ninodes:
            raise self.corrupt(f"inode number {inum} out of range")
        ip = self.icache.get(inum)
        if ip is None:
            ip = self.icache[inum] = DiskInode(self, inum)
        if not ip.valid:
            with ip.lock:
                if not ip.valid:
                    ip.load()
        cur = self.icache.get(inum)
        if cur is not None and cur is not ip:
            return cur                    # ialloc reused the number while we loaded: one object per inode
        if ip.kind is None:
            if self.icache.get(inum) is ip:
                del self.icache[inum]
            ip.dead = True
            return None
        return ip

    def ialloc(self, kind) -> "DiskInode":
        sb = self.sb
        for blk in range(sb.inodestart, sb.bmapstart):
            with self.bio.bread(blk) as b:
                for i in range(IPB):
                    inum = (blk - sb.inodestart) * IPB + i
                    off = i * INODE_SIZE
                    if inum == 0 or inum >= sb.ninodes or b.data[off] or b.data[off + 1]:
                        continue
                    ip = DiskInode(self, inum)
                    ip.kind, ip.valid = kind, True
                    b.data[off:off + INODE_SIZE] = pack_dinode(Dinode(TYPE[kind], 0, 0, (0,) * (NDIRECT + 2)))
                    self.log.write(b)
                    self.icache[inum] = ip
                    self.ifree_count -= 1
                    return ip
        raise SysError(ENOSPC)

    def ifree(self, ip) -> None:
        """Free ip's blocks and the inode itself (caller holds ip.lock, inside an op)."""
        ip.shrink(0)
        ip.size, ip.nlink = 0, 0                 # kind stays: a dead directory is still one
        with self.bio.bread(inode_block(self.sb, ip.ino)) as b:
            off = inode_offset(ip.ino)
            b.data[off:off + INODE_SIZE] = pack_dinode(FREE_DINODE)
            self.log.write(b)
        self.ifree_count += 1
        ip.dead = True
        if self.icache.get(ip.ino) is ip:
            del self.icache[ip.ino]

    # ---- blocks ----
    def balloc(self) -> int:
        """A zeroed, logged data block; SysError(ENOSPC) when none is free."""
        sb = self.sb
        for lo, hi in ((self.bhint, sb.size), (sb.datastart, self.bhint)):
            n = lo
            while n < hi:
                base = n - n % BPB
                end = min(hi, base + BPB)
                with self.bio.bread(sb.bmapstart + n // BPB) as b:
                    free = _find_zero(b.data, n - base, end - base)
                    if free is not None:
                        n = base + free
                        set_bit(b.data, n, True)
                        self.log.write(b)
                        self.bhint = n + 1 if n + 1 < sb.size else sb.datastart
                        self.nfree -= 1
                        with self.bio.bnew(n) as z:
                            self.log.write(z)
                        return n
                n = end
        raise SysError(ENOSPC)

    def bfree(self, n: int, where: str) -> None:
        self.check_addr(n, where)
        with self.bio.bread(self.sb.bmapstart + n // BPB) as b:
            if not bit(b.data, n):
                raise self.corrupt(f"{where}: frees block {n}, which is already free")
            set_bit(b.data, n, False)
            self.log.write(b)
        self.nfree += 1

    # ---- whole-tree helpers ----
    def ancestors(self, d) -> set:
        """Inode numbers from directory d up to the root, d included."""
        seen = set()
        ip = d
        while True:
            if ip.dead or ip.nlink == 0:
                raise SysError(ENOENT)
            seen.add(ip.ino)
            if ip.ino == ROOTINO:
                return seen
            with ip.lock:
                parent, _ = ip.dirlookup(b"..")
            if not parent or parent in seen:
                raise self.corrupt(f"directory {ip.ino}: '..' does not lead to the root")
            ip = self.iget(parent)
            if ip is None:
                raise self.corrupt(f"directory {d.ino}: an ancestor is a free inode")

    def count_free(self) -> None:
        """The free counts statfs reports, from the bitmap and the inode table (at mount)."""
        sb = self.sb
        self.bio.prefetch(sb.bmapstart, sb.datastart - sb.bmapstart)
        used = 0
        for blk in range(sb.bmapstart, sb.datastart):
            lo = (blk - sb.bmapstart) * BPB
            n = max(0, min(BPB, sb.size - lo))
            with self.bio.bread(blk) as b:
                bits = int.from_bytes(b.data[:(n + 7) // 8], "little")
            used += (bits & ((1 << n) - 1)).bit_count()
        self.nfree = sb.size - used

    def reclaim_orphans(self) -> int:
        """Free the inodes with no links that a crash left allocated; returns how many.
        Counts the free inodes on the way."""
        sb = self.sb
        self.bio.prefetch(sb.inodestart, sb.bmapstart - sb.inodestart)
        orphans = []
        self.ifree_count = 0
        for blk in range(sb.inodestart, sb.bmapstart):
            with self.bio.bread(blk) as b:
                for i in range(IPB):
                    d = unpack_dinode(b.data, i * INODE_SIZE)
                    inum = (blk - sb.inodestart) * IPB + i
                    if not 0 < inum < sb.ninodes:
                        continue
                    if d.type == T_FREE:
                        self.ifree_count += 1
                    elif d.nlink == 0:
                        orphans.append(inum)
        for inum in orphans:
            self.log.begin_op()
            try:
                ip = self.iget(inum)
                if ip is not None:
                    with ip.lock:
                        self.ifree(ip)
            except Corrupt:
                pass                                   # reported; fsck will show it
            finally:
                self.log.end_op(sync=True)
        return len(orphans)


# ---- mounting ----
def mount(kernel, bio) -> DiskFS:
    """Check the superblock, finish an interrupted commit, free orphans: the mounted file
    system. MountError (one line) when the disk cannot be used."""
    if bio.nblocks < 1:
        raise MountError("the disk is empty")
    try:
        with bio.bread(0) as b:
            sb = unpack_superblock(b.data)
        if sb.size > bio.nblocks:
            raise MountError(f"image truncated: the file system has {sb.size} blocks, the disk {bio.nblocks}")
        log = Log(kernel, bio, sb)
        if log.size < params.MAXOPBLOCKS:
            raise MountError(f"a log of {log.size} blocks cannot hold one operation ({params.MAXOPBLOCKS})")
        replayed = log.recover()
        fs = DiskFS(kernel, bio, log, sb)
        fs.root = fs.iget(ROOTINO)
        if fs.root is None or fs.root.kind != DIR:
            raise MountError("inode 1 (the root) is not a directory")
        fs.count_free()
        orphans = fs.reclaim_orphans()
    except LayoutError as e:
        raise MountError(str(e)) from None
    except Corrupt as e:
        raise MountError(e.msg) from None
    except SysError as e:
        raise MountError(f"I/O error {e.errno} while mounting") from None
    if replayed or orphans:
        kernel.log(f"diskfs: recovered: {replayed} logged blocks installed, {orphans} orphan inodes freed")
    return fs


def boot_mount(k, start_init) -> None:
    """Body of the kmount kernel thread: mount the disk as /, with the in-memory file
    systems mounted over its /dev and /proc (made if missing), then start_init(). A bad
    disk: one line and halt with 2."""
    try:
        fs = mount(k, k.bio)
        points = []
        for name, mounted in k.fsys.mounted():
            d = fs.root.lookup(name) or fs.root.create(name, DIR)
            if d.kind != DIR:
                raise MountError(f"/{name} on the disk is not a directory")
            points.append((d, mounted))
    except (MountError, SysError) as e:
        msg = str(e) if isinstance(e, MountError) else f"error {e.errno} preparing the mount points"
        k.log(f"disk: cannot mount {k.machine.disk.path}: {msg}")
        k.exit_status = 2
        k.machine.halt(2)
        return
    k.diskfs = fs
    k.fsys.set_root(fs.root)
    for d, mounted in points:
        k.fsys.mount(d, mounted)
    try:
        start_init()
    except SysError as e:
        k.log(f"boot: cannot start init from the disk (errno {e.errno})")
        k.exit_status = 2
        k.machine.halt(2)
