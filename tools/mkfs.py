"""python -m tools.mkfs [--size MIB] [--inodes N] [--log BLOCKS] IMAGE [FILE[=PATH]]...

Create a diskfs image (docs/fs.md): a file system with what every root holds (/bin, /dev,
/etc with passwd and group, /proc, /root, /tmp: kernel/fs.py), then each host FILE copied
to PATH (default /bin/<basename of FILE>) with the host file's permission bits. Every inode
is owned by root and dated at the kernel's boot time (2026-01-01), so an image is the
same whenever it is made. Files go in through the
kernel's own buffer cache, log and diskfs, driving the emulator's disk synchronously, so
the image holds exactly what the kernel would have written. The image is built beside
IMAGE and renamed over it at the end: a failed mkfs leaves no half image. Errors are one
line on stderr and exit status 2.

From Python: make_image(path, files, ...) where files maps PATH -> bytes (mode 0755 for a
program, ELF or #!, else 0644) or -> (bytes, mode); HostFS(path) opens an existing image
(lookup, add, close).
"""
import argparse
import os
import sys

from emulator.disk import Disk
from kernel import params
from kernel.bio import BufCache
from kernel.diskfs import MountError, mount
from kernel.errno import SysError
from kernel.fs import ROOT_DIRS, ROOT_FILES
from kernel.fslayout import (BSIZE, DIRENT_SIZE, INODE_SIZE, NDIRECT, ROOTINO, T_DIR, Dinode, LayoutError,
                             inode_block, inode_offset, layout, pack_dinode, pack_dirent, pack_superblock)
from kernel.panic import KernelPanic
from kernel.ramfs import DIR, FILE
from kernel.sysproc import NS, REALTIME_EPOCH

BOOT_TIME = REALTIME_EPOCH * NS         # every inode mkfs makes is dated at the kernel's boot time

DEFAULT_MIB = 128
DEFAULT_INODES = 1024


class MkfsError(Exception):
    pass


class _NoSched:
    """The host has one thread of control: nothing ever waits."""
    cur = None

    def sleep(self, chan, interruptible=True):
        raise KernelPanic("a host-side disk operation had to wait")

    def wakeup(self, chan, n=None):
        return 0

    def now(self) -> int:
        return 0


class _ImmediateClock:
    """The host disk completes each request as soon as it is submitted."""
    now = 0

    def at(self, time, fn):
        fn()


class _Hart:
    time = 0


class _Machine:
    def __init__(self):
        self.harts = [_Hart()]
        self.clock = _ImmediateClock()


class _NoCost:
    """A cost table that charges nothing (the host has no virtual time to charge)."""

    def __getattr__(self, entry):
        return 1 if entry == "BYTE_COPY_DIV" else 0


class HostKernel:
    """Just enough of kernel.main.Kernel for bio, log and diskfs to run on the host."""
    events = None
    cost = _NoCost()

    def __init__(self, report):
        self.sched = _NoSched()
        self.machine = _Machine()
        self.report = report

    def charge(self, cycles: int) -> None:
        pass

    def log(self, msg: str) -> None:
        self.report(msg)

    def realtime(self) -> int:
        return BOOT_TIME


def _stderr(msg: str) -> None:
    print(f"mkfs: {msg}", file=sys.stderr)


class HostFS:
    """A diskfs image opened on the host. Raises MkfsError (one line) when unusable."""

    def __init__(self, path: str, report=_stderr):
        try:
            self.disk = Disk(path)
        except OSError as e:
            raise MkfsError(f"cannot open {path}: {e.strerror}") from None
        self.k = HostKernel(report)
        self.disk.clock = self.k.machine.clock
        self.bio = BufCache(self.k, self.disk)
        try:
            self.fs = mount(self.k, self.bio)
        except MountError as e:
            self.disk.close()
            raise MkfsError(f"{path}: {e}") from None

    def lookup(self, path: str):
        """The inode at absolute path, or None."""
        ino = self.fs.root
        for name in [x for x in path.split("/") if x]:
            if ino.kind != DIR:
                return None
            ino = ino.lookup(name)
            if ino is None:
                return None
        return ino

    def add(self, path: str, data: bytes, mode: int = None) -> None:
        """Create or replace the file at absolute path (making its directories); mode by
        default 0755 for a program (ELF or #!), else 0644."""
        if mode is None:
            mode = 0o755 if data[:4] == b"\x7fELF" or data[:2] == b"#!" else 0o644
        parts = [x for x in path.split("/") if x]
        if not path.startswith("/") or not parts:
            raise MkfsError(f"{path}: not an absolute file path")
        try:
            d = self.fs.root
            for name in parts[:-1]:
                d = d.lookup(name) or d.create(name, DIR)
                if d.kind != DIR:
                    raise MkfsError(f"{path}: {name} is not a directory")
            f = d.lookup(parts[-1]) or d.create(parts[-1], FILE, mode)
            if f.kind != FILE:
                raise MkfsError(f"{path}: is a directory")
            f.truncate(0)
            if f.mode != mode:
                f.setattr(mode=mode)
            if f.write(0, data) != len(data):
                raise MkfsError(f"{path}: the image is full")
        except SysError as e:
            raise MkfsError(f"{path}: {os.strerror(e.errno)}") from None

    def close(self) -> None:
        self.fs.log.force()
        self.disk.close()


