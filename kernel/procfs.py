"""/proc: processes and the kernel's state as files (a minimal procfs), mounted over /proc.

Nothing is stored: each lookup makes the node it names, and a file's text is made when it
is opened (proctext.py) and read from that snapshot, as Linux's seq_file shows one
consistent record per open. Inode numbers are stable (derived from the pid and the entry).

  /proc/self, /proc/thread-self          links to the caller's PID and PID/task/TID
  /proc/PID/  stat status cmdline comm maps mounts, exe cwd root (magic links), fd/N (magic
              links to the open files), task/TID/ (stat status cmdline comm)
  /proc/meminfo uptime loadavg stat cpuinfo mounts version filesystems

A PID directory is listed for every process (zombies included) and every pure kernel
thread (empty cmdline, as Linux's kernel threads); any LWP's id can be looked up too.
A magic link reads as a path but is followed to the inode itself (FS.resolve's `jump`), so
/proc/self/fd/1 opens what fd 1 is even when it has no name (a pipe) and /proc/self/exe
opens the running program even after it was removed. /proc refuses changes: creating
(EACCES), linking, removing, renaming, chmod (EPERM); a write to its files is EIO.
"""
from . import proctext as T
from .daemons import kswitch
from .errno import EACCES, EINVAL, EIO, ENOENT, ENXIO, EPERM, SysError
from .file import O_ACCMODE, O_RDONLY, File, PipeEnd
from .fs import SEEK_CUR, SEEK_END, SEEK_SET, inode_stat
from .ramfs import DIR, FIFO, FILE, LNK

PROC_SUPER_MAGIC = 0x9FA0
PROC_DEV = 20                         # st_dev of /proc (an anonymous device, 0:20)
_PID_BASE, _TID_BASE, _FD_BASE = 1 << 28, 2 << 28, 3 << 28


class Node:
    """A /proc inode: made at lookup, never stored."""
    opener = None
    jump = None
    rdev = 0
    size = 0

    def __init__(self, fs, ino, kind, mode, time, parent=None):
        self.fs, self.ino, self.kind, self.mode = fs, ino, kind, mode
        self.uid = self.gid = 0
        self.atime = self.mtime = self.ctime = time
        self.nlink = 2 if kind == DIR else 1
        self.parent = parent

    def lookup(self, name: str):
        if name == ".":
            return self
        if name == "..":
            return self.parent or self
        return next((n for nm, n in self.children() if nm == name), None)

    def entries(self):
        yield ".", self
        yield "..", self.parent or self
        yield from self.children()

    def children(self):
        return ()

    def read(self, off: int, n: int) -> bytes:
        return b""

    def write(self, off: int, data: bytes) -> int:
        raise SysError(EIO)

    def append(self, data: bytes):
        raise SysError(EIO)

    def truncate(self, size: int) -> None:
        raise SysError(EPERM)

    def setattr(self, **attrs) -> None:
        raise SysError(EPERM)

    def create(self, name, kind, *args, **kw):
        raise SysError(EACCES)

    def link(self, name, ino) -> None:
        raise SysError(EPERM)

    def unlink(self, name) -> None:
        raise SysError(EPERM)

    def rename(self, name, newdir, newname, noreplace=False) -> None:
        raise SysError(EPERM)

    def fsync(self) -> None:
        pass

    def opened(self) -> None:
        pass

    def closed(self, written: bool) -> None:
        pass


class TextNode(Node):
    """A /proc file: text(kernel) is its content, made at open."""

    def __init__(self, fs, ino, time, text, parent=None):
        super().__init__(fs, ino, FILE, 0o444, time, parent)
        self.opener = lambda k, flags: ProcFile(k, flags, self, text(k))


class LinkNode(Node):
    """A symbolic link whose target is computed; with jump, a magic link."""

    def __init__(self, fs, ino, time, target, jump=None, parent=None, mode=0o777):
        super().__init__(fs, ino, LNK, mode, time, parent)
        self.target = target
        self.jump = jump

    def readlink(self) -> bytes:
        return self.target()


