"""Unit tests of the on-disk structures (kernel/fslayout.py) and of the disk device."""
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.clock import Clock
from emulator.disk import BLOCK, ERROR, OK, READ, WRITE, Disk
from kernel import fslayout as L
from kernel.diskfs import _find_zero

names = st.binary(min_size=1, max_size=L.DIRSIZ).filter(lambda b: b"/" not in b and b"\0" not in b)
u32 = st.integers(0, 2**32 - 1)


def test_sizes_match_the_documented_format():
    assert L.BSIZE == 4096 and L.INODE_SIZE == 128 and L.IPB == 32
    assert L.DIRENT_SIZE == 64 and L.DPB == 64 and L.DIRSIZ == 60
    assert len(L.pack_dinode(L.FREE_DINODE)) == L.INODE_SIZE
    assert len(L.pack_superblock(L.layout(8192, 1024, 256))) == L.BSIZE
    assert L.MAXFILE >= 4 << 20                                   # the minimum
    assert L.MAXFILE == (10 + 1024 + 1024 * 1024) * 4096


times = st.integers(L.TIME_MIN, L.TIME_MAX)


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 2**64 - 1),
       st.lists(u32, min_size=L.NDIRECT + 2, max_size=L.NDIRECT + 2), st.integers(0, L.MODE_BITS), u32, u32,
       times, times, times)
def test_dinode_round_trips(t, nlink, size, addrs, mode, uid, gid, atime, mtime, ctime):
    d = L.Dinode(t, nlink, size, tuple(addrs), mode, uid, gid, atime, mtime, ctime)
    raw = bytes(L.INODE_SIZE) + L.pack_dinode(d)
    assert len(raw) == 2 * L.INODE_SIZE and L.unpack_dinode(raw, L.INODE_SIZE) == d


def test_times_outside_an_inode_s_range_are_clamped():
    assert L.clamp_time(L.TIME_MAX + 1) == L.TIME_MAX and L.clamp_time(-(10**30)) == L.TIME_MIN
    assert L.clamp_time(1_234_567_890_000_000_500) == 1_234_567_890_000_000_500


@given(u32, names)
def test_dirent_round_trips(inum, name):
    ((slot, i, n),) = list(L.unpack_dirents(L.pack_dirent(inum, name)))
    assert (slot, i, n) == (0, inum, name)


@pytest.mark.parametrize("bad", [b"", b"a/b", b"a\0b", b"x" * 61])
def test_dirent_rejects_bad_names(bad):
    with pytest.raises(L.LayoutError):
        L.pack_dirent(5, bad)


@given(st.lists(u32, max_size=L.LOG_MAX))
@settings(max_examples=30)
def test_log_header_round_trips(blocks):
    raw = L.pack_log_header(blocks)
    assert len(raw) == L.BSIZE and L.unpack_log_header(raw) == blocks


def test_log_header_limits():
    with pytest.raises(L.LayoutError):
        L.pack_log_header([1] * (L.LOG_MAX + 1))
    raw = bytearray(L.pack_log_header([]))
    raw[0:4] = (L.LOG_MAX + 1).to_bytes(4, "little")
    with pytest.raises(L.LayoutError, match="claims"):
        L.unpack_log_header(raw)


@given(st.integers(300, 16 * L.BPB), st.integers(2, 5000), st.integers(1, L.LOG_MAX))
def test_layout_regions_are_ordered_and_round_trip(size, ninodes, nlog):
    try:
        sb = L.layout(size, ninodes, nlog)
    except L.LayoutError:
        return
    assert sb.logstart == 1 < sb.inodestart == 2 + nlog < sb.bmapstart < sb.datastart < sb.size
    assert (sb.bmapstart - sb.inodestart) * L.IPB >= ninodes
    assert (sb.datastart - sb.bmapstart) * L.BPB >= size
    assert L.unpack_superblock(L.pack_superblock(sb)) == sb


def test_an_image_of_the_old_format_is_refused_with_one_clear_line():
    raw = bytearray(L.pack_superblock(L.layout(8192, 1024, 256)))
    raw[4:8] = (1).to_bytes(4, "little")                   # version 1: inodes without metadata
    raw[36:40] = zlib.crc32(bytes(raw[:36])).to_bytes(4, "little")
    with pytest.raises(L.LayoutError) as e:
        L.unpack_superblock(bytes(raw))
    msg = str(e.value)
    assert msg.startswith("diskfs version 1, this kernel reads version 2") and "tools.mkfs" in msg
    assert "\n" not in msg


