"""The VFS: path names (symbolic links included), mount points, open files of inodes, stat.

Paths are resolved against the calling process's cwd (or the root for absolute ones) over
the inode interface; nothing here knows how inodes are stored. An inode (ramfs.py,
inode.py, procfs.py) has:
- fields: ino, kind (DIR, FILE, LNK, DEV, FIFO), size, nlink, fs, mode (the permission
  bits, 0o7777), uid, gid, atime, mtime, ctime (ns since the Unix epoch), rdev;
- data: read(off, n), write(off, data) -> n, append(data) -> (n, end), truncate(size),
  readlink() (LNK), setattr(mode=, uid=, gid=, atime=, mtime=) (ctime becomes now);
- directories: lookup(name) -> inode or None, create(name, kind, mode, uid, gid, target=)
  (target: a symlink's), link(name, inode), unlink(name), rename(name, newdir, newname,
  noreplace), entries() -> (name, inode)...;
- fsync(), opened() and closed(written) around each open file;
- opener: None, or fn(kernel, flags) -> File for what is not plain data (a device, a /proc
  file); jump: None, or fn() -> inode for a /proc magic link (/proc/PID/fd/N, exe, cwd),
  which leads to an inode, not to a path.
Its file system (ino.fs) has now(), statfs(), fstype, source and dev (st_dev).

Symbolic links are followed in every component but the last, and in the last unless the
call says not to (lstat, O_NOFOLLOW, AT_SYMLINK_NOFOLLOW; a trailing '/' always follows);
a relative target starts from the link's directory. One lookup follows at most
params.SYMLOOP_MAX links (ELOOP beyond), as Linux. A mount (mount()) puts the root of
another file system over a directory: lookups cross it both ways.
"""
import itertools
import struct

from . import params
from .errno import EBUSY, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ETXTBSY, EXDEV, SysError
from .file import (O_ACCMODE, O_APPEND, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK,
                   S_IFREG, File)
from .ramfs import DEV, DIR, FIFO, FILE, LNK

SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
DT_FIFO, DT_CHR, DT_DIR, DT_REG, DT_LNK = 1, 2, 4, 8, 10
S_IFMT = {DIR: S_IFDIR, FILE: S_IFREG, DEV: S_IFCHR, LNK: S_IFLNK, FIFO: S_IFIFO}
_DTYPE = {DIR: DT_DIR, FILE: DT_REG, DEV: DT_CHR, LNK: DT_LNK, FIFO: DT_FIFO}
NS = 1_000_000_000
# What every root holds: mkfs puts these on an image, the in-memory root gets them at boot.
# One user and one group, root (uid and gid 0); /dev and /proc are mount points.
ROOT_DIRS = (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555), ("root", 0o700), ("tmp", 0o1777))
ROOT_FILES = {"/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n", "/etc/group": b"root:x:0:\n"}


