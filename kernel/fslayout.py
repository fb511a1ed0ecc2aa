"""The on-disk format of diskfs: superblock, inodes, directory entries, log header, bitmap.

Pure functions from bytes to values and back, shared by the kernel (diskfs.py, log.py),
tools/mkfs.py and tools/fsck.py. All integers are little-endian. The image is an array of
4 KiB blocks:

    [0] superblock  [1] log header  [2, 2+nlog) log  [inodestart, bmapstart) inodes
    [bmapstart, datastart) bitmap   [datastart, size) data

Bit b of the bitmap (bit b % 8 of byte b // 8, over all bitmap blocks) is set when block b
is in use; the blocks before datastart are marked in use by mkfs. Inode 0 is never used
(a directory entry with inum 0 is a free slot); inode 1 is the root directory.

Version 2 added file metadata: each inode holds its permission bits, owner, group and three
times (seconds and nanoseconds since the Unix epoch), and a symbolic link is an inode of
its own type whose data is the target. Times are signed 64-bit nanosecond counts (1677 to
2262); the kernel clamps a time outside that range to it, as Linux clamps to a file
system's limits. A version 1 image is refused at mount.
"""
import struct
import zlib
from typing import NamedTuple

BSIZE = 4096
MAGIC = 0x53465650                 # b"PVFS" read as a little-endian u32
VERSION = 2
ROOTINO = 1
T_FREE, T_DIR, T_FILE, T_SYMLINK = 0, 1, 2, 3
NDIRECT = 10                       # direct block pointers in an inode
NINDIRECT = BSIZE // 4             # pointers in an indirect block
MAXFILE_BLOCKS = NDIRECT + NINDIRECT + NINDIRECT * NINDIRECT
MAXFILE = MAXFILE_BLOCKS * BSIZE   # bytes in a file at most (about 4 GiB)
INODE_SIZE = 128
IPB = BSIZE // INODE_SIZE          # inodes per block
BPB = BSIZE * 8                    # bitmap bits per block
DIRENT_SIZE = 64
DIRSIZ = 60                        # bytes in a name at most (NUL-padded, no NUL when full)
DPB = BSIZE // DIRENT_SIZE         # directory entries per block
LOG_MAX = BSIZE // 4 - 1           # block numbers a log header can hold
MAX_BITMAP = 16                    # bitmap blocks at most: bounds the blocks one truncation dirties

_SB = struct.Struct("<10I")        # magic version size ninodes nlog logstart inodestart bmapstart datastart crc
MODE_BITS = 0o7777                 # permission bits an inode keeps (set-id and sticky included)
TIME_MIN, TIME_MAX = -(1 << 63), (1 << 63) - 1   # the times an inode can hold (ns since the epoch)
LINK_MAX = 65000                   # links to one inode at most (its nlink is a u16), as ext4
# type nlink mode pad uid gid size atime mtime ctime addrs (96 bytes; 32 spare)
_DINODE = struct.Struct(f"<HHHHIIQqqq{NDIRECT + 2}I")
_DIRENT = struct.Struct(f"<I{DIRSIZ}s")
_U32 = struct.Struct("<I")


class LayoutError(Exception):
    """A structure read from the disk is not valid: the message says what and where."""


class Superblock(NamedTuple):
    size: int                      # blocks in the file system
    ninodes: int
    nlog: int                      # log data blocks (the header block comes before them)
    logstart: int                  # block of the log header
    inodestart: int
    bmapstart: int
    datastart: int


class Dinode(NamedTuple):
    type: int
    nlink: int
    size: int
    addrs: tuple                   # NDIRECT direct, one indirect, one double indirect
    mode: int = 0                  # permission bits (MODE_BITS); the type is `type`
    uid: int = 0
    gid: int = 0
    atime: int = 0                 # nanoseconds since the Unix epoch (may be negative)
    mtime: int = 0
    ctime: int = 0


FREE_DINODE = Dinode(T_FREE, 0, 0, (0,) * (NDIRECT + 2))


def layout(size: int, ninodes: int, nlog: int) -> Superblock:
    """Where each region goes in an image of `size` blocks; LayoutError if it cannot fit."""
    if not 1 <= nlog <= LOG_MAX:
        raise LayoutError(f"log of {nlog} blocks: must be 1..{LOG_MAX}")
    if ninodes < 2:
        raise LayoutError("at least 2 inodes (inode 0 is never used)")
    inodestart = 2 + nlog
    bmapstart = inodestart + (ninodes + IPB - 1) // IPB
    nbitmap = (size + BPB - 1) // BPB
    if nbitmap > MAX_BITMAP:
        raise LayoutError(f"{size} blocks need {nbitmap} bitmap blocks, more than {MAX_BITMAP}")
    datastart = bmapstart + nbitmap
    if datastart + 2 > size:
        raise LayoutError(f"{size} blocks leave no room for data after {datastart} metadata blocks")
    return Superblock(size, ninodes, nlog, 1, inodestart, bmapstart, datastart)