def test_superblock_damage_is_detected():
    raw = bytearray(L.pack_superblock(L.layout(8192, 1024, 256)))
    for off, what in ((0, "not a diskfs"), (4, "version"), (12, "checksum")):
        bad = bytearray(raw)
        bad[off] ^= 0x40
        with pytest.raises(L.LayoutError, match=what):
            L.unpack_superblock(bytes(bad))
    with pytest.raises(L.LayoutError, match="too small"):
        L.unpack_superblock(b"\0" * 10)


def test_layout_rejects_impossible_sizes():
    with pytest.raises(L.LayoutError):
        L.layout(100, 1024, 256)                                 # no room for data
    with pytest.raises(L.LayoutError):
        L.layout(17 * L.BPB, 64, 8)                              # more than MAX_BITMAP
    with pytest.raises(L.LayoutError):
        L.layout(8192, 64, 0)


@given(st.sets(st.integers(0, L.BPB - 1), max_size=200), st.integers(0, L.BPB - 1), st.integers(0, L.BPB))
def test_bitmap_bits_and_first_clear(used, lo, hi):
    block = bytearray(L.BSIZE)
    for b in used:
        L.set_bit(block, b, True)
    assert all(L.bit(block, b) for b in used)
    want = next((b for b in range(lo, hi) if b not in used), None)
    assert _find_zero(block, lo, hi) == want


def test_find_zero_in_a_full_block():
    block = bytearray(b"\xff" * L.BSIZE)
    assert _find_zero(block, 0, L.BPB) is None
    L.set_bit(block, 30000, False)
    assert _find_zero(block, 3, L.BPB) == 30000


# ---- the device ----
def _disk(tmp_path, nblocks=8, **kw):
    path = tmp_path / "d.img"
    path.write_bytes(b"".join(bytes([i]) * BLOCK for i in range(nblocks)) + b"tail")
    d = Disk(str(path), **kw)
    d.clock = Clock()
    done = []
    d.on_complete = done.append
    return d, done, path


def _run_clock(d):
    while (t := d.clock.next_time()) is not None:
        d.clock.now = t
        for ev in d.clock.pop_due(t):
            ev.fn()


def test_disk_serves_requests_in_fifo_order_in_virtual_time(tmp_path):
    d, done, _ = _disk(tmp_path, latency_ns=100_000, block_ns=10_000)
    assert d.nblocks == 8                                        # the partial tail is not a block
    a = d.submit(READ, 2, 1, now=1000)
    b = d.submit(READ, 3, 3, now=2000)
    _run_clock(d)
    assert done == [a, b] and a.status == b.status == OK
    assert a.done_at == 1000 + 110_000
    assert b.started == a.done_at and b.done_at == a.done_at + 130_000
    assert a.data == bytes([2]) * BLOCK and b.data == bytes([3]) * BLOCK + bytes([4]) * BLOCK + bytes([5]) * BLOCK


def test_disk_write_lands_only_at_completion(tmp_path):
    d, done, path = _disk(tmp_path)
    d.submit(WRITE, 1, 1, b"w" * BLOCK, now=0)
    assert path.read_bytes()[BLOCK:2 * BLOCK] == bytes([1]) * BLOCK
    _run_clock(d)
    assert path.read_bytes()[BLOCK:2 * BLOCK] == b"w" * BLOCK and done[0].status == OK


@pytest.mark.parametrize("req", [(READ, 8, 1, None), (READ, 7, 2, None), (READ, -1, 1, None),
                                 (WRITE, 7, 2, b"x" * 2 * BLOCK), (WRITE, 0, 1, b"short"),
                                 (READ, 0, 0, None), ("erase", 0, 1, None)])
def test_disk_rejects_requests_outside_the_image(tmp_path, req):
    d, done, path = _disk(tmp_path)
    before = path.read_bytes()
    d.submit(*req, now=0)
    _run_clock(d)
    assert done[0].status == ERROR and done[0].data is None
    assert path.read_bytes() == before and os.path.getsize(path) == 8 * BLOCK + 4


def test_readonly_disk_rejects_writes(tmp_path):
    d, done, path = _disk(tmp_path, readonly=True)
    d.submit(WRITE, 0, 1, b"z" * BLOCK, now=0)
    d.submit(READ, 0, 1, now=0)
    _run_clock(d)
    assert [r.status for r in done] == [ERROR, OK]