class DirNode(Node):
    def __init__(self, fs, ino, time, children, parent=None, mode=0o555):
        super().__init__(fs, ino, DIR, mode, time, parent)
        self._children = children

    def children(self):
        return self._children(self)


class RootNode(DirNode):
    def lookup(self, name: str):
        found = super().lookup(name)
        return found if found is not None else self.fs.lookup_id(self, name)


class FifoNode(Node):
    """A pipe reached through /proc/PID/fd/N: opening it opens another end of that pipe."""

    def __init__(self, fs, pipe):
        super().__init__(fs, pipe.ino, FIFO, 0o600, fs.k.realtime())
        self.opener = lambda k, flags: PipeEnd.reopen(k, pipe, flags & O_ACCMODE != O_RDONLY, flags)


class ProcFile(File):
    """An open /proc file: the text made at open, read with an offset."""
    readable = True
    seekable = True

    def __init__(self, kernel, flags, node, data: bytes):
        super().__init__(kernel, flags)
        self.node = node
        self.data = data
        self.off = 0
        self.writable = flags & O_ACCMODE != O_RDONLY

    def read(self, n: int) -> bytes:
        out = self.data[self.off:self.off + n]
        self.off += len(out)
        return out

    def pread(self, n: int, off: int) -> bytes:
        return self.data[off:off + n]

    def write(self, data: bytes) -> int:
        raise SysError(EIO)

    def pwrite(self, data: bytes, off: int) -> int:
        raise SysError(EIO)

    def lseek(self, off: int, whence: int) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: self.off, SEEK_END: len(self.data)}.get(whence)
        if base is None or base + off < 0:
            raise SysError(EINVAL)
        self.off = base + off
        return self.off

    def stat(self) -> dict:
        return inode_stat(self.node)


