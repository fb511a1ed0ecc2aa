"""make bench: host-speed figures, measured side by side in one run.

Each figure is the median of REPEAT rounds, with the spread (lowest-highest) in brackets;
host times are CPU times (time.process_time, and the children's rusage for qemu).
Within a round every configuration runs once, in turn, so a change in the machine's load
hits them alike; ratios are taken round by round, then their median is printed.

1. Guest instructions per second on the loops of userland/bench/spin.c, one translated block
   an iteration: first `addi; bnez` (2 instructions, the worst case for a counter that
   charges blocks), all on the same bytes of the same ELF:
   - bare unicorn without counting (one emu_start, no budget): the ceiling;
   - bare unicorn in count mode (emu_start count=N): the reference of every ratio;
   - bare unicorn with an empty block hook: the floor of any per-block counter;
   - bare unicorn with the native block counter (emulator/blockcount.c);
   - the kernel on 1 hart, and on 4 harts with 4 busy processes (aggregate), with the
     native counter and in count mode (the fallback);
   - qemu-riscv64 in user mode on the ELF itself, when it is installed (its CPU time, less
     that of a one-iteration run).
   Then the same for a loop of 4 instructions (fewer rows: count mode, the empty hook, the
   native counter, the kernel), whose blocks are closer to compiled code's.
   Targets, on the 4-instruction loop: kernel on 1 hart >= 3.0x bare count mode; 4 busy
   harts >= 2.5x (aggregate). The 2-instruction loop has none: there even an empty block
   hook, the floor of any counter that charges blocks, stays under 3x (its row says how
   far), so it shows the counter's worst case, not a goal.
   The rows "trace on" run the kernel with its event log on (--trace, --timeline, the
   debugger): what recording every event costs. No target.
2. Host cost of a null syscall (getppid), with the event log off and on, timed between the
   guest's start and done lines. Target: under 10 us.
3. Boot to program exit for hello. Target: under 1 s of host time.
4. Sequential write (+ fsync) and read of a 4 MiB file on the disk, cold and warm cache:
   virtual time from the guest's clock; host time between the guest's "start" line and its
   result line of the same pass (no boot subtraction).
5. Address spaces under a hostile program: host time per mmap with 1,000 and with 12,000
   regions side by side (their ratio: about 1 if the cost does not grow with the region
   count), and malloc until memory runs out, each a whole run less a one-mmap run. Target:
   ratio under 2. (Before the region map, measured once on the commit before it, cc746f4:
   12,000 mmaps took 24 s of host CPU and malloc(1.1 MB) until out of memory 94 s; both
   scanned and re-sorted every region per call.)
6. The sc alignment check of the block counter (a misaligned sc must trap): host time of
   userland/bench/mutex.c, one thread on one hart (every lock an uncontended lr/sc loop) and
   four threads on four harts (contended: futex waits), with the check on and off
   (blockcount.check_sc, off = as before the check existed) side by side, between the
   guest's start and done lines; and the sc instructions checked. Target: ratio about 1.
7. Reverse execution (tools/debugger/reverse.py, checkpoints.py): wall time of the
   debugger's reverse-stepi at the end of `spin N` (a busy loop), the first one (which runs
   the program once more to learn the threads' history, taking checkpoints) and the next,
   beside the forward run from boot to the same point; re-running from boot and fork
   checkpoints side by side, the latter also taken from the first run on (as tools.debug
   does: the first step back then needs no run from boot). Target: a step back on a
   program of one virtual second under one host second.
The kernel's speed is the instructions its harts retired divided by the host time between
the program's first and last lines (no boot subtraction).
"""
import argparse
import ctypes
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

import unicorn
from elftools.elf.elffile import ELFFile
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_T1

from emulator import blockcount
from emulator.decode import insn_length
from emulator.disk import BLOCK_NS, LATENCY_NS
from emulator.hart import UNTIL
from tools import cc
from tools.mkfs import make_image
from tools.run import bin_files, simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Host time is the CPU time of the process measured: on a machine shared with other work,
# waiting for a core is not counted (the wall clock made the spread several times larger).
clock = time.process_time
OUT = os.path.join(ROOT, "build", "bench")
REPEAT = 5
SPIN_N = 50_000_000            # loop iterations: 100 M instructions per process
QEMU_N = 500_000_000           # qemu is ten times faster: a longer run
NULL_N = 20_000
WARM_PASSES = 4
TARGETS = {1: 3.0, 4: 2.5}     # kernel / bare count mode, native counter, trace off


