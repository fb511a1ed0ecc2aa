"""File metadata on the disk (format version 2): modes, owners, times, symbolic and hard
links kept by diskfs, checked by fsck and refused in an old image; atime's relatime and
lazytime rules; and end to end, a static musl program whose changes persist across boots."""
import shutil
import zlib

import pytest

from emulator.console import Console
from emulator.disk import Disk
from emulator.machine import Machine
from kernel import fslayout as L
from kernel.errno import EEXIST, EMLINK, ENOENT, SysError
from kernel.main import Kernel
from kernel.ramfs import DAY, DIR, FILE, LNK
from tools import fsck
from tools import run as trun
from tools.cc import build
from tools.mkfs import BOOT_TIME, HostFS, make_image
from tools.run import simulate


def image(tmp_path, files=None):
    path = str(tmp_path / "fs.img")
    make_image(path, files or {"/bin/x": b"\x7fELF" + bytes(100)}, size_mib=4, ninodes=64, nlog=64)
    return path


def dinode(path, inum):
    raw = open(path, "rb").read()
    sb = L.unpack_superblock(raw)
    return L.unpack_dinode(raw, L.inode_block(sb, inum) * L.BSIZE + L.inode_offset(inum))


def clean(path):
    problems, summary = fsck.check(path)
    assert problems == [], problems
    return summary


def test_mkfs_gives_every_inode_root_a_mode_and_the_boot_time(tmp_path):
    path = image(tmp_path, {"/bin/prog": b"\x7fELF" + bytes(10), "/data": (b"d", 0o600), "/s.sh": b"#!/bin/sh\n"})
    host = HostFS(path)
    modes = {p: host.lookup(p).mode for p in ("/", "/bin/prog", "/data", "/s.sh", "/etc/passwd", "/root", "/tmp")}
    assert modes == {"/": 0o755, "/bin/prog": 0o755, "/data": 0o600, "/s.sh": 0o755, "/etc/passwd": 0o644,
                     "/root": 0o700, "/tmp": 0o1777}
    ino = host.lookup("/data")
    assert (ino.uid, ino.gid, ino.atime, ino.mtime, ino.ctime) == (0, 0, BOOT_TIME, BOOT_TIME, BOOT_TIME)
    host.close()
    assert dinode(path, ino.ino).mode == 0o600
    clean(path)


