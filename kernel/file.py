"""Open files: the File interface, pipes, and per-process descriptor tables.

A File is an open file description shared by every descriptor dup'ed or inherited from
it (refs counts them); close() on the last reference releases the object behind it.
Blocking reads and writes sleep in the calling thread's greenlet.

Readiness (poll, select): File.poll() says which of POLLIN/POLLOUT/POLLHUP/POLLERR hold
now, and poll_queues() names the objects whose state changes wake a waiting poll: each
has a `pollers` set of sleep channels, and whoever changes the object calls notify(),
which wakes its own sleepers and those channels.
"""
import struct

from . import params
from .errno import EAGAIN, EBADF, EINTR, EINVAL, EMFILE, ENOTDIR, ENOTTY, EPIPE, ESPIPE, SysError
from .proc import RLIMIT_NOFILE
from .signal import SIGPIPE

O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE = 0, 1, 2, 3
O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK = 0o100, 0o200, 0o1000, 0o2000, 0o4000
O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_PATH = 0o200000, 0o400000, 0o2000000, 0o10000000

S_IFIFO, S_IFCHR, S_IFDIR, S_IFREG, S_IFLNK = 0o010000, 0o020000, 0o040000, 0o100000, 0o120000
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLWRNORM = 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x100
FIONREAD = 0x541B
PIPE_BUF = 4096                         # a pipe write of at most this many bytes is atomic (POSIX)


def notify(k, obj) -> None:
    """obj changed: wake its sleepers and the polls waiting on it."""
    k.sched.wakeup(obj)
    for chan in tuple(obj.pollers):
        k.sched.wakeup(chan)


class File:
    """Base open file description. Subclasses override what they support."""
    readable = writable = False
    seekable = False                    # pread/pwrite allowed (else ESPIPE)
    node = None                         # the inode it was opened from, if any (/proc/PID/fd)
    where = None                        # (directory, name) it was opened by, for /proc/PID/fd

    def __init__(self, kernel, flags=0):
        self.k = kernel
        self.refs = 1
        self.flags = flags

    def dup(self):
        self.refs += 1
        return self

    def close(self) -> None:
        self.refs -= 1
        if self.refs == 0:
            self.release()

    def release(self) -> None:
        pass

    def read(self, n: int) -> bytes:
        raise SysError(EBADF)

    def write(self, data: bytes) -> int:
        raise SysError(EBADF)

    def lseek(self, off: int, whence: int) -> int:
        raise SysError(ESPIPE)

    def pread(self, n: int, off: int) -> bytes:
        raise SysError(ESPIPE)

    def pwrite(self, data: bytes, off: int) -> int:
        raise SysError(ESPIPE)

    def fsync(self) -> None:
        raise SysError(EINVAL)              # pipes and devices have nothing to sync

    def truncate(self, size: int) -> None:
        raise SysError(EINVAL)

    def stat(self) -> dict:
        return {"mode": 0, "size": 0, "ino": 0, "nlink": 1}

    def getdents(self):
        raise SysError(ENOTDIR)

    def ioctl(self, req: int, arg: int) -> int:
        raise SysError(ENOTTY)

    def poll(self) -> int:
        """POLL* bits that hold now: a regular file is always ready."""
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

    def poll_queues(self) -> tuple:
        """Objects whose notify() may change poll(); called when a poll is about to wait."""
        return ()


class Pipe:
    def __init__(self, now: int, ino: int):
        self.buf = bytearray()
        self.readers = 1
        self.writers = 1
        self.size = params.PIPE_SIZE    # capacity in bytes (F_SETPIPE_SZ changes it)
        self.ino = ino
        self.time = now                 # creation, ns since the epoch (fstat's times)
        self.pollers = set()