def build(name: str) -> str:
    out = os.path.join(OUT, name)
    cc.build([os.path.join(ROOT, "userland", "bench", name + ".c")], out, ["-O2"])
    return out


def fmt(xs, scale=1.0, digits=1):
    """'median [lowest-highest]' of xs * scale."""
    m, lo, hi = (x * scale for x in (statistics.median(xs), min(xs), max(xs)))
    return f"{m:8.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


class _Stamped:
    """A console output stream that notes the host time at which each line ends."""

    def __init__(self):
        self.lines, self._part = [], b""

    def write(self, data: bytes) -> None:
        t = clock()
        self._part += data
        while b"\n" in self._part:
            line, self._part = self._part.split(b"\n", 1)
            self.lines.append((t, line.decode("utf-8", "replace")))

    def flush(self) -> None:
        pass


# ---- section 1: bare unicorn on the spin loop ----
class Bare:
    """A spin loop's bytes (symbol `symbol`, `width` instructions) in a fresh unicorn per
    configuration (M-mode, no MMU): t1 = N runs width*N instructions and leaves the loop at
    `end`."""

    def __init__(self, elf_path: str, symbol: str, width: int):
        with open(elf_path, "rb") as f:
            elf = ELFFile(f)
            self.addr = elf.get_section_by_name(".symtab").get_symbol_by_name(symbol)[0]["st_value"]
            text = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_flags"] & 1)
            self.base, self.code = text["p_vaddr"], text.data()
        self.width = width
        self.end = self.addr
        for _ in range(width):
            off = self.end - self.base
            self.end += insn_length(int.from_bytes(self.code[off:off + 2], "little"))

    def uc(self):
        uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64)
        start = self.base & ~0xFFF
        uc.mem_map(start, (self.base + len(self.code) - start + 0xFFF) & ~0xFFF)
        uc.mem_write(self.base, self.code)
        return uc

    def configs(self):
        """name -> fn(n) returning host seconds for n iterations (without the native library,
        the rows that need it are left out)."""
        plain, counted, empty, native = self.uc(), self.uc(), self.uc(), self.uc()

        def timed(uc, go):
            def run(n):
                uc.reg_write(UC_RISCV_REG_T1, n)
                t = clock()
                go(n)
                return clock() - t
            return run

        def native_run(n):
            native.reg_write(UC_RISCV_REG_PC, self.addr)
            assert bc.run(bc.ptr, ctypes.c_int64(self.width * n)) == self.width * n
        rows = {"bare unicorn, no counting": timed(plain, lambda n: plain.emu_start(self.addr, self.end)),
                "bare unicorn, count mode": timed(counted, lambda n: counted.emu_start(self.addr, UNTIL, 0, self.width * n))}
        if blockcount.native().lib is None:
            return rows
        blockcount.add_empty_hook(empty)
        bc = blockcount.BlockCounter(native, exact=blockcount.native().mode == "block")
        rows["bare unicorn, empty block hook"] = timed(empty, lambda n: empty.emu_start(self.addr, self.end))
        rows["bare unicorn, native counter"] = timed(native, native_run)
        return rows


def kernel_ips(spin, width, cpus, procs, mode, trace=False):
    """Guest instructions per host second of the kernel running spin, timed between its
    "spin start" and "spin done" lines (boot and exit excluded; the instructions before the
    first line, a few thousand, are counted in)."""
    with blockcount.forced(mode):
        secs, r = between(spin, [str(SPIN_N), str(procs), str(width)], "spin start", "spin done",
                          cpus=cpus, trace=trace)
    return sum(h.instret for h in r.inspect.harts()) / secs


def qemu_ips(spin):
    """Instructions per CPU second of qemu-riscv64 on the ELF (its start-up, measured with a
    one-iteration run, subtracted)."""
    cpu = []
    for n in (1, QEMU_N):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["qemu-riscv64", spin, str(n), "1"], check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return 2 * (QEMU_N - 1) / (cpu[1] - cpu[0])


