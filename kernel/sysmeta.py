"""System calls on file metadata: modes, owners, times, links and renames, access checks, file
systems.

Every process is root (uid and gid 0, docs/linux.md), so the permission checks are
Linux's for root (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN): reading and writing are always
allowed, executing needs an x bit in the mode (of owner, group or others) unless it is a
directory, and root may chmod, chown and set the times of any file. The mode bits are
kept exactly, so a program sees and changes them as on Linux.
"""
import struct

from .errno import EACCES, EEXIST, EFAULT, EINVAL, ENOENT, EOPNOTSUPP, EPERM, EXDEV, SysError
from .file import check_flags, fd_get
from .fs import statfs_bytes
from .fslayout import clamp_time
from .ramfs import DIR, LNK
from .sysfile import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, _dir, _path, at_inode, new_owner
from .arch import i32
from .sysproc import NS
from .vm import PROT_W

AT_SYMLINK_FOLLOW, AT_EACCESS = 0x400, 0x200
F_OK, X_OK, W_OK, R_OK = 0, 1, 2, 4
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
S_ISUID, S_ISGID, S_IXGRP = 0o4000, 0o2000, 0o010
NO_ID = 0xFFFFFFFF                    # chown's "leave it": (uid_t)-1
PIPEFS_MAGIC = 0x50495045


def _fd_node(t, fd):
    """The inode open file fd was opened from; None for a pipe, whose anonymous inode keeps
    no mode, owner or times here (fchmod, fchown and futimens on it succeed and change
    nothing)."""
    return fd_get(t.proc, i32(fd)).node


def sys_umask(k, t, mask):
    p = t.proc
    old, p.umask = p.umask, mask & 0o777
    return old


def _chmod(ino, mode: int) -> int:
    if ino.kind == LNK:
        raise SysError(EOPNOTSUPP)                     # Linux has no modes for symlinks
    ino.setattr(mode=mode & 0o7777)
    return 0


def sys_fchmod(k, t, fd, mode):
    ino = _fd_node(t, fd)
    return 0 if ino is None else _chmod(ino, mode)


def sys_fchmodat(k, t, dirfd, path_va, mode):
    path = _path(t, path_va)
    return _chmod(k.fsys.namei(path, _dir(t, dirfd, path)), mode)


def sys_fchmodat2(k, t, dirfd, path_va, mode, flags):
    flags = i32(flags)
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    return _chmod(at_inode(k, t, dirfd, _path(t, path_va), flags), mode)


def _chown(ino, uid: int, gid: int) -> int:
    uid, gid = uid & NO_ID, gid & NO_ID
    changes = {}
    if uid != NO_ID:
        changes["uid"] = uid
    if gid != NO_ID:
        changes["gid"] = gid
    if ino.kind != DIR:                                # as Linux: chown clears set-user-ID, and
        kill = S_ISUID | (S_ISGID if ino.mode & S_IXGRP else 0)   # set-group-ID of a group-runnable file
        if ino.mode & kill:
            changes["mode"] = ino.mode & ~kill
    ino.setattr(**changes)
    return 0


def sys_fchown(k, t, fd, uid, gid):
    ino = _fd_node(t, fd)
    return 0 if ino is None else _chown(ino, uid, gid)


def sys_fchownat(k, t, dirfd, path_va, uid, gid, flags):
    flags = i32(flags)
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    return _chown(at_inode(k, t, dirfd, _path(t, path_va), flags), uid, gid)


def _times(k, t, va):
    """utimensat's times: (atime, mtime), each ns, or None to leave it."""
    now = k.realtime()
    if not va:
        return now, now
    raw = struct.unpack("<qqqq", t.proc.aspace.copyin(va, 32))
    out = []
    for sec, nsec in (raw[0:2], raw[2:4]):
        if nsec == UTIME_NOW:
            out.append(now)
        elif nsec == UTIME_OMIT:
            out.append(None)
        elif not 0 <= nsec < NS:
            raise SysError(EINVAL)
        else:
            out.append(clamp_time(sec * NS + nsec))
    return tuple(out)