class ProcFS:
    fstype = source = "proc"
    magic = PROC_SUPER_MAGIC
    dev = PROC_DEV

    def __init__(self, kernel):
        self.k = kernel
        self.load = T.LoadAverage()
        self.root = RootNode(self, 1, kernel.boot_realtime, self._top)

    def now(self) -> int:
        return self.k.realtime()

    def statfs(self) -> dict:
        return {"type": self.magic, "bsize": 4096, "blocks": 0, "bfree": 0, "files": 0, "ffree": 0,
                "namelen": 255}

    # ---- the top directory ----
    def _top(self, root):
        k, boot = self.k, self.k.boot_realtime
        me = k.sched.mythread() if k.sched.cur is not None else None
        out = [("self", LinkNode(self, 2, boot, lambda: str(me.proc.pid if me and me.proc else 0).encode(),
                                 parent=root)),
               ("thread-self", LinkNode(self, 3, boot, lambda: (f"{me.proc.pid}/task/{me.tid}".encode()
                                                                 if me and me.proc else b"0"), parent=root))]
        files = (("meminfo", T.meminfo), ("uptime", T.uptime), ("loadavg", self._loadavg), ("stat", T.cpu_stat),
                 ("cpuinfo", T.cpuinfo), ("mounts", T.mounts), ("version", self._version),
                 ("filesystems", lambda k: b"nodev\tproc\nnodev\tdevtmpfs\nnodev\tramfs\n\tpvfs\n"),
                 ("kswitch", self._kswitch))
        out += [(name, TextNode(self, 4 + i, boot, fn, root)) for i, (name, fn) in enumerate(files)]
        pids = [(p.pid, p, None) for p in k.procs.procs.values()]
        pids += [(t.tid, None, t) for t in k.kthreads if t.tid in k.sched.threads]
        return out + [(str(n), self._pid_dir(p, t, root)) for n, p, t in sorted(pids, key=lambda x: x[0])]

    def _loadavg(self, k) -> bytes:
        (a, b, c), running, total = self.load.read(k)
        return f"{a:.2f} {b:.2f} {c:.2f} {running}/{total} {k.procs.next_id - 1}\n".encode()

    def _kswitch(self, k) -> bytes:
        """pvtos's own: open times a switch between two kernel threads on the opener's hart
        (daemons.kswitch): 'NS SWITCHES' of the timed rounds."""
        elapsed, switches = kswitch(k, k.sched.mythread())
        return f"{elapsed} {switches}\n".encode()

    def _version(self, k) -> bytes:
        return f"pvtos version {k.version} (Python kernel on an emulated RV64GC machine) #1\n".encode()

    def lookup_id(self, root, name: str):
        """/proc/N for an LWP that is not a process's first: listed nowhere, found all the same."""
        t = self.k.sched.threads.get(int(name)) if name.isdigit() else None
        if t is None or t.proc is None:
            return None
        return self._pid_dir(t.proc, t, root)

    # ---- a process (p) or an LWP of it (t), or a pure kernel thread (p None) ----
    def _pid_dir(self, p, t, parent, task=False):
        """/proc/PID (t None), /proc/TID (t an LWP of p), PID/task/TID (task) or a kernel
        thread's directory (p None)."""
        ident = t.tid if t is not None else p.pid
        base = (_TID_BASE if t is not None and p is not None else _PID_BASE) + (ident << 8)
        when = self.k.boot_realtime + (p.start_time if p is not None else 0)

        def children(d):
            alive = p is None or p.pid in self.k.procs.procs
            if not alive or (p is None and t.tid not in self.k.sched.threads):
                return []
            files = (("stat", lambda k: T.stat(k, p, t)), ("status", lambda k: T.status(k, p, t)),
                     ("cmdline", lambda k: T.cmdline(p)), ("comm", lambda k: (t or p).name.encode()[:15] + b"\n"))
            out = [(name, TextNode(self, base + i, when, fn, d)) for i, (name, fn) in enumerate(files)]
            if p is None or task:
                return out
            out += [("maps", TextNode(self, base + 8, when, lambda k: T.maps(k, p), d)),
                    ("mounts", TextNode(self, base + 9, when, T.mounts, d)),
                    ("exe", LinkNode(self, base + 10, when, lambda: self._exe(p)[0], lambda: self._exe(p)[1], d)),
                    ("cwd", LinkNode(self, base + 11, when, lambda: self._cwd(p, True), lambda: self._cwd(p, False),
                                     d)),
                    ("root", LinkNode(self, base + 12, when, lambda: b"/", lambda: self.k.fsys.root, d)),
                    ("fd", DirNode(self, base + 13, when, lambda fd_dir: self._fds(p, fd_dir), d, 0o500)),
                    ("task", DirNode(self, base + 14, when, lambda task: [
                        (str(x.tid), self._pid_dir(p, x, task, True)) for x in p.threads], d))]
            return out
        return DirNode(self, base, when, children, parent)

    def _exe(self, p):
        image = T.image(p)
        if image is None:
            raise SysError(ENOENT)
        return image.path(), image.ino

    def _cwd(self, p, text: bool):
        if p.cwd is None:
            raise SysError(ENOENT)
        return self.k.fsys.path_of(p.cwd) if text else p.cwd

    def _fds(self, p, d):
        out = []
        for fd, f in enumerate(p.files):
            if f is not None:
                mode = 0o700 if f.readable and f.writable else 0o500 if f.readable else 0o300
                out.append((str(fd), LinkNode(self, _FD_BASE + (p.pid << 8) + fd, d.mtime,
                                              lambda f=f: self._fd_text(f), lambda f=f: self._fd_node(f), d, mode)))
        return out

    def _fd_text(self, f) -> bytes:
        if isinstance(f, PipeEnd):
            return f"pipe:[{f.pipe.ino}]".encode()
        if f.where is not None:
            d, name = f.where
            where = self.k.fsys.path_of(d)
            path = where.rstrip(b"/") + b"/" + name.encode("utf-8", "surrogateescape") if name else where
            gone = f.node is not None and f.node.nlink == 0
            return path + (b" (deleted)" if gone else b"")
        if f.node is not None and f.node.fs is self.k.devfs:
            name = next((n for n, x in self.k.devfs.root.entries() if x is f.node), "?")
            return b"/dev/" + name.encode()
        return b"anon_inode:[file]"

    def _fd_node(self, f):
        if isinstance(f, PipeEnd):
            return FifoNode(self, f.pipe)
        if f.node is None:
            raise SysError(ENXIO)
        return f.node