def guest_speed(spin, width=2, full=True):
    """Section 1 for spin's loop of `width` instructions; full: every row, else the bare
    reference, the native counter and the kernel's target rows."""
    bare = Bare(spin, {2: "spin_loop", 4: "spin_loop4"}[width], width).configs()
    best = blockcount.native().mode         # "block", or a fallback
    if not full:
        bare = {k: v for k, v in bare.items()
                if k in ("bare unicorn, count mode", "bare unicorn, empty block hook", "bare unicorn, native counter")}
        modes = ((best, False),)
    else:
        modes = ((best, False), ("count", False), (best, True)) if best != "count" else (("count", False),)
    kernel = {f"kernel, {c} hart{'s' if c > 1 else ''}, {p} busy{', ' + m + ' mode' if m != 'block' else ''}"
              f"{', trace on' if tr else ''}": (c, p, m, tr)
              for c, p in ((1, 1), (4, 4)) for m, tr in modes}
    qemu = shutil.which("qemu-riscv64") if full else None
    ips = {name: [] for name in list(bare) + list(kernel) + (["qemu-riscv64 (user mode)"] if qemu else [])}
    for _ in range(REPEAT):
        for name, run in bare.items():
            ips[name].append(width * SPIN_N / run(SPIN_N))
        for name, (c, p, m, tr) in kernel.items():
            ips[name].append(kernel_ips(spin, width, c, p, m, tr))
        if qemu:
            ips["qemu-riscv64 (user mode)"].append(qemu_ips(spin))
    ref = ips["bare unicorn, count mode"]
    print(f"1{'ab'[width == 4]}. guest speed on spin's {width}-instruction loop (one block an iteration), "
          "M instructions/s, median [spread]; x bare count mode")
    for name, xs in ips.items():
        ratio = [x / r for x, r in zip(xs, ref)]
        c, _, m, tr = kernel.get(name, (None, None, None, None))
        note = ""
        if c is not None and m == best and not tr and width == 4:
            goal = TARGETS[c]
            note = f"  target >= {goal}: {'met' if statistics.median(ratio) >= goal else 'NOT met'}"
        print(f"  {name:42s} {fmt(xs, 1e-6, 0)}  x{fmt(ratio, digits=2)}{note}")
    if full and not shutil.which("qemu-riscv64"):
        print("  qemu-riscv64 not installed: its row is skipped")
    if "bare unicorn, empty block hook" in ips:
        floor = [x / r for x, r in zip(ips["bare unicorn, empty block hook"], ref)]
        print(f"  (a counter that calls a hook per block runs at most as fast as the empty hook: "
              f"x{statistics.median(floor):.2f} on this loop)")
    if width != 4:
        print("  (no target on this loop: the targets are judged on the 4-instruction loop, 1b)")
    elif blockcount.native().lib is None:
        print(f"  (native block counter unavailable: {'; '.join(blockcount.notes())})")


# ---- sections 2 and 3 ----
def between(prog, args, first, last, **kw):
    """Host CPU seconds between two lines the guest prints, and the Run."""
    out = _Stamped()
    r = simulate(prog, args, console_out=out, **kw)
    assert r.status == 0, r.output + r.log
    stamps = dict((line, t) for t, line in out.lines)
    return stamps[last] - stamps[first], r


def syscalls_and_boot(nullsys):
    per = {False: [], True: []}
    boot = []
    for _ in range(REPEAT):
        for trace in (False, True):
            secs, _ = between(nullsys, [str(NULL_N)], "nullsys start", "nullsys done", cpus=1, trace=trace)
            per[trace].append(secs / NULL_N)
        t = clock()
        simulate("hello")
        boot.append(clock() - t)
    print("2. null syscall (getppid), host us per call, median [spread]")
    print(f"  trace off {fmt(per[False], 1e6, 2)}  (target < 10)")
    print(f"  trace on  {fmt(per[True], 1e6, 2)}  (what the event log adds)")
    print(f"3. boot to exit, hello: {fmt(boot, 1, 3)} s host (target < 1)")


