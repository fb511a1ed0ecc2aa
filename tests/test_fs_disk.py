"""End to end on the disk: the machine boots from an image (a copy per test), and every
test ends with tools/fsck finding the image consistent."""
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from emulator.disk import BLOCK_NS
from kernel.boot import System
from tests.conftest import ROOT
from tools import fsck
from tools.mkfs import HostFS, make_image
from tools.run import simulate


@pytest.fixture
def disk(base_image, tmp_path):
    """A private copy of the image, checked by fsck after the test."""
    path = str(tmp_path / "fs.img")
    shutil.copyfile(base_image, path)
    yield path
    problems, summary = fsck.check(path)
    assert problems == [], problems


@pytest.fixture
def small_disk(userland, tmp_path):
    path = str(tmp_path / "small.img")
    files = {p: userland[p] for p in ("/bin/init", "/bin/sh", "/bin/fstests")}
    make_image(path, files, size_mib=8, ninodes=64, nlog=64)
    yield path
    problems, summary = fsck.check(path)
    assert problems == [], problems


def boot(disk, program=None, *args, **kw):
    return simulate(program, args, disk=disk, **kw)


def cases(output):
    return dict(re.findall(r"^test (\w+): (.*)$", output, re.M))


def test_every_file_syscall_and_its_errno_cases(disk):
    r = boot(disk, "fstests")
    got = cases(r.output)
    assert set(got) == {"open", "rw", "pread", "stat", "getdents", "mkdir", "unlink", "rename", "truncate",
                        "cwd", "names", "emfile", "bigfile"}
    assert all(v == "OK" for v in got.values()), got
    assert r.status == 0 and "ALL TESTS PASSED" in r.output and "Traceback" not in r.log


def test_full_disk_is_enospc_with_a_short_write(small_disk):
    r = boot(small_disk, "fstests", "fill", "/tmp/big")
    m = re.search(r"fill: wrote (\d+) bytes, then No space left on device; size (\d+); (\d) short writes; fsync 0",
                  r.output)
    assert r.status == 0 and m, r.output
    assert int(m[1]) == int(m[2]) > 1 << 20 and int(m[3]) <= 1


def test_no_inodes_left_is_enospc(small_disk):
    r = boot(small_disk, "fstests", "inodes", "/tmp/i")
    assert r.status == 0, r.output
    assert re.search(r"inodes: created (\d+) files, then No space left on device; mkdir: No space left", r.output)


def test_data_and_tree_persist_across_two_boots(disk):
    r = boot(disk, "fstests", "persist", "write", "/keep")
    assert r.status == 0 and "persist write /keep: OK" in r.output
    r = boot(disk, input="mkdir -p /home/me\necho remembered > /home/me/note\ncp /bin/echo /home/me/echo2\n")
    assert r.status == 0
    r = boot(disk, "fstests", "persist", "check", "/keep")
    assert r.status == 0 and "persist check /keep: OK" in r.output, r.output
    r = boot(disk, input="cat /home/me/note\n/home/me/echo2 copied program runs\n")
    assert "\nremembered\n" in r.output and "\ncopied program runs\n" in r.output


def test_stress_several_processes_on_4_harts(disk):
    r = boot(disk, "fstests", "stress", "8", "50", "6000", cpus=4, trace=True)
    assert r.status == 0 and "stress: 8 processes, 344 files checked: OK" in r.output, r.output
    pids = {e.pid for e in r.kernel.events if e.kind == "fork"} | {e.detail.get("child") for e in
                                                                     r.kernel.events if e.kind == "fork"}
    harts = {e.hart for e in r.kernel.events if e.kind == "disk" and e.pid in pids}
    assert len(harts) >= 3                                  # the writers really ran in parallel


