"""exec maps a program page by page from its file: a program larger than the buffer cache
runs, only what it touches is read, a bad file fails exec with the caller still running, and
a running executable's file stays as it was (ETXTBSY, unlinking). On a disk image of their
own; every test ends with tools/fsck finding it consistent."""
import io
import os
import re

import pytest
from elftools.elf.elffile import ELFFile

from kernel import params
from kernel.bio import BufCache
from kernel.elf import load_image
from kernel.errno import ENOMEM, SysError
from tests.conftest import ROOT
from tools import fsck
from tools.mkfs import HostFS, make_image
from tools.run import simulate

BIG_PAGES = (0, 1, 2, 3, 100, 1000, 2000, 3071, 5)   # bigexec.c's idx[]


@pytest.fixture(scope="module")
def progs(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("exec")
    return {name: build([os.path.join(ROOT, "tests", "guest", name + ".c")], str(d / name))
            for name in ("bigexec", "execbad")}


@pytest.fixture
def disk(tmp_path, userland, progs):
    """An image with init, sh, the test programs, a garbage file and a truncated ELF."""
    hello = userland["/bin/hello"]
    files = {p: userland[p] for p in ("/bin/init", "/bin/sh", "/bin/hello")}
    for name, path in progs.items():
        with open(path, "rb") as f:
            files[f"/bin/{name}"] = f.read()
    files["/tmp/garbage"] = (bytes(range(256)) * 64, 0o755)
    files["/tmp/elfjunk"] = b"\x7fELF" + bytes(range(256)) * 8
    files["/tmp/noexec"] = (hello, 0o644)                        # a program without an x bit
    text = next(s for s in ELFFile(io.BytesIO(hello)).iter_segments() if s["p_type"] == "PT_LOAD")
    files["/tmp/truncated"] = hello[:text["p_offset"] + text["p_filesz"] // 2]   # ends inside its text
    path = str(tmp_path / "exec.img")
    make_image(path, files, size_mib=64)
    yield path
    problems, _ = fsck.check(path)
    assert problems == [], problems


def _big_sum(path: str) -> int:
    """What bigexec prints: the bytes of its .rodata array at the pages it reads."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        big = elf.get_section_by_name(".symtab").get_symbol_by_name("big")[0]["st_value"]
        seg = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"
                   and s["p_vaddr"] <= big < s["p_vaddr"] + s["p_filesz"])
        total = 0
        for i in BIG_PAGES:
            f.seek(seg["p_offset"] + big - seg["p_vaddr"] + i * 4096)
            total += f.read(1)[0]
        return total


def test_program_larger_than_the_buffer_cache_runs(disk, progs):
    """24 MB (12 MiB of .rodata, 10 MiB never loaded): exec used to read it whole and panic
    ("bio: all 2048 buffers are held, pinned or busy"); now it reads only what is touched."""
    size = os.path.getsize(progs["bigexec"])
    assert size > 2 * params.NBUF * 4096
    r = simulate("bigexec", [], disk=disk, cpus=2)
    assert r.status == 0 and f"bigexec sum {_big_sum(progs['bigexec'])}\n" in r.output, r.output + r.log
    read = r.machine.disk.stats["blocks_read"] * 4096
    assert read < 2 << 20, read                 # headers, symbols, the touched windows, init
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_read_image_reads_headers_not_segments(progs):
    from kernel.elf import read_image
    with open(progs["bigexec"], "rb") as f:
        data = f.read()
    asked = []

    def read(off, n):
        asked.append(n)
        return data[off:off + n]

    img = read_image(read, len(data))
    assert sum(asked) < 512 << 10 and img.symbols.lookup(img.entry) == "_start"
    asked.clear()
    img = read_image(read, len(data), max_symtab=64 << 10)   # a symbol table over the cap
    assert sum(asked) <= 32 << 10 and len(img.symbols) == 0   # header, section headers, names
    assert [s.filesz for s in img.segments] == [s.filesz for s in load_image(data).segments]


def test_failed_exec_leaves_the_caller_running(disk):
    r = simulate("execbad", ["fail", "/tmp/garbage", "/tmp/elfjunk", "/tmp/truncated", "/tmp", "/nonexistent",
                             "/tmp/noexec"], disk=disk, cpus=1)
    out = r.output
    assert "/tmp/garbage: errno ENOEXEC" in out and "/tmp/elfjunk: errno ENOEXEC" in out
    assert "/tmp/noexec: errno EACCES" in out                  # root too needs an x bit to run a file
    assert "/tmp/truncated: errno ENOEXEC" in out and "/tmp: errno EACCES" in out
    assert "/nonexistent: errno ENOENT" in out and "still running" in out and r.status == 0, out + r.log
    assert "beyond end of file" in r.log and "Traceback" not in r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_running_executable_cannot_be_written(disk):
    """ETXTBSY both ways, as Linux: a running program's file is not opened for writing, and a
    file open for writing is not run."""
    r = simulate("execbad", ["txtbsy"], disk=disk, cpus=2)
    out = r.output
    assert "open self for writing: -1 ETXTBSY" in out and "open self O_RDWR|O_TRUNC: -1 ETXTBSY" in out
    assert "open self for reading: ok" in out, out + r.log
    assert "exec of a file open for writing: errno ETXTBSY" in out and "copy ran" in out
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_unlinked_executable_keeps_paging_in(disk):
    r = simulate("execbad", ["unlink"], disk=disk, cpus=1)
    assert "unlink self: 0" in r.output and "far_away(4) = 13, far_data = 42" in r.output, r.output + r.log
    assert r.status == 0
    host = HostFS(disk)
    assert host.lookup("/bin/execbad") is None       # gone, and (fsck) its inode freed at exit
    host.close()


def test_unreadable_page_is_sigbus(disk, userland, monkeypatch):
    """A page the file system cannot give (an I/O error) kills the faulting process with
    SIGBUS and one log line; the kernel and the other processes go on."""
    from kernel import exec as kexec
    pages, size = kexec.FileBacking.pages, len(userland["/bin/hello"])

    def fail_for_hello(self, lo, hi):
        if self.ino.size == size:
            raise kexec.PageInError("errno 5")
        return pages(self, lo, hi)

    monkeypatch.setattr(kexec.FileBacking, "pages", fail_for_hello)
    r = simulate("sh", [], disk=disk, cpus=1, input="hello\necho after\n")
    assert re.search(r"pid \d+ \(hello\): cannot read the page at 0x10000 from its file: errno 5", r.log), r.log
    assert "(hello): killed by SIGBUS" in r.log and "after\n" in r.output and "Traceback" not in r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_buffer_exhaustion_is_enomem_not_a_panic(tmp_path, monkeypatch):
    monkeypatch.setattr(params, "NBUF", 64)
    path = str(tmp_path / "small.img")
    make_image(path, {"/bin/x": bytes(5000)}, size_mib=4, ninodes=64, nlog=64)
    host = HostFS(path, report=lambda msg: None)
    bio = host.bio
    assert isinstance(bio, BufCache)
    held = [bio.bread(n) for n in range(200, 200 + params.NBUF)]
    with pytest.raises(SysError) as e:
        bio.bread(500)
    assert e.value.errno == ENOMEM
    bio.prefetch(600, 300)                          # advisory: takes nothing, raises nothing
    assert 600 not in bio.bufs
    for b in held:
        bio.brelse(b)
    bio.prefetch(600, 300)                          # room again: prefetches, within NBUF
    assert 600 in bio.bufs and len(bio.bufs) <= params.NBUF
    host.close()
