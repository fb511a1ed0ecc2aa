"""File-descriptor system calls over the VFS (fs.py), pipes and the console.

The calls on file metadata (modes, owners, times, links) are in sysmeta.py."""
import struct

from . import params
from .arch import i32, sx
from .errno import (EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, ELOOP, EMFILE, ENAMETOOLONG, ENOENT, ENOTDIR,
                    ENOTEMPTY, EPERM, ERANGE, ESPIPE, SysError)
from .file import (O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH,
                   O_RDONLY, O_TRUNC, O_WRONLY, PipeEnd, check_flags, fd_alloc, fd_close, fd_get, fd_limit, make_pipe)
from .fs import InodeFile, inode_stat, stat_bytes
from .ramfs import DIR, FILE, LNK
from .vm import PROT_R, PROT_W

AT_FDCWD = -100
AT_REMOVEDIR, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT = 0x200, 0x1000, 0x100, 0x800
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
FD_CLOEXEC = 1
S_ISGID = 0o2000
MAX_IO = 1 << 20                        # bytes moved by one read/write call at most
IOV_MAX = 1024


def _path(t, va) -> bytes:
    s = t.proc.aspace.copyinstr(va, params.MAXPATH)
    if s is None:
        raise SysError(ENAMETOOLONG)
    return s


def _dir(t, dirfd, path: bytes):
    """The directory relative paths start from: cwd or the open directory dirfd."""
    dirfd = i32(dirfd)
    if path.startswith(b"/") or dirfd == AT_FDCWD:
        return t.proc.cwd
    f = fd_get(t.proc, dirfd)
    if not isinstance(f, InodeFile):
        raise SysError(ENOTDIR)
    if f.ino.kind != DIR:
        raise SysError(ENOTDIR)
    return f.ino


def new_owner(p, d, mode: int, kind):
    """(mode, uid, gid) of a new inode in directory d: the creator's umask applied, the
    group of a set-group-ID directory (which a new directory inherits), as Linux."""
    mode &= ~p.umask
    gid = 0
    if d.mode & S_ISGID:
        gid = d.gid
        if kind == DIR:
            mode |= S_ISGID
    return mode, 0, gid


def at_inode(k, t, dirfd, path: bytes, flags: int):
    """The inode a *at call names: path from dirfd, or with AT_EMPTY_PATH and an empty
    path the open file dirfd itself (then the inode it was opened from)."""
    if not path and flags & AT_EMPTY_PATH:
        dirfd = i32(dirfd)
        if dirfd == AT_FDCWD:
            return t.proc.cwd
        f = fd_get(t.proc, dirfd)
        if f.node is None:
            raise SysError(EBADF)
        return f.node
    return k.fsys.namei(path, _dir(t, dirfd, path), not flags & AT_SYMLINK_NOFOLLOW)


def sys_read(k, t, fd, buf, n):
    f = fd_get(t.proc, i32(fd))
    if not f.readable:
        raise SysError(EBADF)
    n = min(n, MAX_IO)
    t.proc.aspace.check(buf, n, PROT_W)
    data = f.read(n)
    t.proc.aspace.copyout(buf, data)
    return len(data)


def sys_write(k, t, fd, buf, n):
    f = fd_get(t.proc, i32(fd))
    if not f.writable:
        raise SysError(EBADF)
    n = min(n, MAX_IO)
    return f.write(t.proc.aspace.copyin(buf, n))


def _iovecs(t, iov, cnt):
    """The (base, length) pairs of a struct iovec array, checked as Linux's import_iovec
    checks each: a length negative as ssize_t is EINVAL, one reaching past user space EFAULT."""
    cnt = i32(cnt)
    if not 0 <= cnt <= IOV_MAX:
        raise SysError(EINVAL)
    raw = t.proc.aspace.copyin(iov, 16 * cnt)
    vecs = [struct.unpack_from("<QQ", raw, 16 * i) for i in range(cnt)]
    for base, n in vecs:
        if n >> 63:
            raise SysError(EINVAL)
        if base + n > params.USER_TOP:
            raise SysError(EFAULT)
    return vecs


def _usable(t, vecs, access):
    """vecs cut to MAX_IO bytes, each segment's memory allowing access, and their total; a
    Fault (EFAULT, nothing moved) for a bad one: what Linux's pipes do (a regular file there
    moves the bytes before the bad address instead: docs/linux.md)."""
    out, total = [], 0
    for base, n in vecs:
        n = min(n, MAX_IO - total)
        t.proc.aspace.check(base, n, access)
        out.append((base, n))
        total += n
    return out, total


def sys_readv(k, t, fd, iov, cnt):
    f = fd_get(t.proc, i32(fd))
    if not f.readable:
        raise SysError(EBADF)
    return _scatter(t, iov, cnt, f.read)


