"""The in-memory inode of diskfs: its dinode, directories, the inode interface.

A DiskInode holds copies of its dinode's fields (valid once loaded) and a SleepLock; its
block map and data are BlockMap's (bmap.py). The methods named in fs.py's inode interface
take the locks and open the log transactions themselves; the others (readi, writei, bmap,
shrink, the directory helpers) expect the caller to hold self.lock and, when they modify
anything, to be inside log.begin_op/end_op.
"""
from contextlib import ExitStack

from . import params
from .bio import SleepLock
from .bmap import BlockMap
from .errno import EEXIST, EFBIG, EINVAL, EISDIR, EMLINK, ENAMETOOLONG, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, EPERM, SysError
from .fslayout import (BSIZE, DIRENT_SIZE, DIRSIZ, EMPTY_DIRENT, INODE_SIZE, LINK_MAX, MAXFILE, NDIRECT, T_DIR,
                       T_FILE, T_FREE, T_SYMLINK, Dinode, inode_block, inode_offset, pack_dinode, pack_dirent,
                       unpack_dinode, unpack_dirents)
from .ramfs import DIR, FILE, LNK, apply_attrs, touch_atime

KIND = {T_DIR: DIR, T_FILE: FILE, T_SYMLINK: LNK}
TYPE = {DIR: T_DIR, FILE: T_FILE, LNK: T_SYMLINK}


def _name(name: str) -> bytes:
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > DIRSIZ:
        raise SysError(ENAMETOOLONG)
    return raw


