"""An in-memory file system: the root without a disk, and /dev (and /tmp) beside one.

Inodes live in host memory and vanish at shutdown. diskfs.py implements the same inode
interface (see fs.py), so the VFS does not know which one it is talking to.
"""
import itertools

from . import params
from .errno import EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, SysError

DIR, FILE, DEV = "dir", "file", "dev"


class Inode:
    _inos = itertools.count(1)

    def __init__(self, kind, dev=None, fs=None):
        self.fs = fs                    # the RamFS this inode belongs to
        self.ino = next(self._inos)
        self.kind = kind
        self.data = bytearray()
        self.children = {} if kind == DIR else None
        self.parent = None
        self.dev = dev                  # for DEV: fn(kernel, flags) -> File
        self.nlink = 1

    @property
    def size(self) -> int:
        return len(self.data) if self.kind == FILE else 0

    def read(self, off: int, n: int) -> bytes:
        return bytes(self.data[off:off + n])

    def write(self, off: int, data: bytes) -> int:
        if off + len(data) > params.RAMFS_MAXFILE:
            raise SysError(EFBIG)
        if off > len(self.data):
            self.data += bytes(off - len(self.data))
        self.data[off:off + len(data)] = data
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

    def lookup(self, name: str):
        if name == ".":
            return self
        if name == "..":
            return self.parent or self
        return self.children.get(name)

    def create(self, name: str, kind, dev=None) -> "Inode":
        if name in self.children:
            raise SysError(EEXIST)
        ino = Inode(kind, dev, self.fs)
        ino.parent = self
        self.children[name] = ino
        return ino

    def unlink(self, name: str) -> None:
        ino = self.children.get(name)
        if ino is None:
            raise SysError(ENOENT)
        if ino.kind == DIR and ino.children:
            raise SysError(ENOTEMPTY)
        del self.children[name]
        ino.nlink = 0

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
            tgt.nlink = 0
        del self.children[name]
        newdir.children[newname] = src
        src.parent = newdir

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
    def __init__(self):
        self.root = Inode(DIR, fs=self)
