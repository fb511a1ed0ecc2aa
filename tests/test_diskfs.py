"""diskfs on the host (tools/mkfs.HostFS runs the kernel's bio, log and diskfs against the
emulator's disk, synchronously): operations, crash recovery at every point of a commit,
corrupt images, and tools/fsck finding each kind of inconsistency."""
import shutil

import pytest

from emulator.disk import Disk
from kernel import fslayout as L
from kernel.errno import EIO, ENOSPC, ENOTEMPTY, SysError
from kernel.ramfs import DIR, FILE, LNK
from tools import fsck
from tools.mkfs import HostFS, MkfsError, make_image


class Crash(Exception):
    pass


def image(tmp_path, files=None, **kw):
    path = str(tmp_path / "fs.img")
    make_image(path, files or {"/bin/x": b"\x7fELF" + bytes(5000)}, **{"size_mib": 4, "ninodes": 64, "nlog": 64, **kw})
    return path


def clean(path):
    problems, summary = fsck.check(path)
    assert problems == [], problems
    return summary


def read_all(host, path):
    ino = host.lookup(path)
    return None if ino is None else ino.read(0, ino.size)


def test_mkfs_image_is_clean_and_holds_the_files(tmp_path):
    data = bytes(range(256)) * 300
    path = image(tmp_path, {"/bin/a": data, "/etc/deep/b": b"b"})
    assert "4 files" in clean(path)                               # and /etc/passwd, /etc/group
    host = HostFS(path)
    assert read_all(host, "/bin/a") == data and read_all(host, "/etc/deep/b") == b"b"
    assert [n for n, _ in host.fs.root.entries()] == [".", "..", "bin", "dev", "etc", "proc", "root", "tmp"]
    assert read_all(host, "/etc/passwd").startswith(b"root:x:0:0:")
    assert (host.lookup("/bin/a").mode, host.lookup("/etc/deep/b").mode, host.lookup("/tmp").mode) == \
        (0o644, 0o644, 0o1777)
    host.close()