class DiskInode(BlockMap):
    """An inode of diskfs; the fields are copies of the dinode, valid once loaded. atime
    follows Linux's relatime and lazytime: a read changes it in memory only (`lazy`), and
    it reaches the disk with the inode's next change or an fsync."""
    opener = None                         # (devices live in the in-memory /dev)
    jump = None
    rdev = 0

    def __init__(self, fs, inum):
        self.fs = fs
        self.ino = inum
        self.lock = SleepLock(fs.k)
        self.valid = False
        self.dead = False
        self.kind = None                  # DIR, FILE or LNK; None for a free inode
        self.nlink = 0
        self.size = 0
        self.mode = self.uid = self.gid = 0
        self.atime = self.mtime = self.ctime = 0
        self.lazy = False                 # atime changed since the inode was last written
        self.addrs = [0] * (NDIRECT + 2)
        self.refs = 0                     # open files (and execs) using the inode

    # ---- the dinode ----
    def load(self) -> None:
        fs = self.fs
        with fs.bio.bread(inode_block(fs.sb, self.ino)) as b:
            d = unpack_dinode(b.data, inode_offset(self.ino))
        if d.type != T_FREE:
            if d.type not in KIND:
                raise fs.corrupt(f"inode {self.ino}: unknown type {d.type}")
            if d.size > MAXFILE:
                raise fs.corrupt(f"inode {self.ino}: size {d.size} beyond the largest file")
            for a in d.addrs:
                fs.check_addr(a, f"inode {self.ino}")
            self.nlink, self.size, self.addrs = d.nlink, d.size, list(d.addrs)
            self.mode, self.uid, self.gid = d.mode, d.uid, d.gid
            self.atime, self.mtime, self.ctime = d.atime, d.mtime, d.ctime
        self.kind = KIND.get(d.type)
        self.valid = True

    def iupdate(self) -> None:
        fs = self.fs
        with fs.bio.bread(inode_block(fs.sb, self.ino)) as b:
            off = inode_offset(self.ino)
            b.data[off:off + INODE_SIZE] = pack_dinode(Dinode(
                TYPE[self.kind], self.nlink, self.size, tuple(self.addrs), self.mode, self.uid, self.gid,
                self.atime, self.mtime, self.ctime))
            fs.log.write(b)
        self.lazy = False

    def _alive(self) -> None:
        if self.dead or self.kind is None or (self.kind == DIR and self.nlink == 0):
            raise SysError(ENOENT)

    # ---- directories (lock held) ----
    def slots(self):
        """(offset, inum, name) of every entry slot, free ones (inum 0) included."""
        fs = self.fs
        for bn in range((self.size + BSIZE - 1) // BSIZE):
            a = self.bmap(bn, False)
            if not a:
                raise fs.corrupt(f"directory {self.ino}: hole at block {bn}")
            with fs.bio.bread(a) as b:
                raw = bytes(b.data)
            fs.k.charge(fs.k.cost.DIRENT_SCAN * (BSIZE // DIRENT_SIZE))
            for slot, inum, name in unpack_dirents(raw):
                off = bn * BSIZE + slot * DIRENT_SIZE
                if off >= self.size:
                    return
                if inum and not name:
                    raise fs.corrupt(f"directory {self.ino}: entry at {off} has no name")
                yield off, inum, name

    def dirents(self):
        """(offset, inum, name) of the used entries."""
        return ((off, inum, nm) for off, inum, nm in self.slots() if inum)

    def dirlookup(self, name: bytes):
        """(inum, offset) of name, or (0, None)."""
        for off, inum, nm in self.dirents():
            if nm == name:
                return inum, off
        return 0, None

    def dirlink(self, name: bytes, inum: int) -> None:
        off = next((off for off, i, _ in self.slots() if not i), self.size)
        if self.writei(off, pack_dirent(inum, name)) != DIRENT_SIZE:
            raise SysError(ENOSPC)

    def is_empty(self) -> bool:
        return all(nm in (b".", b"..") for _, _, nm in self.dirents())

    # ---- the inode interface (see fs.py); these take the locks themselves ----
    def lookup(self, name: str):
        if name == ".":
            return None if self.dead or self.nlink == 0 else self
        raw = _name(name)
        with self.lock:
            if self.dead or self.nlink == 0:
                return None
            inum, _ = self.dirlookup(raw)
        return self.fs.iget(inum) if inum else None

    def entries(self):
        with self.lock:
            self._alive()
            ents = [(inum, nm) for _, inum, nm in self.dirents()]
        for inum, nm in ents:
            ip = self.fs.iget(inum)
            if ip is not None:
                yield nm.decode("utf-8", "surrogateescape"), ip

    def read(self, off: int, n: int) -> bytes:
        with self.lock:
            if self.dead:
                return b""
            data = self.readi(off, n)
            self.lazy |= touch_atime(self, self.fs.now())
            return data

    def readlink(self) -> bytes:
        with self.lock:
            self._alive()
            return self.readi(0, self.size)

    def write(self, off: int, data: bytes) -> int:
        return self._write(off, data)[0]

    def append(self, data: bytes):
        """Write at the end of the file; (bytes written, offset after them)."""
        return self._write(None, data)

    def _write(self, off, data):
        fs = self.fs
        done, end = 0, (self.size if off is None else off)
        while done < len(data):
            fs.log.begin_op()
            try:
                with self.lock:
                    self._alive()
                    at = self.size if off is None else off + done
                    if at >= MAXFILE:
                        raise SysError(EFBIG)
                    piece = data[done:done + min(params.WRITE_CHUNK * BSIZE, MAXFILE - at)]
                    n = self.writei(at, piece)
            except SysError:
                if done:
                    break
                raise
            finally:
                fs.log.end_op()
            done += n
            end = at + n
            if n < len(piece):
                break
        return done, end

    def truncate(self, size: int) -> None:
        if size > MAXFILE:
            raise SysError(EFBIG)
        fs = self.fs
        fs.log.begin_op()
        try:
            with self.lock:
                self._alive()
                if self.kind == DIR:
                    raise SysError(EISDIR)
                if size < self.size:
                    self.shrink(size)
                self.size = size
                self.mtime = self.ctime = fs.now()
                self.iupdate()
        finally:
            fs.log.end_op(sync=True)

    def setattr(self, **attrs) -> None:
        fs = self.fs
        fs.log.begin_op()
        try:
            with self.lock:
                self._alive()
                apply_attrs(self, fs.now(), **attrs)
                self.iupdate()
        finally:
            fs.log.end_op(sync=True)

    def create(self, name: str, kind, mode=0o755, uid=0, gid=0, dev=None, rdev=0, target=b""):
        if kind not in TYPE:
            raise SysError(EPERM)                      # devices live in the in-memory /dev
        raw = _name(name)
        fs = self.fs
        fs.log.begin_op()
        try:
            with self.lock:
                self._alive()
                if name in (".", "..") or self.dirlookup(raw)[0]:
                    raise SysError(EEXIST)
                ip = fs.ialloc(kind)
                with ip.lock:
                    try:
                        ip.mode, ip.uid, ip.gid = mode, uid, gid
                        ip.atime = ip.mtime = ip.ctime = fs.now()
                        if kind == DIR:
                            ip.nlink = 2
                            ip.writei(0, pack_dirent(ip.ino, b".") + pack_dirent(self.ino, b".."))
                        else:
                            ip.nlink = 1
                            if target:
                                ip.writei(0, target)       # a symlink's target is its data
                            else:
                                ip.iupdate()
                        self.dirlink(raw, ip.ino)
                    except SysError:
                        fs.ifree(ip)
                        raise
                if kind == DIR:
                    self.nlink += 1
                    self.iupdate()
                return ip
        finally:
            fs.log.end_op(sync=True)

    def link(self, name: str, ip) -> None:
        """A new entry name for ip, which is not a directory (the VFS checked)."""
        raw = _name(name)
        fs = self.fs
        fs.log.begin_op()
        try:
            with self.lock:
                self._alive()
                if name in (".", "..") or self.dirlookup(raw)[0]:
                    raise SysError(EEXIST)
                with ip.lock:
                    if ip.dead or ip.nlink == 0:
                        raise SysError(ENOENT)             # as Linux: no new name for a removed file
                    if ip.nlink >= LINK_MAX:
                        raise SysError(EMLINK)
                    self.dirlink(raw, ip.ino)
                    ip.nlink += 1
                    ip.ctime = fs.now()
                    ip.iupdate()
        finally:
            fs.log.end_op(sync=True)

    def unlink(self, name: str) -> None:
        raw = _name(name)
        if name in (".", ".."):
            raise SysError(EINVAL)
        fs = self.fs
        fs.log.begin_op()
        try:
            with self.lock:
                self._alive()
                inum, off = self.dirlookup(raw)
                if not inum:
                    raise SysError(ENOENT)
                if inum == self.ino:
                    raise fs.corrupt(f"directory {self.ino}: entry {name!r} names the directory itself")
                ip = fs.iget(inum)
                if ip is None:
                    raise fs.corrupt(f"directory {self.ino}: entry {name!r} names free inode {inum}")
                with ip.lock:
                    if ip.kind == DIR and not ip.is_empty():
                        raise SysError(ENOTEMPTY)
                    self.writei(off, EMPTY_DIRENT)
                    self._drop_link(ip)
        finally:
            fs.log.end_op(sync=True)

    def _drop_link(self, ip) -> None:
        """ip lost its entry in this directory (both locked)."""
        if ip.kind == DIR:
            ip.nlink = 0
            self.nlink -= 1
            self.iupdate()
        else:
            ip.nlink -= 1
        ip.ctime = self.fs.now()
        ip.iupdate()
        if ip.nlink == 0 and ip.refs == 0:
            self.fs.ifree(ip)

    def rename(self, name: str, newdir, newname: str, noreplace: bool = False) -> None:
        """Move entry name to newdir/newname (same file system; the VFS checked that and
        that neither name is '.' or '..')."""
        old_raw, new_raw = _name(name), _name(newname)
        fs = self.fs
        fs.log.begin_op()
        try:
            with fs.rename_lock:
                anc_new, anc_old = fs.ancestors(newdir), fs.ancestors(self)
                if self is newdir:
                    dirs = [self]
                elif self.ino in anc_new or (newdir.ino not in anc_old and self.ino < newdir.ino):
                    dirs = [self, newdir]
                else:
                    dirs = [newdir, self]
                with ExitStack() as held:
                    for d in dirs:
                        held.enter_context(d.lock)
                        d._alive()
                    self._rename_locked(old_raw, newdir, new_raw, noreplace, anc_old, anc_new, held)
        finally:
            fs.log.end_op(sync=True)

    def _rename_locked(self, old_raw, newdir, new_raw, noreplace, anc_old, anc_new, held) -> None:
        fs = self.fs
        inum, old_off = self.dirlookup(old_raw)
        if not inum:
            raise SysError(ENOENT)
        if inum in anc_new:
            raise SysError(EINVAL)                     # a directory into itself or below
        src = fs.iget(inum)
        if src is None:
            raise fs.corrupt(f"directory {self.ino}: entry names free inode {inum}")
        tinum, new_off = newdir.dirlookup(new_raw)
        if tinum == inum:
            return
        tgt = None
        if tinum:
            if noreplace:
                raise SysError(EEXIST)
            if tinum in anc_old:
                raise SysError(ENOTEMPTY)              # the target contains the source
            tgt = fs.iget(tinum)
            if tgt is None:
                raise fs.corrupt(f"directory {newdir.ino}: entry names free inode {tinum}")
            if src.kind == DIR and tgt.kind != DIR:
                raise SysError(ENOTDIR)
            if src.kind != DIR and tgt.kind == DIR:
                raise SysError(EISDIR)
        held.enter_context(src.lock)
        if tgt is not None:
            held.enter_context(tgt.lock)
            if tgt.kind == DIR and not tgt.is_empty():
                raise SysError(ENOTEMPTY)
            newdir.writei(new_off, pack_dirent(src.ino, new_raw))
        else:
            newdir.dirlink(new_raw, src.ino)           # the one step that can fail (ENOSPC)
        self.writei(old_off, EMPTY_DIRENT)
        src.ctime = fs.now()
        if src.kind != DIR or self is newdir:
            src.iupdate()
        if src.kind == DIR and self is not newdir:
            _, dotdot = src.dirlookup(b"..")
            if dotdot is None:
                raise fs.corrupt(f"directory {src.ino} has no '..'")
            src.writei(dotdot, pack_dirent(newdir.ino, b".."))
            self.nlink -= 1
            newdir.nlink += 1
            self.iupdate()
            newdir.iupdate()
        if tgt is not None:
            newdir._drop_link(tgt)

    def fsync(self) -> None:
        fs = self.fs
        if self.lazy:                                  # lazytime: timestamps go out at fsync
            fs.log.begin_op()
            try:
                with self.lock:
                    if not self.dead and self.lazy:
                        self.iupdate()
            finally:
                fs.log.end_op()
        fs.log.force()

    def opened(self) -> None:
        if self.dead or self.kind is None:
            raise SysError(ENOENT)
        self.refs += 1

    def closed(self, written: bool) -> None:
        """An open file on the inode was closed; written: it wrote (close commits it).
        Never raises: it runs inside exit, which must finish."""
        self.refs -= 1
        fs = self.fs
        if written:
            fs.log.force()
        if self.refs == 0 and self.nlink == 0 and not self.dead:
            fs.log.begin_op()
            try:
                with self.lock:
                    if self.refs == 0 and self.nlink == 0 and not self.dead:
                        fs.ifree(self)
            except SysError as e:
                fs.k.log(f"diskfs: inode {self.ino} not freed (errno {e.errno}): fsck will report it")
            finally:
                fs.log.end_op(sync=True)