def sys_writev(k, t, fd, iov, cnt):
    f = fd_get(t.proc, i32(fd))
    if not f.writable:
        raise SysError(EBADF)
    return _gather(t, iov, cnt, f.write)


def sys_preadv(k, t, fd, iov, cnt, off, _off_high):
    """preadv(fd, iov, cnt, off): on a 64-bit kernel the offset is the low word whole."""
    off = _offset(off)
    f = _positional(t, fd, "readable")
    return _scatter(t, iov, cnt, lambda n: f.pread(n, off))


def sys_pwritev(k, t, fd, iov, cnt, off, _off_high):
    off = _offset(off)
    f = _positional(t, fd, "writable")
    return _gather(t, iov, cnt, lambda data: f.pwrite(data, off))


def _scatter(t, iov, cnt, read):
    """One read of the iovecs' total, spread over them: no wait for more than one read gives."""
    vecs, total = _usable(t, _iovecs(t, iov, cnt), PROT_W)
    if total == 0:
        return 0
    data = read(total)
    at = 0
    for base, n in vecs:
        t.proc.aspace.copyout(base, data[at:at + n])
        at += n
    return len(data)


def _gather(t, iov, cnt, write):
    vecs, _ = _usable(t, _iovecs(t, iov, cnt), PROT_R)
    return write(b"".join(t.proc.aspace.copyin(b, n) for b, n in vecs if n))


def sys_openat(k, t, dirfd, path_va, flags, mode):
    flags = i32(flags)
    path = _path(t, path_va)
    p = t.proc
    if flags & O_PATH:
        flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW
    if flags & O_CREAT and flags & O_DIRECTORY:
        raise SysError(EINVAL)                      # as Linux since 6.4
    if all(f is not None for f in p.files[:fd_limit(p)]):
        raise SysError(EMFILE)                      # as Linux: before anything is created
    follow = not flags & O_NOFOLLOW and not (flags & O_CREAT and flags & O_EXCL)
    d, name, ino = k.fsys.resolve(path, _dir(t, dirfd, path), follow)
    if ino is None:
        if not flags & O_CREAT:
            raise SysError(ENOENT)
        if path.endswith(b"/"):
            raise SysError(EISDIR)
        try:
            ino = d.create(name, FILE, *new_owner(p, d, mode & 0o7777, FILE))
        except SysError as e:                       # created by someone else meanwhile?
            ino = None if e.errno != EEXIST or flags & O_EXCL else k.fsys.lookup(d, name)
            if ino is None:
                raise
    elif flags & O_CREAT and flags & O_EXCL:
        raise SysError(EEXIST)
    if (flags & O_DIRECTORY or path.endswith(b"/")) and ino.kind != DIR:
        raise SysError(ENOTDIR)
    if ino.kind == LNK and not flags & O_PATH:
        raise SysError(ELOOP)                       # O_NOFOLLOW (or O_CREAT|O_EXCL) met a link
    if ino.kind == DIR and flags & O_ACCMODE != O_RDONLY and not flags & O_PATH:
        raise SysError(EISDIR)
    keep = O_ACCMODE | O_NONBLOCK | O_APPEND | O_PATH
    if ino.opener is not None and not flags & O_PATH:
        f = ino.opener(k, flags & keep)
    else:
        f = InodeFile(k, ino, flags & keep)
    f.where = (d, name)
    try:
        if flags & O_TRUNC and ino.kind == FILE and ino.opener is None and flags & O_ACCMODE != O_RDONLY:
            ino.truncate(0)
        return fd_alloc(t.proc, f, cloexec=bool(flags & O_CLOEXEC))
    except SysError:
        f.close()
        raise


def sys_close(k, t, fd):
    fd_close(t.proc, i32(fd))
    return 0


def sys_dup(k, t, fd):
    f = fd_get(t.proc, i32(fd))
    return fd_alloc(t.proc, f.dup())


def sys_dup3(k, t, old, new, flags):
    old, new, flags = i32(old), i32(new), i32(flags)
    p = t.proc
    check_flags(flags, O_CLOEXEC)
    f = fd_get(p, old)
    if old == new or not 0 <= new < fd_limit(p):
        raise SysError(EINVAL if old == new else EBADF)
    if p.files[new] is not None:
        fd_close(p, new)
    p.files[new] = f.dup()
    if flags & O_CLOEXEC:
        p.cloexec.add(new)
    else:
        p.cloexec.discard(new)
    return new


