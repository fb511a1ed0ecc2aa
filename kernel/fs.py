"""The VFS: path names, open files of inodes, and stat records.

Paths are resolved against the calling process's cwd (or the root for absolute ones)
over the inode interface of ramfs.py; nothing here knows how inodes are stored.
"""
import struct

from . import params
from .errno import EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOTDIR, SysError
from .file import O_ACCMODE, O_APPEND, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, S_IFDIR, S_IFREG, File
from .ramfs import DEV, DIR, FILE

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
DT_CHR, DT_DIR, DT_REG = 2, 4, 8
_MODE = {DIR: S_IFDIR | 0o755, FILE: S_IFREG | 0o755, DEV: S_IFCHR | 0o620}
_DTYPE = {DIR: DT_DIR, FILE: DT_REG, DEV: DT_CHR}


class FS:
    def __init__(self, root):
        self.root = root

    def split(self, path: bytes, cwd):
        """(directory inode, last name) for path; the last name may be '' for '/'."""
        if len(path) >= params.MAXPATH:
            raise SysError(ENAMETOOLONG)
        if not path:
            raise SysError(ENOENT)
        text = path.decode("utf-8", "surrogateescape")
        d = self.root if text.startswith("/") or cwd is None else cwd
        parts = [x for x in text.split("/") if x]
        if not parts:
            return d, ""
        for name in parts[:-1]:
            d = self._step(d, name)
        if d.kind != DIR:
            raise SysError(ENOTDIR)
        return d, parts[-1]

    def _step(self, d, name):
        if d.kind != DIR:
            raise SysError(ENOTDIR)
        nxt = d.lookup(name)
        if nxt is None:
            raise SysError(ENOENT)
        return nxt

    def namei(self, path: bytes, cwd):
        d, name = self.split(path, cwd)
        if not name:
            return d
        ino = self._step(d, name)
        if path.endswith(b"/") and ino.kind != DIR:
            raise SysError(ENOTDIR)
        return ino

    def populate(self, path: str, data: bytes) -> None:
        """Boot-time: create path (and its directories) holding data."""
        d = self.root
        parts = [x for x in path.split("/") if x]
        for name in parts[:-1]:
            d = d.lookup(name) or d.create(name, DIR)
        (d.lookup(parts[-1]) or d.create(parts[-1], FILE)).data[:] = data


def stat_bytes(st: dict) -> bytes:
    """struct stat as Linux riscv64 (asm-generic) lays it out: 128 bytes."""
    blocks = (st["size"] + 511) // 512
    return struct.pack("<QQIIIIQqqiiqqQqQqQII", 1, st["ino"], st["mode"], st["nlink"], 0, 0,
                       st.get("rdev", 0), 0, st["size"], 4096, 0, blocks, 0, 0, 0, 0, 0, 0, 0, 0)


def inode_stat(ino) -> dict:
    return {"mode": _MODE[ino.kind], "size": ino.size, "ino": ino.ino, "nlink": ino.nlink}


class InodeFile(File):
    def __init__(self, kernel, ino, flags):
        super().__init__(kernel, flags)
        self.ino = ino
        self.off = 0
        acc = flags & O_ACCMODE
        self.readable = acc in (O_RDONLY, O_RDWR)
        self.writable = acc in (O_WRONLY, O_RDWR)
        self.dirpos = 0

    def read(self, n: int) -> bytes:
        if self.ino.kind == DIR:
            raise SysError(EISDIR)
        data = self.ino.read(self.off, n)
        self.off += len(data)
        return data

    def write(self, data: bytes) -> int:
        if self.flags & O_APPEND:
            self.off = self.ino.size
        n = self.ino.write(self.off, data)
        self.off += n
        return n

    def lseek(self, off: int, whence: int) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: self.off, SEEK_END: self.ino.size}.get(whence)
        if base is None or base + off < 0:
            raise SysError(EINVAL)
        self.off = base + off
        if self.ino.kind == DIR:
            self.dirpos = self.off
        return self.off

    def stat(self) -> dict:
        return inode_stat(self.ino)

    def getdents(self, size: int) -> bytes:
        """linux_dirent64 records that fit in size bytes, continuing from dirpos."""
        if self.ino.kind != DIR:
            raise SysError(ENOTDIR)
        out = bytearray()
        ents = list(self.ino.entries())
        while self.dirpos < len(ents):
            name, ino = ents[self.dirpos]
            raw = name.encode("utf-8", "surrogateescape") + b"\0"
            reclen = (19 + len(raw) + 7) & ~7
            if len(out) + reclen > size:
                if not out:
                    raise SysError(EINVAL)
                break
            out += struct.pack("<QqHB", ino.ino, self.dirpos + 1, reclen, _DTYPE[ino.kind])
            out += raw + bytes(reclen - 19 - len(raw))
            self.dirpos += 1
        return bytes(out)
