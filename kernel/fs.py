"""The VFS: path names, open files of inodes, and stat records.

Paths are resolved against the calling process's cwd (or the root for absolute ones)
over the inode interface; nothing here knows how inodes are stored. An inode (ramfs.py,
diskfs.py) has: ino, kind, size, nlink, fs; read(off, n), write(off, data) -> n,
append(data) -> (n, end), truncate(size), lookup(name) -> inode or None, create(name, kind),
unlink(name), rename(name, newdir, newname, noreplace), entries() -> (name, inode)...,
fsync(), opened() and closed(written) around each open file. A mount (mount()) puts the
root of another file system over a directory: lookups cross it both ways.
"""
import struct

from . import params
from .errno import EBUSY, EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOTDIR, ETXTBSY, EXDEV, SysError
from .file import O_ACCMODE, O_APPEND, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, S_IFDIR, S_IFREG, File
from .ramfs import DEV, DIR, FILE

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
DT_CHR, DT_DIR, DT_REG = 2, 4, 8
_MODE = {DIR: S_IFDIR | 0o755, FILE: S_IFREG | 0o755, DEV: S_IFCHR | 0o620}
_DTYPE = {DIR: DT_DIR, FILE: DT_REG, DEV: DT_CHR}


class FS:
    def __init__(self, root):
        self.root = root
        self.mounts = {}                  # covered directory -> root of the fs mounted on it
        self.covered = {}                 # mounted root -> the directory it covers
        self.writers = {}                 # inode -> open files that may write it
        self.running = {}                 # inode -> images mapping it (exec.FileBacking)

    # A running executable is never opened for writing, nor a file open for writing run
    # (ETXTBSY both ways), as Linux's get_write_access / deny_write_access.
    def get_write(self, ino) -> None:
        if self.running.get(ino):
            raise SysError(ETXTBSY)
        self.writers[ino] = self.writers.get(ino, 0) + 1

    def put_write(self, ino) -> None:
        self.writers[ino] -= 1
        if not self.writers[ino]:
            del self.writers[ino]

    def deny_write(self, ino) -> None:
        if self.writers.get(ino):
            raise SysError(ETXTBSY)
        self.running[ino] = self.running.get(ino, 0) + 1

    def allow_write(self, ino) -> None:
        self.running[ino] -= 1
        if not self.running[ino]:
            del self.running[ino]

    def mount(self, d, root) -> None:
        self.mounts[d] = root
        self.covered[root] = d

    def lookup(self, d, name: str):
        """name in directory d, crossing mount points; None if there is no such entry."""
        if name == ".." and d in self.covered:
            d = self.covered[d]
        ino = d.lookup(name)
        return self.mounts.get(ino, ino)

    def path_of(self, ino) -> bytes:
        """The absolute path of directory ino (getcwd); ENOENT once it is removed."""
        parts = []
        while ino is not self.root:
            if ino in self.covered:
                ino = self.covered[ino]
                continue
            parent = ino.lookup("..") if ino.nlink else None
            name = None if parent is None or parent is ino else next(
                (n for n, c in parent.entries() if c is ino and n not in (".", "..")), None)
            if name is None:
                raise SysError(ENOENT)
            parts.append(name.encode("utf-8", "surrogateescape"))
            ino = parent
        return b"/" + b"/".join(reversed(parts))

    def rename(self, d1, n1: str, d2, n2: str, noreplace: bool) -> None:
        """renameat2 after the paths are split: the checks the VFS owns, then the fs's."""
        if not n1 or not n2 or n1 in (".", "..") or n2 in (".", ".."):
            raise SysError(EBUSY)
        if d1.fs is not d2.fs:
            raise SysError(EXDEV)
        src = self.lookup(d1, n1)
        if src is None:
            raise SysError(ENOENT)
        if src in self.covered or self.lookup(d2, n2) in self.covered:
            raise SysError(EBUSY)
        d1.rename(n1, d2, n2, noreplace)

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
        nxt = self.lookup(d, name)
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
        acc = flags & O_ACCMODE
        writable = acc in (O_WRONLY, O_RDWR)
        ino.opened()                      # ENOENT if the inode went away meanwhile
        if writable:
            try:
                kernel.fsys.get_write(ino)   # ETXTBSY while a process runs the file
            except SysError:
                ino.closed(False)
                raise
        super().__init__(kernel, flags)
        self.ino = ino
        self.off = 0
        self.readable = acc in (O_RDONLY, O_RDWR)
        self.writable = writable
        self.dirpos = 0
        self.written = False              # close commits what this file wrote

    def release(self) -> None:
        if self.writable:
            self.k.fsys.put_write(self.ino)
        self.ino.closed(self.written)

    def read(self, n: int) -> bytes:
        if self.ino.kind == DIR:
            raise SysError(EISDIR)
        data = self.ino.read(self.off, n)
        self.off += len(data)
        return data

    def write(self, data: bytes) -> int:
        self.written = True
        if self.flags & O_APPEND:
            n, self.off = self.ino.append(data)
            return n
        n = self.ino.write(self.off, data)
        self.off += n
        return n

    def pread(self, n: int, off: int) -> bytes:
        if self.ino.kind == DIR:
            raise SysError(EISDIR)
        return self.ino.read(off, n)

    def pwrite(self, data: bytes, off: int) -> int:
        self.written = True
        if self.flags & O_APPEND:                  # as Linux: O_APPEND wins over the offset
            return self.ino.append(data)[0]
        return self.ino.write(off, data)

    def fsync(self) -> None:
        self.ino.fsync()

    def truncate(self, size: int) -> None:
        if self.ino.kind != FILE or not self.writable:
            raise SysError(EINVAL)
        self.written = True
        self.ino.truncate(size)

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