def test_same_seed_same_run_with_a_disk(base_image, tmp_path):
    runs = []
    for i in range(2):
        path = str(tmp_path / f"{i}.img")
        shutil.copyfile(base_image, path)
        r = boot(path, input="mkdir /x\necho a > /x/a\nmv /x/a /x/b\nwc /x/b\nrm -r /x\nls /\n", seed=5, trace=True)
        runs.append((r.output, r.machine.clock.now, r.kernel.events))
    assert runs[0] == runs[1]


def _waits(r, latency_ns, pid):
    """(issued, completed) of the single-block reads process pid waited for."""
    done = {(e.detail["block"], e.detail["issued"]): e.time for e in r.kernel.events
            if e.kind == "irq" and e.detail.get("device") == "disk"}
    return [(e.time, done[(e.detail["block"], e.time)]) for e in r.kernel.events
            if e.kind == "disk" and e.pid == pid and e.detail["count"] == 1 and e.detail["op"] == "read"]


@pytest.mark.parametrize("cpus", [1, 2])
def test_a_read_blocks_for_the_disk_latency_while_another_process_runs(disk, cpus):
    latency = 1_000_000
    host = HostFS(disk)
    host.add("/data", bytes(range(256)) * 128)               # 8 blocks, cold after the boot
    host.close()
    r = boot(disk, input="spin 40000000 &\nslowread /data\n", cpus=cpus, trace=True, disk_latency_us=latency / 1000)
    ev = r.kernel.events
    reader = next(e.pid for e in ev if e.kind == "exec" and "slowread" in str(e.detail))
    spinner = next(e.pid for e in ev if e.kind == "exec" and "spin" in str(e.detail))
    waits = _waits(r, latency, reader)[-8:]
    assert len(waits) == 8
    served = sorted(e.time for e in ev if e.kind == "irq" and e.detail.get("device") == "disk")
    for issued, completed in waits:     # the device serves in order: a read issued while another
        before = [t for t in served if t < completed]       # is in flight (the spinner's exec
        start = max([issued] + before[-1:])                  # reads, where the image puts them)
        assert completed - start == latency + BLOCK_NS       # starts when that one is done
        on = [e for e in ev if e.pid == spinner and e.kind in ("switch", "off") and e.time <= completed]
        assert on[-1].kind == "switch" and on[-1].time <= start + 20_000    # the spinner had a hart
    took = [int(t) for t in re.findall(r"4096 bytes in +(\d+) ns \(waited for the disk\)", r.output)]
    assert len(took) == 8, r.output
    if cpus == 2:       # its own hart: the wait is the device's, the switch back and the copyout
        c = r.inspect.costs()[1]   # (whose first one faults the buffer's page in)
        kernel = c["KTHREAD_SWITCH"] + 4096 // c["BYTE_COPY_DIV"] + c["PAGE_FAULT"]
        assert all(latency + BLOCK_NS <= t < (done - issued) + kernel + 5_000
                   for t, (issued, done) in zip(took, waits)), (took, waits)
    else:                                                    # the spinner's slice runs out first
        assert all(latency + BLOCK_NS <= t for t in took)
    spin_hart_busy = max(c.busy_time for c in r.kernel.sched.cpus)
    assert spin_hart_busy > 8 * latency


def test_corrupt_image_stops_the_boot_with_one_line(disk):
    raw = bytearray(open(disk, "rb").read(4096))
    raw[0] ^= 0xFF
    with open(disk, "r+b") as f:
        f.write(raw)
    log = []
    with System(cpus=1, disk=disk, log=log.append) as s:
        assert s.run() == 2
    assert [line for line in log if "disk" in line] == [
        re.search(r"\[.*\] (disk: cannot mount .*not a diskfs image.*)\n", "".join(log))[0]]
    raw[0] ^= 0xFF
    with open(disk, "r+b") as f:
        f.write(raw)


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "tools.run", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, **kw)