def sys_fcntl(k, t, fd, cmd, arg):
    fd, cmd = i32(fd), i32(cmd)
    p = t.proc
    f = fd_get(p, fd)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        lowest = i32(arg)
        if not 0 <= lowest < fd_limit(p):
            raise SysError(EINVAL)
        return fd_alloc(p, f.dup(), lowest, cloexec=cmd == F_DUPFD_CLOEXEC)
    if cmd == F_GETFD:
        return FD_CLOEXEC if fd in p.cloexec else 0
    if cmd == F_SETFD:
        (p.cloexec.add if arg & FD_CLOEXEC else p.cloexec.discard)(fd)
        return 0
    if cmd == F_GETFL:
        return f.flags
    if cmd == F_SETFL:
        f.flags = (f.flags & ~(O_APPEND | O_NONBLOCK)) | (arg & (O_APPEND | O_NONBLOCK))
        return 0
    if cmd in (F_GETPIPE_SZ, F_SETPIPE_SZ):
        if not isinstance(f, PipeEnd):
            raise SysError(EBADF)                       # as Linux: not a pipe
        if cmd == F_SETPIPE_SZ:
            f.pipe.size = _pipe_size(f.pipe, i32(arg))
        return f.pipe.size
    raise SysError(EINVAL)


def _pipe_size(pipe, want: int) -> int:
    """F_SETPIPE_SZ: want rounded up to a power of two of at least a page, as Linux; EPERM
    above params.PIPE_MAX_SIZE, EBUSY if the data already in the pipe would not fit."""
    if want < 0:
        raise SysError(EINVAL)
    size = 4096
    while size < want:
        size *= 2
    if size > params.PIPE_MAX_SIZE:
        raise SysError(EPERM)
    if size < len(pipe.buf):
        raise SysError(EBUSY)
    return size


def sys_pipe2(k, t, fds, flags):
    flags = i32(flags)
    check_flags(flags, O_CLOEXEC | O_NONBLOCK)
    p = t.proc
    p.aspace.check(fds, 8, PROT_W)
    r, w = make_pipe(k, flags & O_NONBLOCK)
    cloexec = bool(flags & O_CLOEXEC)
    try:
        rfd = fd_alloc(p, r, cloexec=cloexec)
    except SysError:
        r.close(), w.close()
        raise
    try:
        wfd = fd_alloc(p, w, cloexec=cloexec)
    except SysError:
        fd_close(p, rfd)
        w.close()
        raise
    p.aspace.copyout(fds, struct.pack("<ii", rfd, wfd))
    return 0


def sys_lseek(k, t, fd, off, whence):
    f = fd_get(t.proc, i32(fd))
    whence &= 0xffffffff
    if whence > 4:                                  # Linux's SEEK_MAX (SEEK_HOLE): EINVAL even on a pipe
        raise SysError(EINVAL)
    return f.lseek(sx(off), whence)


def sys_fstat(k, t, fd, buf):
    st = fd_get(t.proc, i32(fd)).stat()
    t.proc.aspace.copyout(buf, stat_bytes(st))
    return 0


def sys_newfstatat(k, t, dirfd, path_va, buf, flags):
    flags = i32(flags)
    check_flags(flags, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)
    path = _path(t, path_va)
    t.proc.aspace.check(buf, 128, PROT_W)
    if not path and flags & AT_EMPTY_PATH:
        return sys_fstat(k, t, dirfd, buf)
    ino = k.fsys.namei(path, _dir(t, dirfd, path), not flags & AT_SYMLINK_NOFOLLOW)
    t.proc.aspace.copyout(buf, stat_bytes(inode_stat(ino)))
    return 0


def sys_getdents64(k, t, fd, buf, n):
    f = fd_get(t.proc, i32(fd))
    if not isinstance(f, InodeFile):
        raise SysError(ENOTDIR)
    t.proc.aspace.check(buf, n, PROT_W)
    data = f.getdents(min(n, MAX_IO))
    t.proc.aspace.copyout(buf, data)
    return len(data)


def sys_ioctl(k, t, fd, req, arg):
    return fd_get(t.proc, i32(fd)).ioctl(req & 0xFFFFFFFF, arg)


def sys_getcwd(k, t, buf, size):
    path = k.fsys.path_of(t.proc.cwd) + b"\0"
    t.proc.aspace.check(buf, min(size, len(path)), PROT_W)
    if size < len(path):
        raise SysError(ERANGE)
    t.proc.aspace.copyout(buf, path)
    return len(path)


def sys_chdir(k, t, path_va):
    path = _path(t, path_va)
    ino = k.fsys.namei(path, t.proc.cwd)
    if ino.kind != DIR:
        raise SysError(ENOTDIR)
    t.proc.cwd = ino
    return 0