class FS:
    def __init__(self, root):
        self.root = root
        self.mounts = {}                  # covered directory -> root of the fs mounted on it
        self.covered = {}                 # mounted root -> the directory it covers
        self.writers = {}                 # inode -> open files that may write it
        self.running = {}                 # inode -> images mapping it (exec.FileBacking)
        self.anon_inos = itertools.count(1)   # inode numbers of pipes (Linux's pipefs)

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

    def set_root(self, root) -> None:
        """A new root file system; the mounts of the old one are dropped (boot_mount)."""
        self.root = root
        self.mounts.clear()
        self.covered.clear()

    def mounted(self) -> list:
        """(name, mounted root) of each mount on a directory just below /."""
        out = []
        for d, r in self.mounts.items():
            name = next((n for n, c in self.root.entries() if c is d and n not in (".", "..")), None)
            if name is not None:
                out.append((name, r))
        return out

    def mount_table(self) -> list:
        """(path, root inode) of / and of every mount reachable from it, in mount order."""
        out = [(b"/", self.root)]
        for d, r in self.mounts.items():
            try:
                out.append((self.path_of(d), r))
            except SysError:
                pass                          # not under the current root
        return out

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
            name = None if parent is None or parent is ino else next(      # /proc makes new nodes:
                (n for n, c in parent.entries() if c.ino == ino.ino and c.fs is ino.fs and n not in (".", "..")),
                None)
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

    def split(self, path: bytes, cwd, links=None):
        """(directory inode, last name) for path, following symbolic links on the way to
        the directory; the last name is not looked up, and may be '' for '/'."""
        if len(path) >= params.MAXPATH:
            raise SysError(ENAMETOOLONG)
        if not path:
            raise SysError(ENOENT)
        return self._split(path, cwd, [0] if links is None else links)

    def _split(self, path: bytes, start, links):
        text = path.decode("utf-8", "surrogateescape")
        d = self.root if text.startswith("/") or start is None else start
        parts = [x for x in text.split("/") if x]
        if not parts:
            return d, ""
        for name in parts[:-1]:
            if d.kind != DIR:
                raise SysError(ENOTDIR)
            nxt = self.lookup(d, name)
            if nxt is None:
                raise SysError(ENOENT)
            d = self._follow(d, nxt, links) if nxt.kind == LNK else nxt
        if d.kind != DIR:
            raise SysError(ENOTDIR)
        return d, parts[-1]

    def _follow(self, d, link, links):
        """The inode symbolic link `link` (an entry of directory d) leads to, itself no link."""
        while True:
            links[0] += 1
            if links[0] > params.SYMLOOP_MAX:
                raise SysError(ELOOP)
            if link.jump is not None:
                return link.jump()
            target = link.readlink()
            d, name = self._split(target, d, links)
            nxt = self.lookup(d, name) if name else d
            if nxt is None:
                raise SysError(ENOENT)
            if nxt.kind != LNK:
                if target.endswith(b"/") and nxt.kind != DIR:
                    raise SysError(ENOTDIR)
                return nxt
            link = nxt

    def resolve(self, path: bytes, cwd, follow: bool = True):
        """(directory, name, inode or None) of path's last component. With follow (or a
        trailing '/'), a symbolic link there is followed, and a dangling one gives the
        directory and name its target would be created as (open with O_CREAT)."""
        links = [0]
        d, name = self.split(path, cwd, links)
        if not name:
            return d, name, d
        ino = self.lookup(d, name)
        trailing = path.endswith(b"/")
        while ino is not None and ino.kind == LNK and (follow or trailing):
            links[0] += 1
            if links[0] > params.SYMLOOP_MAX:
                raise SysError(ELOOP)
            if ino.jump is not None:
                return d, name, ino.jump()
            target = ino.readlink()
            d, name = self._split(target, d, links)
            trailing = trailing or target.endswith(b"/")
            ino = self.lookup(d, name) if name else d
        if trailing and ino is not None and ino.kind != DIR:
            raise SysError(ENOTDIR)
        return d, name, ino

    def namei(self, path: bytes, cwd, follow: bool = True):
        ino = self.resolve(path, cwd, follow)[2]
        if ino is None:
            raise SysError(ENOENT)
        return ino

    def populate(self, path: str, data: bytes, mode: int = None) -> None:
        """Boot-time: create path (and its directories) holding data; mode by default
        0755 for a program (ELF or #!), else 0644."""
        d = self.root
        parts = [x for x in path.split("/") if x]
        for name in parts[:-1]:
            d = d.lookup(name) or d.create(name, DIR)
        if mode is None:
            mode = 0o755 if data[:4] == b"\x7fELF" or data[:2] == b"#!" else 0o644
        f = d.lookup(parts[-1]) or d.create(parts[-1], FILE, mode)
        f.data[:] = data