def test_links_symlinks_and_attributes_persist_and_fsck_counts_them(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    root = host.fs.root
    f = root.create("f", FILE, 0o640, 7, 8)
    f.write(0, b"data")
    root.link("g", f)
    root.lookup("tmp").link("h", f)
    with pytest.raises(SysError) as e:
        root.link("g", f)
    assert e.value.errno == EEXIST
    s = root.create("s", LNK, 0o777, target=b"tmp/h")
    f.setattr(mode=0o4711, uid=1, gid=2, atime=-5, mtime=10**18)
    root.unlink("f")
    host.close()
    assert "1 symlinks" in clean(path)
    d = dinode(path, f.ino)
    assert (d.type, d.nlink, d.mode, d.uid, d.gid, d.atime, d.mtime) == (L.T_FILE, 2, 0o4711, 1, 2, -5, 10**18)
    host = HostFS(path)
    assert host.lookup("/s").readlink() == b"tmp/h" and host.lookup("/s").kind == LNK
    assert host.lookup("/tmp/h").read(0, 10) == b"data" and host.lookup("/g").ino == f.ino
    host.fs.root.unlink("g")
    host.fs.root.lookup("tmp").unlink("h")             # the last name: the inode is freed
    host.fs.root.unlink("s")
    host.close()
    assert dinode(path, f.ino) == L.FREE_DINODE and dinode(path, s.ino) == L.FREE_DINODE
    clean(path)


def test_link_of_a_removed_file_and_too_many_links(tmp_path, monkeypatch):
    path = image(tmp_path)
    host = HostFS(path)
    root = host.fs.root
    f = root.create("f", FILE)
    f.opened()
    root.unlink("f")
    with pytest.raises(SysError) as e:
        root.link("back", f)                           # as Linux: no new name for a removed file
    assert e.value.errno == ENOENT
    f.closed(False)
    g = root.create("g", FILE)
    monkeypatch.setattr("kernel.inode.LINK_MAX", 3)
    root.link("g2", g)
    root.link("g3", g)
    with pytest.raises(SysError) as e:
        root.link("g4", g)
    assert e.value.errno == EMLINK
    host.close()
    clean(path)


def test_fsck_reports_bad_modes_and_bad_symlinks(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    s = host.fs.root.create("s", LNK, 0o777, target=b"x")
    x = host.lookup("/bin/x").ino
    host.close()
    raw = bytearray(open(path, "rb").read())
    sb = L.unpack_superblock(raw)

    def put(inum, d):
        off = L.inode_block(sb, inum) * L.BSIZE + L.inode_offset(inum)
        raw[off:off + L.INODE_SIZE] = L.pack_dinode(d)
    put(x, dinode(path, x)._replace(mode=0o170755))
    put(s.ino, dinode(path, s.ino)._replace(size=0))
    open(path, "wb").write(raw)
    text = "\n".join(fsck.check(path)[0])
    assert f"inode {x}: mode 0o170755 has bits beyond the permission bits" in text
    assert f"inode {s.ino}: symlink of 0 bytes" in text


def test_atime_follows_relatime_and_reaches_the_disk_lazily(tmp_path):
    path = image(tmp_path)
    host = HostFS(path)
    clock = [BOOT_TIME + DAY]
    host.k.realtime = lambda: clock[0]
    f = host.fs.root.create("f", FILE)
    f.write(0, b"x")
    clock[0] += 10
    f.read(0, 1)
    assert f.atime == clock[0] and f.lazy              # atime not after mtime: the read sets it
    read_at = clock[0]
    clock[0] += 10
    f.read(0, 1)
    assert f.atime == read_at                          # after mtime and ctime, under a day: kept
    clock[0] += DAY
    f.read(0, 1)
    assert f.atime == clock[0]                         # a day old: set again
    host.fs.log.force()
    assert dinode(path, f.ino).atime != f.atime         # lazytime: in memory only
    f.fsync()
    assert dinode(path, f.ino).atime == f.atime and not f.lazy
    host.close()
    clean(path)


def _version_one(path):
    with open(path, "r+b") as img:
        raw = bytearray(img.read(L.BSIZE))
        raw[4:8] = (1).to_bytes(4, "little")
        raw[36:40] = zlib.crc32(bytes(raw[:36])).to_bytes(4, "little")
        img.seek(0)
        img.write(raw)


def test_an_old_format_image_is_refused_by_the_kernel_and_tools_run(base_image, tmp_path, capsys):
    path = str(tmp_path / "old.img")
    shutil.copyfile(base_image, path)
    _version_one(path)
    m = Machine(cpus=1, console=Console(), disk=Disk(path))
    log = []
    k = Kernel(m, {}, log_sink=log.append)
    k.boot(["/bin/init"])
    assert m.run(k) == 2
    lines = [line for line in "".join(log).splitlines() if "disk" in line]
    assert len(lines) == 1 and "cannot mount" in lines[0] and "diskfs version 1, this kernel reads version 2" \
        in lines[0] and "tools.mkfs" in lines[0]
    assert trun.main(["--disk", path, "hello"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("tools.run: ") and "diskfs version 1" in err[0]
    assert fsck.main([path]) == 2


PERSIST = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    struct stat st;
    char t[64] = {0};
    if (argc > 1 && strcmp(argv[1], "make") == 0) {
        mkdir("/keep", 0700);
        int fd = open("/keep/f", O_CREAT | O_WRONLY, 0640);
        write(fd, "abc", 3);
        close(fd);
        link("/keep/f", "/keep/g");
        symlink("f", "/keep/s");
        struct timespec ts[2] = {{1000, 5}, {2000, 6}};
        utimensat(AT_FDCWD, "/keep/f", ts, 0);
        chown("/keep/g", 42, 43);
        return 0;
    }
    stat("/keep/f", &st);
    printf("mode %o nlink %ld owner %d:%d atime %ld.%ld mtime %ld.%ld\n", st.st_mode & 07777,
           (long)st.st_nlink, st.st_uid, st.st_gid, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    printf("readlink %zd %s\n", readlink("/keep/s", t, sizeof t), t);
    stat("/keep", &st);
    printf("dir mode %o\n", st.st_mode & 07777);
    return 0;
}
"""


def test_metadata_made_by_a_program_persists_across_boots(base_image, tmp_path):
    src = tmp_path / "persist.c"
    src.write_text(PERSIST)
    prog = str(tmp_path / "persist")
    build([str(src)], prog, ["--musl"])
    path = str(tmp_path / "fs.img")
    shutil.copyfile(base_image, path)
    assert simulate(prog, ["make"], disk=path, cpus=1).status == 0
    r = simulate(prog, ["check"], disk=path, cpus=1)
    assert r.output == "mode 640 nlink 2 owner 42:43 atime 1000.5 mtime 2000.6\nreadlink 1 f\ndir mode 700\n", r.log
    clean(path)


def test_the_in_memory_root_has_etc_and_device_nodes(userland):
    k = simulate("hello", cpus=1).kernel
    root = k.fsys.root
    assert root.lookup("etc").lookup("passwd").data.startswith(b"root:x:0:0:")
    assert k.fsys.namei(b"/dev/null", None).rdev == 0x103 and k.fsys.namei(b"/proc/self", None,
                                                                           follow=False).kind == LNK
    assert [(p.decode(), r.fs.fstype) for p, r in k.fsys.mount_table()] == [
        ("/", "rootfs"), ("/dev", "devtmpfs"), ("/proc", "proc")]
    assert root.lookup("tmp").kind == DIR and root.lookup("tmp").mode == 0o1777