def test_cli_bad_disks_are_one_line_errors(disk, tmp_path):
    bad = tmp_path / "bad.img"
    bad.write_bytes(b"\0" * 8192)
    short = tmp_path / "short.img"
    short.write_bytes(open(disk, "rb").read()[:100 * 4096])
    for args, msg in ((["--disk", str(tmp_path / "none.img")], "does not exist"),
                      (["--disk", str(bad)], "not a diskfs image"),
                      (["--disk", str(short)], "image truncated"),
                      (["--disk", disk, "--disk-latency", "-1"], "--disk-latency"),
                      (["--disk", disk, "nosuch"], "no program named")):
        r = cli(*args, "hello") if "nosuch" not in args else cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (args, r.stderr)
        assert r.stderr.strip().count("\n") == 0 and msg in r.stderr, (args, r.stderr)


def test_cli_copies_a_host_program_into_the_image(disk, tmp_path, userland):
    prog = tmp_path / "greet"
    prog.write_bytes(userland["/bin/hello"])
    r = cli("--disk", disk, "--stats", str(prog))
    assert r.returncode == 0 and r.stdout == "hello, world\n"
    assert re.search(r"disk +\d+ reads \(\d+ blocks\)", r.stderr) and "buffer cache" in r.stderr
    r = cli("--disk", disk, "greet")
    assert r.returncode == 0 and r.stdout == "hello, world\n"


def test_fsynced_data_survives_killing_the_emulator(disk):
    p = subprocess.Popen([sys.executable, "-m", "tools.run", "--disk", disk, "fstests", "durable", "/survivor"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert p.stdout.readline() == "synced\n"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    r = cli("--disk", disk, "wc", "/survivor")                # started again
    assert r.returncode == 0 and r.stdout.split()[2:] == ["100000", "/survivor"], r.stdout
    host = HostFS(disk)
    data = host.lookup("/survivor").read(0, 1 << 20)
    host.close()
    want = bytes((ord("a") + (4 * 7 + 2 * 3 + k) % 26) for k in range(100000))
    assert data == want


def test_cli_without_a_disk_boots_from_memory():
    r = cli("--no-disk", "--stats", "hello")
    assert r.returncode == 0 and r.stdout == "hello, world\n" and "buffer cache" not in r.stderr


def test_the_built_image_holds_every_program(userland):
    image = os.path.join(ROOT, "build", "fs.img")
    problems, summary = fsck.check(image)
    assert problems == [] and f"{len(userland) + 2} files" in summary            # and /etc/passwd, group
    host = HostFS(image)
    try:
        for path, data in userland.items():
            ino = host.lookup(path)
            assert ino is not None and ino.size == len(data), path
        assert host.lookup("/bin/sh").read(0, 1 << 30) == userland["/bin/sh"]
    finally:
        host.close()


def test_shell_tools_and_ls_l_on_the_disk(disk, userland):
    script = ("mkdir -p /w/x/y\necho one two three > /w/x/y/f\ncp /w/x/y/f /w/g\nmv /w/g /w/x/h\n"
              "wc /w/x/h /w/x/y/f\nls -l /w /w/x\nrm /w/x/h\nrm /w/x\nrm -r /w\nls /\nls -l /bin\n")
    r = boot(disk, input=script)
    out = r.output
    assert re.search(r"\n +1 +3 +14 /w/x/h\n +1 +3 +14 /w/x/y/f\n +2 +6 +28 total\n", out), out
    assert re.search(r"/w/x:\n-\s+1\s+14 h\nd\s+2\s+\d+ y\n", out), out
    assert "rm: /w/x: is a directory" in out
    assert "$ ls /\nbin\ndev\netc\nproc\nroot\ntmp\n" in out
    sizes = dict((name, int(size)) for size, name in re.findall(r"^-\s+1\s+(\d+) (\w+)$", out, re.M))
    assert sizes["hello"] == len(userland["/bin/hello"]) and sizes["sh"] == len(userland["/bin/sh"])
    assert os.path.getsize(disk) > 0
