"""The device files of /dev, an in-memory file system (devtmpfs) mounted over /dev.

  console (5,1), tty (5,0)   the console terminal (tty.py); every process's controlling
                             terminal, so /dev/tty is the console too
  null (1,3)                 reads end of file, writes vanish
  zero (1,5)                 reads zeros, writes vanish
  full (1,7)                 reads zeros, writes fail with ENOSPC
  random (1,8), urandom (1,9)  bytes from the kernel's seeded generator: deterministic, the
                             same seed gives the same bytes (not for keys); writes are
                             accepted and discarded (Linux mixes them into its pool)
  stdin, stdout, stderr, fd  symbolic links to /proc/self/fd/0, 1, 2 and /proc/self/fd

The numbers are Linux's (major, minor), as st_rdev shows them. The memory devices seek to
0 and take pread/pwrite, as Linux's.
"""
from .errno import ENOSPC, SysError
from .file import File
from .fs import inode_stat
from .ramfs import DEV, LNK, RamFS
from .tty import ConsoleFile

DEVTMPFS_DEV = 6                      # st_dev of /dev's files (an anonymous device, 0:6)


def rdev(major: int, minor: int) -> int:
    """Linux's new_encode_dev."""
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


class TtyFile(ConsoleFile):
    """/dev/console or /dev/tty opened by name: the console, with its device node's stat."""

    def __init__(self, kernel, flags, node):
        super().__init__(kernel, flags)
        self.node = node

    def stat(self) -> dict:
        return inode_stat(self.node)


class MemFile(File):
    """An open memory device (null, zero, full, random, urandom)."""
    readable = writable = True
    seekable = True

    def __init__(self, kernel, flags, node):
        super().__init__(kernel, flags)
        self.node = node

    def read(self, n: int) -> bytes:
        return bytes(n)

    def write(self, data: bytes) -> int:
        return len(data)

    def pread(self, n: int, off: int) -> bytes:
        return self.read(n)

    def pwrite(self, data: bytes, off: int) -> int:
        return self.write(data)

    def lseek(self, off: int, whence: int) -> int:
        return 0

    def stat(self) -> dict:
        return inode_stat(self.node)


class NullFile(MemFile):
    def read(self, n: int) -> bytes:
        return b""


class FullFile(MemFile):
    def write(self, data: bytes) -> int:
        raise SysError(ENOSPC)


class RandomFile(MemFile):
    def read(self, n: int) -> bytes:
        return self.k.random_bytes(n)


# name, permission bits, (major, minor), open file class
DEVICES = (("console", 0o600, (5, 1), TtyFile), ("tty", 0o666, (5, 0), TtyFile),
           ("null", 0o666, (1, 3), NullFile), ("zero", 0o666, (1, 5), MemFile),
           ("full", 0o666, (1, 7), FullFile), ("random", 0o666, (1, 8), RandomFile),
           ("urandom", 0o666, (1, 9), RandomFile))
LINKS = (("fd", b"/proc/self/fd"), ("stdin", b"/proc/self/fd/0"), ("stdout", b"/proc/self/fd/1"),
         ("stderr", b"/proc/self/fd/2"))


def _opener(cls, node):
    return lambda k, flags: cls(k, flags, node)


def make_devfs(kernel) -> RamFS:
    fs = RamFS(kernel.realtime, "devtmpfs", DEVTMPFS_DEV, kernel.machine.mem.size // 8192)
    root = fs.root
    for name, mode, (major, minor), cls in DEVICES:
        node = root.create(name, DEV, mode, rdev=rdev(major, minor))
        node.opener = _opener(cls, node)
    for name, target in LINKS:
        root.create(name, LNK, 0o777, target=target)
    return fs


def open_console(kernel, flags: int) -> TtyFile:
    """The console as init's fds 0-2, as if /dev/console were opened."""
    return TtyFile(kernel, flags, kernel.devfs.root.lookup("console"))