def test_operations_keep_the_image_consistent(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    root = host.fs.root
    d = root.create("d", DIR)
    e = d.create("e", DIR)
    f = e.create("f", FILE)
    big = bytes(i % 251 for i in range((5 << 20) // 4))          # 1.25 MiB: into the indirect blocks
    assert f.write(0, big) == len(big) and f.read(0, len(big)) == big
    f.write(3 * 4096 * 1024, b"far")                             # sparse, into double indirect
    assert f.read(3 * 4096 * 1024 - 2, 10) == b"\0\0far" and f.size == 3 * 4096 * 1024 + 3
    f.truncate(5000)
    assert f.read(0, 6000) == big[:5000]
    f.truncate(9000)
    assert f.read(4990, 20) == big[4990:5000] + bytes(10)        # the tail was zeroed
    with pytest.raises(SysError) as e1:
        d.unlink("e")
    assert e1.value.errno == ENOTEMPTY
    e.rename("f", root, "g")
    root.rename("d", root.lookup("tmp"), "d2")
    assert host.lookup("/tmp/d2/e").lookup("..").ino == host.lookup("/tmp/d2").ino
    assert host.lookup("/tmp").nlink == 3 and root.nlink == 8   # bin dev etc proc root tmp: 2 + 6
    host.close()
    clean(path)
    host = HostFS(path)
    assert read_all(host, "/g")[:5000] == big[:5000] and host.lookup("/d") is None
    host.close()


def test_full_disk_and_no_inodes_give_enospc_and_stay_consistent(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    f = host.fs.root.create("fill", FILE)
    n = f.write(0, bytes(8 << 20))
    assert 0 < n < 4 << 20 and f.size == n
    with pytest.raises(SysError) as e:
        f.write(n, b"more")
    assert e.value.errno == ENOSPC
    with pytest.raises(SysError) as e:                           # a directory needs a block
        host.fs.root.create("dir", DIR)
    assert e.value.errno == ENOSPC
    host.fs.root.unlink("fill")
    made = 0
    with pytest.raises(SysError) as e:
        for made in range(100):
            host.fs.root.lookup("tmp").create(f"i{made}", FILE)
    assert e.value.errno == ENOSPC and made == 63 - 10  # inodes 1-63; / and its 6 dirs, passwd, group, x in use
    host.close()
    clean(path)


class CrashingDisk(Disk):
    """Power fails after `budget` more write requests reach the image."""
    budget = None

    def _complete(self):
        req = self.queue[0]
        if req.op == "write" and self.budget is not None:
            if self.budget == 0:
                raise Crash()
            self.budget -= 1
        super()._complete()


def test_a_crash_at_any_point_of_a_commit_leaves_all_or_nothing(tmp_path, monkeypatch):
    base = image(tmp_path)
    content = bytes(range(256)) * 80
    work = str(tmp_path / "work.img")
    monkeypatch.setattr("tools.mkfs.Disk", CrashingDisk)
    outcomes = set()
    for budget in range(40):
        shutil.copyfile(base, work)
        host = HostFS(work)
        host.disk.budget = budget
        try:
            host.fs.root.create("dir", DIR)
            host.add("/dir/file", content)
            host.close()
            finished = True
        except Crash:
            host.disk.close()
            finished = False
        problems, summary = fsck.check(work)                   # as recovery will leave it
        assert problems == [], (budget, problems)
        after = HostFS(work)                                     # mounting recovers
        got = read_all(after, "/dir/file")
        assert after.lookup("/dir") is not None or got is None
        assert got in (None, b"", content), budget               # never a torn file
        outcomes.add((after.lookup("/dir") is not None, got == content))
        after.close()
        clean(work)
        if finished:
            break
    assert finished and outcomes == {(False, False), (True, False), (True, True)}


def test_a_crash_during_link_symlink_chmod_and_unlink_keeps_a_prefix_of_them(tmp_path, monkeypatch):
    """Each metadata operation is one transaction: after a crash at any write the image is
    consistent and shows the operations up to some point, never half of one."""
    base = image(tmp_path, {"/f": b"x" * 5000})
    work = str(tmp_path / "work.img")
    monkeypatch.setattr("tools.mkfs.Disk", CrashingDisk)

    def state(host):
        f, g, s = host.lookup("/f"), host.lookup("/g"), host.lookup("/s")
        ino = g or f
        return (g is not None, s is not None and s.readlink() == b"g", ino.mode == 0o600, f is None, ino.nlink)

    done = [(False, False, False, False, 1), (True, False, False, False, 2), (True, True, False, False, 2),
            (True, True, True, False, 2), (True, True, True, True, 1)]
    seen = set()
    for budget in range(40):
        shutil.copyfile(base, work)
        host = HostFS(work)
        host.disk.budget = budget
        try:
            root = host.fs.root
            root.link("g", root.lookup("f"))
            root.create("s", LNK, 0o777, target=b"g")
            root.lookup("g").setattr(mode=0o600)
            root.unlink("f")
            host.close()
            finished = True
        except Crash:
            host.disk.close()
            finished = False
        clean(work)
        after = HostFS(work)
        got = state(after)
        after.close()
        assert got in done, (budget, got)
        seen.add(got)
        if finished:
            break
    assert finished and seen == set(done)


def test_mount_finishes_a_committed_transaction(tmp_path):
    path = image(tmp_path)
    sb = L.unpack_superblock(open(path, "rb").read(L.BSIZE))
    host = HostFS(path)
    f = host.fs.root.create("f", FILE)
    f.write(0, b"old" * 100)
    home = f.bmap(0, False)
    host.close()
    with open(path, "r+b") as img:                               # committed, not installed
        img.seek((sb.logstart + 1) * L.BSIZE)
        img.write(b"new".ljust(L.BSIZE, b"!"))
        img.seek(sb.logstart * L.BSIZE)
        img.write(L.pack_log_header([home]))
    problems, summary = fsck.check(path)
    assert problems == [] and "committed transaction of 1 blocks" in summary
    host = HostFS(path)
    assert read_all(host, "/f")[:4] == b"new!"
    host.close()
    assert L.unpack_log_header(open(path, "rb").read()[sb.logstart * L.BSIZE:][:L.BSIZE]) == []


def test_mount_frees_orphans(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    f = host.fs.root.create("f", FILE)
    f.write(0, bytes(20000))
    f.opened()
    host.fs.root.unlink("f")                                     # open: the inode stays
    host.close()                                                 # "crash" with it still open
    problems, _ = fsck.check(path)
    assert any("orphan" in p for p in problems)
    HostFS(path).close()
    clean(path)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw.__setitem__(slice(0, 4), b"XXXX"), "not a diskfs image"),
    (lambda raw: raw.__setitem__(20, raw[20] ^ 1), "checksum"),
    (lambda raw: raw.__delitem__(slice(200 * L.BSIZE, None)), "image truncated"),
])
def test_corrupt_or_truncated_images_do_not_mount(tmp_path, damage, message):
    path = image(tmp_path)
    raw = bytearray(open(path, "rb").read())
    damage(raw)
    open(path, "wb").write(raw)
    with pytest.raises(MkfsError, match=message):
        HostFS(path)
    with pytest.raises(fsck.Unreadable, match=message):
        fsck.check(path)
    assert fsck.main([path]) == 2


def _dinode(raw, sb, inum):
    return L.unpack_dinode(raw, sb.inodestart * L.BSIZE + inum * L.INODE_SIZE)


def _put_dinode(raw, sb, inum, d):
    off = sb.inodestart * L.BSIZE + inum * L.INODE_SIZE
    raw[off:off + L.INODE_SIZE] = L.pack_dinode(d)


def test_a_bad_block_pointer_is_eio_not_a_crash(tmp_path, capsys):
    path = image(tmp_path)
    raw = bytearray(open(path, "rb").read())
    sb = L.unpack_superblock(raw)
    host = HostFS(path)
    inum = host.lookup("/bin/x").ino
    host.close()
    d = _dinode(raw, sb, inum)
    _put_dinode(raw, sb, inum, d._replace(addrs=(10**6,) + d.addrs[1:]))
    open(path, "wb").write(raw)
    host = HostFS(path, report=print)
    with pytest.raises(SysError) as e:
        host.lookup("/bin/x")
    assert e.value.errno == EIO
    assert "block pointer 1000000 outside the data area" in capsys.readouterr().out
    host.close()


def test_fsck_reports_every_inconsistency(tmp_path):
    path = image(tmp_path, {"/a": b"a" * 9000, "/b": b"b" * 100, "/d/e": b"e"})
    raw = bytearray(open(path, "rb").read())
    sb = L.unpack_superblock(raw)
    host = HostFS(path)
    ia, ib, idir = host.lookup("/a").ino, host.lookup("/b").ino, host.lookup("/d").ino
    host.close()
    a, b = _dinode(raw, sb, ia), _dinode(raw, sb, ib)
    bitmap = sb.bmapstart * L.BSIZE
    leaked = sb.size - 3
    raw[bitmap + leaked // 8] |= 1 << (leaked % 8)                                 # 1 leaked block
    freed = a.addrs[1]
    raw[bitmap + freed // 8] &= ~(1 << (freed % 8)) & 0xFF                         # 2 used but free
    _put_dinode(raw, sb, ib, b._replace(nlink=3, addrs=(a.addrs[0],) + b.addrs[1:]))   # 3, 4
    _put_dinode(raw, sb, 40, L.Dinode(L.T_FILE, 0, 0, (0,) * 12))                  # 5 orphan
    _put_dinode(raw, sb, 41, L.Dinode(7, 1, 0, (0,) * 12))                         # 6 bad type
    ddata = _dinode(raw, sb, idir).addrs[0] * L.BSIZE
    raw[ddata + 64:ddata + 128] = L.pack_dirent(idir, b"..")                       # 7 bad '..'
    open(path, "wb").write(raw)
    problems, _ = fsck.check(path)
    text = "\n".join(problems)
    for want in (f"block {leaked}: marked in use, but nothing uses it", f"block {freed}: used by inode {ia}, but marked free",
                 f"used twice: by inode {ia} and by inode {ib}", f"inode {ib}: link count 3, but 1 links found",
                 "inode 40: allocated file with no links", "inode 41: unknown type 7",
                 f"directory {idir}: '..' names {idir}"):
        assert want in text, (want, problems)
    assert fsck.main([path]) == 1