# ---- section 4: the disk ----
def phases(out: _Stamped, size: int):
    """(phase, virtual ns, host seconds) of each pass in a run of fsbench."""
    started = {}
    for t, line in out.lines:
        m = re.fullmatch(r"(\w+) start", line)
        if m:
            started[m.group(1)] = t
            continue
        m = re.fullmatch(rf"(\w+) {size} bytes in (\d+) ns", line)
        if m:
            yield m.group(1), int(m.group(2)), t - started.pop(m.group(1))


def disk_throughput(mib: int = 4) -> None:
    prog = build("fsbench")
    size = mib << 20
    virt, host = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, "fs.img")
        make_image(img, {"/bin/init": bin_files()["/bin/init"]}, size_mib=4 * mib + 8)
        m = str(mib)
        for _ in range(REPEAT):
            for args in (("write", "/f", m), ("read", "/f", m, str(WARM_PASSES))):
                out = _Stamped()
                r = simulate(prog, args, cpus=1, disk=img, console_out=out)
                assert r.status == 0, r.output + r.log
                for phase, ns, secs in phases(out, size):
                    virt.setdefault(phase, []).append(ns)
                    host.setdefault(phase, []).append(secs)
    print(f"4. disk, sequential {mib} MiB in 64 KiB calls (latency {LATENCY_NS // 1000} us + "
          f"{BLOCK_NS // 1000} us per 4 KiB block), median [spread]:")
    names = {"write": "write + fsync", "cold": "read, cold cache", "warm": "read, warm cache"}
    for phase, name in names.items():
        mbs_v = [size / ns * 1e3 for ns in virt[phase]]
        mbs_h = [size / s / 1e6 for s in host[phase]]
        print(f"  {name:17s} virtual {fmt(virt[phase], 1e-6, 2)} ms = {fmt(mbs_v, digits=1)} MB/s; "
              f"host {fmt(host[phase], 1, 3)} s = {fmt(mbs_h, digits=1)} MB/s")


