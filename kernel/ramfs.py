"""An in-memory file system: the root without a disk, and /dev beside one.

Inodes live in host memory and vanish at shutdown. diskfs.py implements the same inode
interface (see fs.py), so the VFS does not know which one it is talking to. Times come
from the file system's clock (the kernel's real-time clock: virtual time since boot plus
the boot's wall-clock time).
"""
import itertools

from . import params
from .errno import EEXIST, EFBIG, EINVAL, EISDIR, EMLINK, ENOENT, ENOTDIR, ENOTEMPTY, SysError
from .fslayout import LINK_MAX, MODE_BITS, clamp_time

DIR, FILE, DEV, LNK, FIFO = "dir", "file", "dev", "symlink", "fifo"
DAY = 86_400 * 1_000_000_000


def touch_atime(ino, now: int) -> bool:
    """Linux's relatime rule: a read sets atime only when atime is not after mtime or
    ctime, or is a day old. True if it changed."""
    if ino.atime <= ino.mtime or ino.atime <= ino.ctime or now - ino.atime >= DAY:
        ino.atime = now
        return True
    return False


def apply_attrs(ino, now, mode=None, uid=None, gid=None, atime=None, mtime=None) -> None:
    """setattr's field updates, common to every file system: ctime becomes now."""
    if mode is not None:
        ino.mode = mode & MODE_BITS
    if uid is not None:
        ino.uid = uid
    if gid is not None:
        ino.gid = gid
    if atime is not None:
        ino.atime = clamp_time(atime)
    if mtime is not None:
        ino.mtime = clamp_time(mtime)
    ino.ctime = now


class Inode:
    opener = None                       # fn(kernel, flags) -> File for devices
    jump = None                         # fn() -> inode for a /proc magic link

    def __init__(self, kind, fs, mode=0o755, uid=0, gid=0, dev=None, rdev=0):
        self.fs = fs                    # the RamFS this inode belongs to
        self.ino = next(fs.inos)
        self.kind = kind
        self.data = bytearray()         # a file's bytes, or a symlink's target
        self.children = {} if kind == DIR else None
        self.parent = None
        if dev is not None:
            self.opener = dev
        self.rdev = rdev
        self.nlink = 2 if kind == DIR else 1
        self.mode = mode & MODE_BITS
        self.uid, self.gid = uid, gid
        self.atime = self.mtime = self.ctime = fs.now()

    @property
    def size(self) -> int:
        return len(self.data) if self.kind in (FILE, LNK) else 0

    def _changed(self) -> None:
        self.mtime = self.ctime = self.fs.now()

    def read(self, off: int, n: int) -> bytes:
        touch_atime(self, self.fs.now())
        return bytes(self.data[off:off + n])

    def readlink(self) -> bytes:
        return bytes(self.data)

    def write(self, off: int, data: bytes) -> int:
        if off + len(data) > params.RAMFS_MAXFILE:
            raise SysError(EFBIG)
        if off > len(self.data):
            self.data += bytes(off - len(self.data))
        self.data[off:off + len(data)] = data
        self._changed()
        return len(data)

    def append(self, data: bytes):
        """Write at the end; (bytes written, offset after them)."""
        n = self.write(len(self.data), data)
        return n, len(self.data)

    def truncate(self, size: int) -> None:
        if size > params.RAMFS_MAXFILE:
            raise SysError(EFBIG)
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data += bytes(size - len(self.data))
        self._changed()

    def setattr(self, **attrs) -> None:
        apply_attrs(self, self.fs.now(), **attrs)

    def lookup(self, name: str):
        if name == ".":
            return self
        if name == "..":
            return self.parent or self
        return self.children.get(name)

    def create(self, name: str, kind, mode=0o755, uid=0, gid=0, dev=None, rdev=0, target=b"") -> "Inode":
        if name in self.children:
            raise SysError(EEXIST)
        ino = Inode(kind, self.fs, mode, uid, gid, dev, rdev)
        ino.parent = self
        ino.data[:] = target
        self.children[name] = ino
        if kind == DIR:
            self.nlink += 1
        self._changed()
        return ino

    def link(self, name: str, ino) -> None:
        """A new entry name for ino (not a directory: the VFS checked)."""
        if name in self.children:
            raise SysError(EEXIST)
        if ino.nlink == 0:
            raise SysError(ENOENT)
        if ino.nlink >= LINK_MAX:
            raise SysError(EMLINK)
        self.children[name] = ino
        ino.nlink += 1
        ino.ctime = self.fs.now()
        self._changed()

    def _drop(self, ino) -> None:
        if ino.kind == DIR:
            ino.nlink = 0
            self.nlink -= 1
        else:
            ino.nlink -= 1
        ino.ctime = self.fs.now()

    def unlink(self, name: str) -> None:
        ino = self.children.get(name)
        if ino is None:
            raise SysError(ENOENT)
        if ino.kind == DIR and ino.children:
            raise SysError(ENOTEMPTY)
        del self.children[name]
        self._drop(ino)
        self._changed()

    def rename(self, name: str, newdir, newname: str, noreplace: bool = False) -> None:
        src = self.children.get(name)
        if src is None:
            raise SysError(ENOENT)
        d = newdir
        while d is not None:
            if d is src:
                raise SysError(EINVAL)              # a directory into itself or below
            d = d.parent
        tgt = newdir.children.get(newname)
        if tgt is src:
            return
        if tgt is not None:
            if noreplace:
                raise SysError(EEXIST)
            if src.kind == DIR and tgt.kind != DIR:
                raise SysError(ENOTDIR)
            if src.kind != DIR and tgt.kind == DIR:
                raise SysError(EISDIR)
            if tgt.kind == DIR and tgt.children:
                raise SysError(ENOTEMPTY)
            del newdir.children[newname]
            newdir._drop(tgt)
        del self.children[name]
        newdir.children[newname] = src
        if src.kind == DIR and newdir is not self:
            self.nlink -= 1
            newdir.nlink += 1
        src.parent = newdir
        src.ctime = self.fs.now()
        self._changed()
        newdir._changed()

    def fsync(self) -> None:
        pass

    def opened(self) -> None:
        pass

    def closed(self, written: bool) -> None:
        pass

    def entries(self):
        """(name, inode) pairs, '.' and '..' first."""
        yield ".", self
        yield "..", self.parent or self
        yield from self.children.items()


class RamFS:
    """fstype and source name it in /proc/mounts; dev is its st_dev (an anonymous device);
    capacity is the size statfs reports, in 4 KiB blocks and inodes, as tmpfs reports its
    size limit (the data lives in the host's memory, bounded per file by RAMFS_MAXFILE)."""
    magic = 0x01021994                  # TMPFS_MAGIC

    def __init__(self, clock, fstype="tmpfs", dev=1, capacity=16384):
        self.now = clock                # fn() -> ns since the Unix epoch
        self.fstype = self.source = fstype
        self.dev = dev
        self.capacity = capacity
        self.inos = itertools.count(1)  # inode numbers, per file system: the same run, the same numbers
        self.root = Inode(DIR, self)

    def statfs(self) -> dict:
        inodes, blocks, todo = 0, 0, [self.root]
        while todo:
            d = todo.pop()
            for ino in d.children.values():
                inodes += 1
                blocks += (ino.size + 4095) // 4096
                if ino.kind == DIR:
                    todo.append(ino)
        return {"type": self.magic, "bsize": 4096, "blocks": self.capacity,
                "bfree": max(0, self.capacity - blocks), "files": self.capacity,
                "ffree": max(0, self.capacity - inodes), "namelen": 255}