def sys_utimensat(k, t, dirfd, path_va, times_va, flags):
    """utimensat(dirfd, path, times, flags); a NULL path is futimens(dirfd), as on Linux."""
    flags = i32(flags)
    check_flags(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    atime, mtime = _times(k, t, times_va)
    if path_va:
        ino = at_inode(k, t, dirfd, _path(t, path_va), flags)
    else:
        if flags & AT_SYMLINK_NOFOLLOW:
            raise SysError(EINVAL)
        if i32(dirfd) == AT_FDCWD:
            raise SysError(EFAULT)                     # as Linux: no path and no descriptor
        ino = _fd_node(t, dirfd)
    if ino is not None and (atime is not None or mtime is not None):
        ino.setattr(atime=atime, mtime=mtime)
    return 0


def _new_name(k, t, dirfd, path: bytes):
    """(directory, name) for a link to be made at path: EEXIST if it names anything (a
    dangling symlink included), ENOENT for a trailing '/' on a name that does not exist."""
    d, name = k.fsys.split(path, _dir(t, dirfd, path))
    if not name or name in (".", "..") or k.fsys.lookup(d, name) is not None:
        raise SysError(EEXIST)
    if path.endswith(b"/"):
        raise SysError(ENOENT)
    return d, name


def sys_symlinkat(k, t, target_va, dirfd, path_va):
    target = _path(t, target_va)
    if not target:
        raise SysError(ENOENT)
    path = _path(t, path_va)
    d, name = _new_name(k, t, dirfd, path)
    _, uid, gid = new_owner(t.proc, d, 0, LNK)
    d.create(name, LNK, 0o777, uid, gid, target=target)           # a symlink's mode is always 0777
    return 0


def sys_linkat(k, t, olddirfd, old_va, newdirfd, new_va, flags):
    flags = i32(flags)
    check_flags(flags, AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)
    old = _path(t, old_va)
    follow = 0 if flags & AT_SYMLINK_FOLLOW else AT_SYMLINK_NOFOLLOW
    ino = at_inode(k, t, olddirfd, old, follow | (flags & AT_EMPTY_PATH))
    new = _path(t, new_va)
    d, name = _new_name(k, t, newdirfd, new)
    if ino.kind == DIR:
        raise SysError(EPERM)                          # no hard links to directories
    if d.fs is not ino.fs:
        raise SysError(EXDEV)
    d.link(name, ino)
    return 0


def sys_readlinkat(k, t, dirfd, path_va, buf, size):
    """The target of the symlink path, not NUL-terminated, cut to size bytes; EINVAL if
    path is no symlink. An empty path reads the symlink dirfd was opened on (O_PATH)."""
    size = i32(size)
    if size <= 0:
        raise SysError(EINVAL)
    path = _path(t, path_va)
    ino = at_inode(k, t, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    if ino.kind != LNK:
        raise SysError(EINVAL if path else ENOENT)
    target = ino.readlink()[:size]
    t.proc.aspace.copyout(buf, target)
    return len(target)


def _access(k, t, dirfd, path_va, mode, flags):
    if mode & ~(R_OK | W_OK | X_OK):
        raise SysError(EINVAL)
    ino = at_inode(k, t, dirfd, _path(t, path_va), flags)
    if mode & X_OK and ino.kind != DIR and not ino.mode & 0o111:
        raise SysError(EACCES)                         # root still needs an x bit to run a file
    return 0


def sys_faccessat(k, t, dirfd, path_va, mode):
    return _access(k, t, dirfd, path_va, mode, 0)


def sys_faccessat2(k, t, dirfd, path_va, mode, flags):
    flags = i32(flags)
    check_flags(flags, AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    return _access(k, t, dirfd, path_va, mode, flags)


def sys_statfs(k, t, path_va, buf):
    path = _path(t, path_va)
    ino = k.fsys.namei(path, t.proc.cwd)
    t.proc.aspace.check(buf, 120, PROT_W)
    t.proc.aspace.copyout(buf, statfs_bytes(ino.fs))
    return 0


class _PipeFS:
    dev = 12
    statfs = staticmethod(lambda: {"type": PIPEFS_MAGIC, "bsize": 4096, "blocks": 0, "bfree": 0, "files": 0,
                                   "ffree": 0, "namelen": 255})


def sys_fstatfs(k, t, fd, buf):
    ino = _fd_node(t, fd)
    t.proc.aspace.copyout(buf, statfs_bytes(_PipeFS if ino is None else ino.fs))
    return 0


RENAME_NOREPLACE = 1


def sys_renameat2(k, t, olddirfd, old_va, newdirfd, new_va, flags):
    flags = i32(flags)
    check_flags(flags, RENAME_NOREPLACE)                # EXCHANGE and WHITEOUT: EINVAL
    old, new = _path(t, old_va), _path(t, new_va)
    d1, n1 = k.fsys.split(old, _dir(t, olddirfd, old))
    d2, n2 = k.fsys.split(new, _dir(t, newdirfd, new))
    k.fsys.rename(d1, n1, d2, n2, bool(flags & RENAME_NOREPLACE))
    return 0


def sys_renameat(k, t, olddirfd, old_va, newdirfd, new_va):
    return sys_renameat2(k, t, olddirfd, old_va, newdirfd, new_va, 0)