def main(argv=None) -> None:
    global REPEAT, SPIN_N, QEMU_N, NULL_N, MUTEX_N
    ap = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=REPEAT, help="rounds (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="one round of small runs (a smoke test)")
    opts = ap.parse_args(argv)
    REPEAT = opts.rounds
    if opts.quick:
        REPEAT, SPIN_N, QEMU_N, NULL_N = 1, 10_000_000, 50_000_000, 2000
        MUTEX_N = 100_000
    print(f"budget mode: {blockcount.native().mode}; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores; {REPEAT} rounds")
    for note in blockcount.notes():
        print(f"  (fallback: {note})")
    spin, nullsys = build("spin"), build("nullsys")
    guest_speed(spin)
    guest_speed(spin, width=4, full=False)
    syscalls_and_boot(nullsys)
    disk_throughput()
    address_space()
    sc_check()
    reverse_step(SPIN_N * 10 // 3, rounds=min(REPEAT, 2))   # about one virtual second


# ---- section 5: address spaces ----
def address_space(small: int = 1000, large: int = 12000) -> None:
    """vmstress maps N makes N one-page mappings that cannot merge (N regions)."""
    prog = build("vmstress")
    runs = {"base": ("maps", "1"), small: ("maps", str(small)), large: ("maps", str(large)),
            "malloc": ("malloc", str(1100 << 10))}
    secs = {k: [] for k in runs}
    virt = []
    for _ in range(min(REPEAT, 3)):
        for k, args in runs.items():
            t = clock()
            r = simulate(prog, args, cpus=1)
            secs[k].append(clock() - t)
            if k in (small, large):
                assert f"mapped {k}" in r.output, r.output
            if k == "malloc":
                virt.append(r.machine.clock.now)
    base = statistics.median(secs["base"])
    per = {n: [(x - base) / n for x in secs[n]] for n in (small, large)}
    ratio = [b / a for a, b in zip(per[small], per[large])]
    print("5. address spaces, host time less a one-mmap run, median [spread]")
    print(f"  {large:,} one-page mmaps: {fmt([p * large for p in per[large]], 1, 2)} s; per mmap "
          f"{fmt(per[small], 1e6, 1)} us with {small:,} regions, {fmt(per[large], 1e6, 1)} us with "
          f"{large:,}: ratio {fmt(ratio, digits=2)} (target < 2)")
    print(f"  malloc(1.1 MB) until memory runs out: {fmt([x - base for x in secs['malloc']], 1, 2)} s "
          f"for {statistics.median(virt) / 1e6:5.1f} ms virtual")


# ---- section 6: the sc alignment check ----
MUTEX_N = 1_000_000             # lock/unlock pairs of one thread (about 50 instructions each)


def sc_check() -> None:
    if blockcount.native().lib is None:
        print("6. sc alignment check: no block counter (count mode), nothing to measure")
        return
    prog = build("mutex")
    configs = {"1 thread, 1 hart": (MUTEX_N, 1, 1), "4 threads, 4 harts": (MUTEX_N // 10, 4, 4)}
    secs = {(name, on): [] for name in configs for on in (True, False)}
    checked = {}
    saved = blockcount.check_sc
    try:
        for _ in range(REPEAT):
            for name, (n, threads, cpus) in configs.items():
                for on in (True, False):
                    blockcount.check_sc = on
                    t, r = between(prog, [str(n), str(threads)], "mutex start",
                                   f"mutex done: counter {n * threads} of {n * threads}", cpus=cpus)
                    secs[(name, on)].append(t)
                    if on:
                        checked[name] = (sum(h.sc_checks for h in r.machine.harts),
                                         sum(h.instret for h in r.machine.harts))
    finally:
        blockcount.check_sc = saved
    print("6. sc alignment check, mutex lock/unlock loops, host s with the check on and off, "
          "median [spread]")
    for name in configs:
        on, off = secs[(name, True)], secs[(name, False)]
        ratio = [a / b for a, b in zip(on, off)]
        sc, instret = checked[name]
        print(f"  {name:18s} on {fmt(on, 1, 3)}  off {fmt(off, 1, 3)}  ratio {fmt(ratio, digits=3)} "
              f"(target about 1); {sc:,} sc checked in {instret / 1e6:.0f} M instructions")


# ---- section 7: reverse execution ----
def reverse_step(n: int, rounds: int = 1) -> None:
    """Wall-clock time (the work of the fork mode is done in the debugger's worker process,
    whose CPU time this process does not see)."""
    from tools.debugger import CLI, Session
    wall = time.perf_counter
    modes = ("replay", "fork", "fork-run")
    res = {mode: ([], [], []) for mode in modes}
    virt = 0
    for _ in range(rounds):
        for mode in modes:
            out = []
            cli = CLI(Session("spin", [str(n)], cpus=1), write=out.append)
            cli.reverse_mode = "replay" if mode == "replay" else "fork"
            cli.checkpoint_from_run = mode == "fork-run"        # as tools/debug.py
            cli.execute("break printf")
            t0 = wall()
            cli.execute("run")
            if cli.s.machine is not None:                       # (else a worker process has it)
                virt = cli.s.machine.clock.now
            t1 = wall()
            cli.execute("reverse-stepi")
            t2 = wall()
            cli.execute("reverse-stepi")
            t3 = wall()
            front = getattr(cli, "reverse_front", None)
            if front is not None:
                front.close()
            cli.s.kill()
            assert sum(line.startswith("0x") for line in out) == 2, out
            for xs, x in zip(res[mode], (t1 - t0, t2 - t1, t3 - t2)):
                xs.append(x)
    v = virt / 1e9
    print(f"7. reverse-stepi at the end of spin {n} ({v:.3f} virtual s), wall s, median [spread]")
    print(f"  {'':18s} {'run from boot':>22s} {'first reverse-stepi':>22s} {'next reverse-stepi':>22s}")
    for mode, label in (("replay", "re-run from boot"), ("fork", "fork checkpoints"),
                        ("fork-run", "  from the run on")):
        fwd, first, later = res[mode]
        print(f"  {label:18s} {fmt(fwd, 1, 3):>22s} {fmt(first, 1, 3):>22s} {fmt(later, 1, 3):>22s}")
    print(f"  target: the next reverse-stepi under 1 s on a program of 1 virtual second ({v:.3f} here)")


if __name__ == "__main__":
    main()