def sys_fchdir(k, t, fd):
    f = fd_get(t.proc, i32(fd))
    if f.node is None or f.node.kind != DIR:
        raise SysError(ENOTDIR)
    t.proc.cwd = f.node
    return 0


def sys_mkdirat(k, t, dirfd, path_va, mode):
    path = _path(t, path_va)
    d, name = k.fsys.split(path, _dir(t, dirfd, path))
    if not name or name in (".", ".."):
        raise SysError(EEXIST)
    d.create(name, DIR, *new_owner(t.proc, d, i32(mode) & 0o1777, DIR))
    return 0


def sys_unlinkat(k, t, dirfd, path_va, flags):
    flags = i32(flags)
    check_flags(flags, AT_REMOVEDIR)
    path = _path(t, path_va)
    d, name = k.fsys.split(path, _dir(t, dirfd, path))
    if not name or name in (".", ".."):                 # Linux's errors for /, . and ..
        if not flags & AT_REMOVEDIR:
            raise SysError(EISDIR)
        raise SysError({"": EBUSY, ".": EINVAL, "..": ENOTEMPTY}[name])
    ino = k.fsys.lookup(d, name)
    if ino is None:
        raise SysError(ENOENT)
    if ino in k.fsys.covered:
        raise SysError(EBUSY)                           # a mount point
    if flags & AT_REMOVEDIR and ino.kind != DIR:
        raise SysError(ENOTDIR)
    if not flags & AT_REMOVEDIR and ino.kind == DIR:
        raise SysError(EISDIR)
    d.unlink(name)
    return 0



def _offset(off) -> int:
    off = sx(off)
    if off < 0:
        raise SysError(EINVAL)
    return off


def _positional(t, fd, access):
    """The file for a pread/pwrite: ESPIPE for pipes and the console, then EBADF unless it
    is open for access (Linux's order)."""
    f = fd_get(t.proc, i32(fd))
    if not f.seekable:
        raise SysError(ESPIPE)
    if not getattr(f, access):
        raise SysError(EBADF)
    return f


def sys_pread64(k, t, fd, buf, n, off):
    off = _offset(off)                                  # Linux checks the offset first
    f = _positional(t, fd, "readable")
    n = min(n, MAX_IO)
    t.proc.aspace.check(buf, n, PROT_W)
    data = f.pread(n, off)
    t.proc.aspace.copyout(buf, data)
    return len(data)


def sys_pwrite64(k, t, fd, buf, n, off):
    off = _offset(off)
    f = _positional(t, fd, "writable")
    return f.pwrite(t.proc.aspace.copyin(buf, min(n, MAX_IO)), off)


def sys_fsync(k, t, fd):
    fd_get(t.proc, i32(fd)).fsync()
    return 0


def sys_ftruncate(k, t, fd, length):
    length = sx(length)
    f = fd_get(t.proc, i32(fd))
    if length < 0:
        raise SysError(EINVAL)
    f.truncate(length)
    return 0


def sys_truncate(k, t, path_va, length):
    """ftruncate of the file path names, opened for writing meanwhile: EINVAL for a negative
    length (before the path) or what is not a regular file, EISDIR for a directory, ETXTBSY
    while a process runs it."""
    length = sx(length)
    if length < 0:
        raise SysError(EINVAL)
    path = _path(t, path_va)
    ino = k.fsys.namei(path, _dir(t, AT_FDCWD, path))
    if ino.kind == DIR:
        raise SysError(EISDIR)
    if ino.kind != FILE or ino.opener is not None:
        raise SysError(EINVAL)
    f = InodeFile(k, ino, O_WRONLY)
    try:
        f.truncate(length)
    finally:
        f.close()
    return 0


def sys_sendfile(k, t, out_fd, in_fd, offp, count):
    """Copy up to count bytes from in_fd (a file, not a pipe: EINVAL) to out_fd, from *offp
    (then updated, in_fd's offset untouched) or from in_fd's offset."""
    p = t.proc
    fin, fout = fd_get(p, i32(in_fd)), fd_get(p, i32(out_fd))
    if not fin.readable or not fout.writable:
        raise SysError(EBADF)
    if not fin.seekable or fout.flags & O_APPEND:
        raise SysError(EINVAL)
    n = min(count, MAX_IO)
    if offp:
        (off,) = struct.unpack("<q", p.aspace.copyin(offp, 8))
        if off < 0:
            raise SysError(EINVAL)
        data = fin.pread(n, off)
    else:
        data = fin.read(n)
    done = fout.write(data) if data else 0
    if offp:
        p.aspace.copyout(offp, struct.pack("<q", off + done))
    elif done < len(data):
        fin.lseek(done - len(data), 1)                  # SEEK_CUR: what was not sent stays unread
    return done
