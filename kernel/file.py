"""Open files: the File interface, pipes, and per-process descriptor tables.

A File is an open file description shared by every descriptor dup'ed or inherited from
it (refs counts them); close() on the last reference releases the object behind it.
Blocking reads and writes sleep in the calling thread's greenlet.
"""
from . import params
from .errno import EAGAIN, EBADF, EINTR, EINVAL, EMFILE, ENOTDIR, ENOTTY, EPIPE, ESPIPE, SysError
from .signal import SIGPIPE

O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE = 0, 1, 2, 3
O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK = 0o100, 0o200, 0o1000, 0o2000, 0o4000
O_DIRECTORY, O_CLOEXEC = 0o200000, 0o2000000

S_IFIFO, S_IFCHR, S_IFDIR, S_IFREG = 0o010000, 0o020000, 0o040000, 0o100000


class File:
    """Base open file description. Subclasses override what they support."""
    readable = writable = False

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


class Pipe:
    def __init__(self):
        self.buf = bytearray()
        self.readers = 1
        self.writers = 1


class PipeEnd(File):
    def __init__(self, kernel, pipe, writing, flags):
        super().__init__(kernel, flags)
        self.pipe = pipe
        self.readable = not writing
        self.writable = writing

    def release(self) -> None:
        if self.writable:
            self.pipe.writers -= 1
        else:
            self.pipe.readers -= 1
        self.k.sched.wakeup(self.pipe)

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
        self.k.sched.wakeup(p)
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
            room = params.PIPE_SIZE - len(p.buf)
            if room == 0:
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
            self.k.sched.wakeup(p)
        return done

    def stat(self) -> dict:
        return {"mode": S_IFIFO | 0o600, "size": len(self.pipe.buf), "ino": id(self.pipe) & 0xFFFF, "nlink": 1}


def make_pipe(kernel, flags):
    pipe = Pipe()
    return PipeEnd(kernel, pipe, False, flags), PipeEnd(kernel, pipe, True, flags)


# ---- descriptor tables ----
def fd_get(p, fd: int) -> File:
    if not 0 <= fd < params.NOFILE or p.files[fd] is None:
        raise SysError(EBADF)
    return p.files[fd]


def fd_alloc(p, f: File, lowest: int = 0, cloexec: bool = False) -> int:
    for fd in range(lowest, params.NOFILE):
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