class PipeEnd(File):
    def __init__(self, kernel, pipe, writing, flags):
        super().__init__(kernel, flags)
        self.pipe = pipe
        self.readable = not writing
        self.writable = writing

    @classmethod
    def reopen(cls, kernel, pipe, writing, flags) -> "PipeEnd":
        """Another end of an existing pipe (opened through /proc/PID/fd/N)."""
        if writing:
            pipe.writers += 1
        else:
            pipe.readers += 1
        return cls(kernel, pipe, writing, flags)

    def release(self) -> None:
        if self.writable:
            self.pipe.writers -= 1
        else:
            self.pipe.readers -= 1
        notify(self.k, self.pipe)

    def read(self, n: int) -> bytes:
        p = self.pipe
        while not p.buf:
            if p.writers == 0:
                return b""
            if self.flags & O_NONBLOCK:
                raise SysError(EAGAIN)
            if not self.k.sched.sleep(p):
                raise SysError(EINTR)
        data = bytes(p.buf[:n])
        del p.buf[:n]
        notify(self.k, p)
        return data

    def write(self, data: bytes) -> int:
        p = self.pipe
        done = 0
        while done < len(data):
            if p.readers == 0:
                self.k.signals.post(self.k.sched.mythread().proc, SIGPIPE)
                if done:
                    return done
                raise SysError(EPIPE)
            room = p.size - len(p.buf)
            if room == 0 or (room < len(data) and len(data) <= PIPE_BUF):   # a small write goes whole
                if self.flags & O_NONBLOCK:
                    if done:
                        return done
                    raise SysError(EAGAIN)
                if not self.k.sched.sleep(p):
                    if done:
                        return done
                    raise SysError(EINTR)
                continue
            chunk = data[done:done + room]
            p.buf += chunk
            done += len(chunk)
            notify(self.k, p)
        return done

    def stat(self) -> dict:
        p = self.pipe
        return {"dev": 12, "mode": S_IFIFO | 0o600, "size": 0, "ino": p.ino, "nlink": 1, "atime": p.time,
                "mtime": p.time, "ctime": p.time}

    def ioctl(self, req: int, arg: int) -> int:
        if req != FIONREAD:
            return super().ioctl(req, arg)
        self.k.sched.mythread().proc.aspace.copyout(arg, struct.pack("<i", len(self.pipe.buf)))
        return 0

    def poll(self) -> int:
        p = self.pipe
        if self.readable:
            return (POLLIN | POLLRDNORM if p.buf else 0) | (POLLHUP if p.writers == 0 else 0)
        room = p.size - len(p.buf)
        return (POLLOUT | POLLWRNORM if room >= min(PIPE_BUF, p.size) else 0) | (POLLERR if p.readers == 0 else 0)

    def poll_queues(self) -> tuple:
        return (self.pipe,)


def make_pipe(kernel, flags):
    pipe = Pipe(kernel.realtime(), next(kernel.fsys.anon_inos))
    return PipeEnd(kernel, pipe, False, flags), PipeEnd(kernel, pipe, True, flags)


# ---- descriptor tables ----
def fd_get(p, fd: int) -> File:
    if not 0 <= fd < params.NOFILE or p.files[fd] is None:
        raise SysError(EBADF)
    return p.files[fd]


def fd_limit(p) -> int:
    """Descriptors p may have: its RLIMIT_NOFILE, at most the table's NOFILE."""
    return min(params.NOFILE, p.rlimits[RLIMIT_NOFILE][0])


def fd_alloc(p, f: File, lowest: int = 0, cloexec: bool = False) -> int:
    """The lowest free descriptor >= lowest for f; EMFILE past RLIMIT_NOFILE."""
    for fd in range(lowest, fd_limit(p)):
        if p.files[fd] is None:
            p.files[fd] = f
            if cloexec:
                p.cloexec.add(fd)
            else:
                p.cloexec.discard(fd)
            return fd
    raise SysError(EMFILE)


def fd_close(p, fd: int) -> None:
    f = fd_get(p, fd)
    p.files[fd] = None
    p.cloexec.discard(fd)
    f.close()


def check_flags(flags: int, allowed: int) -> None:
    if flags & ~allowed:
        raise SysError(EINVAL)