def format_image(path: str, size_blocks: int, ninodes: int, nlog: int) -> None:
    """Write an empty file system (root directory only) to path."""
    sb = layout(size_blocks, ninodes, nlog)
    root_block = sb.datastart
    with open(path, "wb") as f:
        f.truncate(size_blocks * BSIZE)
        f.write(pack_superblock(sb))
        inodes = bytearray(BSIZE)
        off = inode_offset(ROOTINO)
        addrs = (root_block,) + (0,) * (NDIRECT + 1)
        inodes[off:off + INODE_SIZE] = pack_dinode(Dinode(T_DIR, 2, 2 * DIRENT_SIZE, addrs, 0o755, 0, 0,
                                                          BOOT_TIME, BOOT_TIME, BOOT_TIME))
        f.seek(inode_block(sb, ROOTINO) * BSIZE)
        f.write(inodes)
        bitmap = bytearray(BSIZE * (sb.datastart - sb.bmapstart))
        for b in range(root_block + 1):              # metadata and the root's block are in use
            bitmap[b // 8] |= 1 << (b % 8)
        f.seek(sb.bmapstart * BSIZE)
        f.write(bitmap)
        f.seek(root_block * BSIZE)
        f.write(pack_dirent(ROOTINO, b".") + pack_dirent(ROOTINO, b".."))


def make_image(path: str, files: dict, size_mib: int = DEFAULT_MIB, ninodes: int = DEFAULT_INODES,
               nlog: int = params.LOGSIZE) -> None:
    """Create the image at path with what every root holds and files (absolute path ->
    bytes, or -> (bytes, mode))."""
    if not 1 <= size_mib <= 2048:
        raise MkfsError("--size must be 1..2048 MiB")
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        format_image(tmp, size_mib * (1 << 20) // BSIZE, ninodes, nlog)
        host = HostFS(tmp)
        try:
            for d, mode in ROOT_DIRS:
                host.fs.root.create(d, DIR, mode)
            for dest, data in sorted({**ROOT_FILES, **files}.items()):
                host.add(dest, *(data if isinstance(data, tuple) else (data,)))
        finally:
            host.close()
        os.replace(tmp, path)
    except LayoutError as e:
        raise MkfsError(str(e)) from None
    except OSError as e:
        raise MkfsError(f"{path}: {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.mkfs", description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=DEFAULT_MIB, help=f"image size in MiB (default {DEFAULT_MIB})")
    ap.add_argument("--inodes", type=int, default=DEFAULT_INODES, help=f"inodes (default {DEFAULT_INODES})")
    ap.add_argument("--log", type=int, default=params.LOGSIZE, help=f"log blocks (default {params.LOGSIZE})")
    ap.add_argument("image")
    ap.add_argument("files", nargs="*", help="host files, FILE or FILE=/path/in/image")
    opts = ap.parse_args(argv)
    try:
        files = {}
        for spec in opts.files:
            src, _, dest = spec.partition("=")
            dest = dest or "/bin/" + os.path.basename(src)
            try:
                with open(src, "rb") as f:
                    files[dest] = (f.read(), os.stat(f.fileno()).st_mode & 0o7777)
            except OSError as e:
                raise MkfsError(f"cannot read {src}: {e.strerror}") from None
        make_image(opts.image, files, opts.size, opts.inodes, opts.log)
    except MkfsError as e:
        print(f"mkfs: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
