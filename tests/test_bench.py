"""make bench runs end to end (tiny sizes, one round): every row is printed with a
positive figure. Host speeds are never asserted: they are the bench's to print."""
import re

import pytest

from tools import bench


@pytest.mark.slow
def test_bench_prints_every_row(monkeypatch, capsys, userland):
    monkeypatch.setattr(bench, "REPEAT", 1)
    monkeypatch.setattr(bench, "SPIN_N", 200_000)
    monkeypatch.setattr(bench, "QEMU_N", 20_000_000)
    monkeypatch.setattr(bench, "NULL_N", 200)
    monkeypatch.setattr(bench, "MUTEX_N", 2000)
    spin, nullsys = bench.build("spin"), bench.build("nullsys")
    bench.guest_speed(spin)
    bench.guest_speed(spin, width=4, full=False)
    bench.syscalls_and_boot(nullsys)
    bench.disk_throughput(mib=1)
    bench.address_space(small=20, large=200)
    bench.sc_check()
    out = capsys.readouterr().out
    for row in ("no counting", "count mode", "empty block hook", "native counter",
                "kernel, 1 hart, 1 busy ", "kernel, 4 harts, 4 busy ", "trace off", "boot to exit",
                "write + fsync", "read, cold cache", "read, warm cache", "one-page mmaps",
                "malloc(1.1 MB)", "1 thread, 1 hart", "4 threads, 4 harts"):
        assert row in out, row
    assert out.count("target >= 3.0") == 1 and out.count("target >= 2.5") == 1   # 4-instruction loop
    assert "no target on this loop" in out
    assert "2-instruction loop" in out and "4-instruction loop" in out
    checked = [int(x.replace(",", "")) for x in re.findall(r"([\d,]+) sc checked", out)]
    assert len(checked) == 2 and checked[0] >= 2000 and checked[1] >= 4 * 200, out   # one a lock
    # qemu's figure is its CPU time less its start-up's: at this size it can be noise
    rows = [line for line in out.splitlines() if "qemu" not in line and "mmap" not in line]
    figures = [float(x) for x in re.findall(r"(-?\d+\.\d+|-?\d+) \[", "\n".join(rows))]
    assert figures and min(figures) > 0, out