def pack_superblock(sb: Superblock) -> bytes:
    fields = (MAGIC, VERSION) + tuple(sb)
    crc = zlib.crc32(_SB.pack(*fields, 0)[:-4])
    return _SB.pack(*fields, crc).ljust(BSIZE, b"\0")


def unpack_superblock(raw: bytes) -> Superblock:
    """Decode and check block 0; LayoutError says what is wrong."""
    if len(raw) < _SB.size:
        raise LayoutError("image too small for a superblock")
    magic, version, *fields, crc = _SB.unpack_from(raw)
    if magic != MAGIC:
        raise LayoutError(f"not a diskfs image (magic {magic:#010x}, expected {MAGIC:#010x})")
    if version != VERSION:
        old = " (made before inodes kept modes, owners, times and links: make a new image with " \
              "python -m tools.mkfs)" if version < VERSION else ""
        raise LayoutError(f"diskfs version {version}, this kernel reads version {VERSION}{old}")
    if zlib.crc32(raw[:_SB.size - 4]) != crc:
        raise LayoutError("superblock checksum mismatch (corrupt superblock)")
    sb = Superblock(*fields)
    try:
        want = layout(sb.size, sb.ninodes, sb.nlog)
    except LayoutError as e:
        raise LayoutError(f"superblock describes an impossible layout: {e}") from None
    if want != sb:
        raise LayoutError("superblock regions are not where the layout puts them")
    return sb


def pack_dinode(d: Dinode) -> bytes:
    return _DINODE.pack(d.type, d.nlink, d.mode, 0, d.uid, d.gid, d.size, d.atime, d.mtime, d.ctime,
                        *d.addrs).ljust(INODE_SIZE, b"\0")


def unpack_dinode(raw: bytes, off: int = 0) -> Dinode:
    t, nlink, mode, _pad, uid, gid, size, atime, mtime, ctime, *addrs = _DINODE.unpack_from(raw, off)
    return Dinode(t, nlink, size, tuple(addrs), mode, uid, gid, atime, mtime, ctime)


def clamp_time(ns: int) -> int:
    return min(max(ns, TIME_MIN), TIME_MAX)


def inode_block(sb: Superblock, inum: int) -> int:
    return sb.inodestart + inum // IPB


def inode_offset(inum: int) -> int:
    return (inum % IPB) * INODE_SIZE


def pack_dirent(inum: int, name: bytes) -> bytes:
    if not 0 < len(name) <= DIRSIZ or b"/" in name or b"\0" in name:
        raise LayoutError(f"bad directory entry name {name!r}")
    return _DIRENT.pack(inum, name)


def unpack_dirents(raw: bytes):
    """(slot, inum, name) for every entry of a directory block, free slots included."""
    for slot, (inum, name) in enumerate(_DIRENT.iter_unpack(raw)):
        yield slot, inum, name.split(b"\0", 1)[0]


EMPTY_DIRENT = bytes(DIRENT_SIZE)


def pack_log_header(blocks) -> bytes:
    if len(blocks) > LOG_MAX:
        raise LayoutError(f"log header cannot hold {len(blocks)} blocks")
    return struct.pack(f"<I{len(blocks)}I", len(blocks), *blocks).ljust(BSIZE, b"\0")


def unpack_log_header(raw: bytes) -> list:
    (n,) = _U32.unpack_from(raw)
    if n > LOG_MAX:
        raise LayoutError(f"log header claims {n} blocks (at most {LOG_MAX})")
    return list(struct.unpack_from(f"<{n}I", raw, 4))


def unpack_addrs(raw: bytes) -> tuple:
    """The NINDIRECT block pointers of an indirect block."""
    return struct.unpack_from(f"<{NINDIRECT}I", raw)


def set_addr(raw: bytearray, i: int, addr: int) -> None:
    _U32.pack_into(raw, 4 * i, addr)


def get_addr(raw, i: int) -> int:
    return _U32.unpack_from(raw, 4 * i)[0]


def bit(bitmap_block, b: int) -> bool:
    """Bit of block b within its bitmap block."""
    i = b % BPB
    return bool(bitmap_block[i // 8] >> (i % 8) & 1)


def set_bit(bitmap_block: bytearray, b: int, on: bool) -> None:
    i = b % BPB
    if on:
        bitmap_block[i // 8] |= 1 << (i % 8)
    else:
        bitmap_block[i // 8] &= ~(1 << (i % 8)) & 0xFF
