"""An in-memory file system: the inode layer behind the VFS for this stage.

Inodes live in host memory and vanish at shutdown. The on-disk file system of a later
stage implements the same inode interface (kind, size, read, write, truncate, lookup,
create, unlink, entries), so fs.py does not change.
"""
import itertools

from .errno import EEXIST, ENOENT, ENOTEMPTY, SysError

DIR, FILE, DEV = "dir", "file", "dev"


class Inode:
    _inos = itertools.count(1)

    def __init__(self, kind, dev=None):
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
        if off > len(self.data):
            self.data += bytes(off - len(self.data))
        self.data[off:off + len(data)] = data
        return len(data)

    def truncate(self, size: int) -> None:
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
        ino = Inode(kind, dev)
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

    def entries(self):
        """(name, inode) pairs, '.' and '..' first."""
        yield ".", self
        yield "..", self.parent or self
        yield from self.children.items()


class RamFS:
    def __init__(self):
        self.root = Inode(DIR)