def stat_bytes(st: dict) -> bytes:
    """struct stat as Linux riscv64 (asm-generic) lays it out: 128 bytes. st: inode_stat's
    fields; the ones a File's own stat leaves out are 0."""
    size = st["size"]
    a, m, c = (divmod(st.get(k, 0), NS) for k in ("atime", "mtime", "ctime"))
    return struct.pack("<QQIIIIQqqiiqqQqQqQII", st.get("dev", 0), st["ino"], st["mode"], st["nlink"],
                       st.get("uid", 0), st.get("gid", 0), st.get("rdev", 0), 0, size, 4096, 0,
                       (size + 4095) // 4096 * 8, a[0], a[1], m[0], m[1], c[0], c[1], 0, 0)


def inode_stat(ino) -> dict:
    return {"dev": ino.fs.dev, "ino": ino.ino, "mode": S_IFMT[ino.kind] | ino.mode, "nlink": ino.nlink,
            "uid": ino.uid, "gid": ino.gid, "rdev": ino.rdev, "size": ino.size, "atime": ino.atime,
            "mtime": ino.mtime, "ctime": ino.ctime}


def statfs_bytes(fs) -> bytes:
    """struct statfs (asm-generic, 64-bit): 120 bytes."""
    st = fs.statfs()
    fsid = (fs.dev & 0xFFFFFFFF, 0)
    return struct.pack("<qqQQQQQiiqqq4q", st["type"], st["bsize"], st["blocks"], st["bfree"], st["bfree"],
                       st["files"], st["ffree"], *fsid, st["namelen"], st["bsize"], 0x20, 0, 0, 0, 0)


class InodeFile(File):
    """An open file, directory or (with O_PATH) symlink of a file system. O_PATH opens
    neither for reading nor writing: the descriptor names the inode (fstat, fchdir, *at)."""
    seekable = True

    def __init__(self, kernel, ino, flags):
        acc = flags & O_ACCMODE
        writable = acc in (O_WRONLY, O_RDWR) and not flags & O_PATH
        ino.opened()                      # ENOENT if the inode went away meanwhile
        if writable:
            try:
                kernel.fsys.get_write(ino)   # ETXTBSY while a process runs the file
            except SysError:
                ino.closed(False)
                raise
        super().__init__(kernel, flags)
        self.ino = self.node = ino
        self.off = 0
        self.readable = acc in (O_RDONLY, O_RDWR) and not flags & O_PATH
        self.writable = writable
        self.dirpos = 0
        self.written = False              # close commits what this file wrote

    def release(self) -> None:
        if self.writable:
            self.k.fsys.put_write(self.ino)
        self.ino.closed(self.written)

    def read(self, n: int) -> bytes:
        data = self.pread(n, self.off)
        self.off += len(data)
        return data

    def write(self, data: bytes) -> int:
        n, end = self._write(data, self.off)
        self.off = end
        return n

    def pread(self, n: int, off: int) -> bytes:
        if self.ino.kind == DIR:
            raise SysError(EISDIR)
        self.k.shm.before_read(self.ino, off, n)      # its shared mappings' stores first
        return self.ino.read(off, n)

    def pwrite(self, data: bytes, off: int) -> int:
        return self._write(data, off)[0]

    def _write(self, data: bytes, off: int):
        """(bytes written, offset after them), at off or, with O_APPEND, at the end (which
        wins over the offset, as Linux); the file's shared mappings see the bytes."""
        self.written = True
        if self.flags & O_APPEND:
            n, end = self.ino.append(data)
        else:
            n = self.ino.write(off, data)
            end = off + n
        self.k.shm.after_write(self.ino, end - n, data[:n])
        return n, end

    def fsync(self) -> None:
        self.ino.fsync()

    def truncate(self, size: int) -> None:
        if self.ino.kind != FILE or not self.writable:
            raise SysError(EINVAL)
        self.written = True
        self.ino.truncate(size)
        self.k.shm.truncated(self.ino, size)

    def lseek(self, off: int, whence: int) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: self.off, SEEK_END: self.ino.size}.get(whence)
        if base is None or not 0 <= base + off < 1 << 63:
            raise SysError(EINVAL)              # as Linux: negative, or past loff_t (an overflow)
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
