"""python -m tools.run [options] [PROGRAM [ARGS...]]: boot the machine.

With no PROGRAM: boot to the shell (interactive on a terminal, else stdin is the script).
With PROGRAM (a name in /bin or a host path to an ELF file, copied into /bin): run it
under init, print its console output, exit with its status (128+signal when killed).
The root file system is the disk image --disk (default build/fs.img, made by `make`): what
programs write there persists across boots. --no-disk boots from an in-memory copy of
build/bin instead. A bad image is a one-line error and exit status 2.
^C: in the interactive shell the host terminal is raw, as QEMU's -nographic console, so ^C
is a character for the guest (its tty sends SIGINT to the foreground job). Otherwise ^C
(SIGINT to this process) stops the machine at once: one line, exit status 130.
"""
import argparse
import os
import signal
import sys
import termios
import tty

from kernel.boot import BootError, KernelPanic, Run, System, check_program
from kernel.inspect import COST_ENTRIES, COST_PROFILES, DEFAULT_COSTS, POLICIES
from tools import stats as tstats
from tools import trace as ttrace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.path.join(ROOT, "build", "bin")
DISK_IMAGE = os.path.join(ROOT, "build", "fs.img")
INTERRUPTED = "tools.run: interrupted"
UsageError = BootError           # a one-line error for the user, exit status 2


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tools.run", description=__doc__.splitlines()[0])
    ap.add_argument("--cpus", type=int, default=4, help="harts, 1-8 (default 4)")
    ap.add_argument("--mem", type=int, default=128, help="RAM in MiB (default 128)")
    ap.add_argument("--seed", type=int, default=0, help="fixes interleaving and jitter (default 0)")
    ap.add_argument("--quantum", type=int, default=10_000, help="instructions per hart per round")
    ap.add_argument("--sched", default="flat", choices=list(POLICIES),
                    help="scheduling policy (kernel/policy.py; default flat)")
    ap.add_argument("--costs", default=DEFAULT_COSTS, metavar="NAME",
                    help=f"cost profile: {', '.join(COST_PROFILES)} (default {DEFAULT_COSTS}; docs/costs.md)")
    ap.add_argument("--cost", action="append", default=[], metavar="ENTRY=VALUE",
                    help="override one entry of the cost profile, in virtual ns (repeatable; "
                    "entries: docs/costs.md)")
    ap.add_argument("--input", default=None, help="scripted console input (\\n separates lines)")
    ap.add_argument("--stats", action="store_true", help="print machine statistics at exit")
    ap.add_argument("--trace", metavar="OUT.json", default=None,
                    help="write the event stream as Chrome/Perfetto trace-event JSON")
    ap.add_argument("--timeline", metavar="OUT.html", default=None,
                    help="write the run's timeline as one self-contained HTML page")
    ap.add_argument("--max-time", type=float, default=None, help="halt after this much virtual time (s)")
    ap.add_argument("--gdb", type=int, default=None, metavar="PORT",
                    help="serve PROGRAM to gdb (remote protocol) on 127.0.0.1:PORT (tools/gdbstub.py)")
    ap.add_argument("--disk", default=DISK_IMAGE, help="disk image holding the root file system "
                    "(default build/fs.img; it keeps what programs write)")
    ap.add_argument("--no-disk", action="store_true", help="no disk: an in-memory root with build/bin")
    ap.add_argument("--disk-latency", type=float, default=100.0,
                    help="disk service time per request, in us of virtual time (default 100)")
    ap.add_argument("program", nargs="?", help="program in /bin or host path to an ELF file")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    return ap


def bin_files() -> dict:
    if not os.path.isdir(BIN_DIR):
        raise UsageError(f"{BIN_DIR} does not exist: build the userland first (make)")
    files = {}
    for name in sorted(os.listdir(BIN_DIR)):
        path = os.path.join(BIN_DIR, name)
        if os.path.isfile(path) and "." not in name:
            with open(path, "rb") as f:
                files[f"/bin/{name}"] = f.read()
    return files


def add_program(files: dict, program: str) -> str:
    """Path inside the machine of PROGRAM, copying a host file in if needed."""
    if "/" in program or os.path.isfile(program):
        try:
            with open(program, "rb") as f:
                data = f.read()
        except OSError as e:
            raise UsageError(f"cannot read {program}: {e.strerror}") from None
        name = os.path.basename(program)
        files[f"/bin/{name}"] = data
    else:
        name = program
        if f"/bin/{name}" not in files:
            raise UsageError(f"no program named {name!r} in /bin")
    check_program(files[f"/bin/{name}"], program)
    return f"/bin/{name}"


def prepare_disk(image: str, program) -> str:
    """Check that image mounts and has /bin/init; copy a host PROGRAM into its /bin.
    Returns PROGRAM's path inside the machine (None without PROGRAM)."""
    from tools.mkfs import HostFS, MkfsError
    if not os.path.isfile(image):
        raise UsageError(f"disk image {image} does not exist (make builds build/fs.img)")
    try:
        host = HostFS(image, report=lambda msg: None)
    except MkfsError as e:
        raise UsageError(str(e)) from None
    try:
        if host.lookup("/bin/init") is None:
            raise UsageError(f"{image} has no /bin/init")
        if program is None:
            return None
        if "/" in program or os.path.isfile(program):
            files = {}
            path = add_program(files, program)
            host.add(path, files[path])
            return path
        if host.lookup(f"/bin/{program}") is None:
            raise UsageError(f"no program named {program!r} in /bin of {image}")
        return f"/bin/{program}"
    except MkfsError as e:
        raise UsageError(str(e)) from None
    finally:
        host.close()


def root(program, files=None, disk=None):
    """(files, disk, PROGRAM's path inside the machine) for System: an in-memory root holding
    files (default build/bin) and PROGRAM, or the image at path disk, checked and with a
    host PROGRAM copied into its /bin. The path is None without PROGRAM."""
    if disk is not None:
        return None, disk, prepare_disk(disk, program)
    files = dict(bin_files() if files is None else files)
    return files, None, add_program(files, program) if program else None


def print_stats(st, out) -> None:
    """The machine statistics of --stats (an Inspector's Stats)."""
    total = max(1, st.now)
    print(f"virtual time      {st.now / 1e6:.3f} ms", file=out)
    for h in st.harts:
        print(f"hart {h.hid}            {h.instret} instructions, "
              f"{100 * h.busy_time / total:.1f}% busy, {h.switches} switches", file=out)
    print(f"context switches  {st.switches}", file=out)
    print(f"syscalls          {st.syscalls}", file=out)
    print(f"page faults       {st.page_faults}", file=out)
    print(f"W^X switches      {st.wx_faults} (code coherence, no virtual time: docs/emulator.md)", file=out)
    print(f"free frames       {st.free_at_boot} at boot, {st.free_frames} at exit", file=out)
    if st.disk is not None:
        d, b = st.disk, st.bcache
        print(f"disk              {d['reads']} reads ({d['blocks_read']} blocks), {d['writes']} writes "
              f"({d['blocks_written']} blocks), {100 * d['busy_ns'] / total:.1f}% busy", file=out)
        print(f"buffer cache      {b['hits']} hits, {b['misses']} misses, {b['evictions']} evictions", file=out)


def simulate(program=None, args=(), cpus=4, mem=128, seed=0, quantum=10_000, input=None,
             max_time=None, files=None, trace=False, sched="flat", disk=None, disk_latency_us=100.0,
             console_out=None, costs=None, cost_overrides=(), trace_uthreads=False) -> Run:
    """Boot in-process with captured console (for tests and tools): PROGRAM under init,
    or the shell with `input` as its script. Raises UsageError like the command line.
    The root is in memory (files, default build/bin), or the image at path `disk`.
    max_time is in virtual nanoseconds (the command line's --max-time is in seconds).
    console_out: a binary stream that also receives the console's output as it is written.
    costs, cost_overrides: the cost profile's name and 'ENTRY=VALUE' overrides (--costs, --cost).
    trace_uthreads: with trace, green-thread switches too (as --trace and --timeline do)."""
    files, disk, path = root(program, files, disk)
    log = []
    with System(path, args, cpus=cpus, mem=mem, seed=seed, quantum=quantum, sched=sched, files=files, disk=disk,
                disk_latency_us=disk_latency_us, input=input, console_out=console_out, log=log.append,
                trace=trace, max_time=max_time, costs=costs, cost_overrides=cost_overrides,
                trace_uthreads=trace_uthreads) as s:
        status = s.run()
    return Run(s, status, "".join(log))


def main(argv=None) -> int:
    ap = parser()
    opts = ap.parse_args(argv)
    if opts.gdb is not None:
        from tools.gdbstub import main_from_run
        return main_from_run(opts)
    try:
        ttrace.check_outputs(opts.trace, opts.timeline)
        if opts.no_disk:
            files, disk, program = root(opts.program)
            if "/bin/init" not in files:
                raise UsageError("/bin/init is missing: build the userland first (make)")
        else:
            files, disk, program = root(opts.program, disk=opts.disk)
        interactive = opts.program is None and opts.input is None and sys.stdin.isatty()
        script = None
        if opts.input is not None:
            script = opts.input.encode().decode("unicode_escape").encode("latin-1")
        elif opts.program is None and not interactive:
            script = sys.stdin.buffer.read()
        log_sink = None
        if opts.program:
            def log_sink(line):
                sys.stdout.flush()
                sys.stderr.write(line)
        out = _PipeOut(sys.stdout.buffer)
        system = System(program, opts.args, cpus=opts.cpus, mem=opts.mem, seed=opts.seed, quantum=opts.quantum,
                        sched=opts.sched, files=files, disk=disk, disk_latency_us=opts.disk_latency,
                        input=script, console_out=_CrLf(out) if interactive else out,
                        interactive=interactive, log=log_sink, trace=bool(opts.trace or opts.timeline or opts.stats),
                        max_time=int(opts.max_time * 1e9) if opts.max_time else None,
                        costs=opts.costs, cost_overrides=opts.cost,
                        trace_uthreads=bool(opts.trace or opts.timeline))
    except (UsageError, ValueError) as e:
        print(f"tools.run: {e}", file=sys.stderr)
        return 2
    out.on_close = lambda: system.machine.halt(128 + signal.SIGPIPE)
    with system:
        status = _run(system, opts, interactive)
    return 128 + signal.SIGPIPE if out.closed else status


def _run(system, opts, interactive) -> int:
    machine = system.machine
    saved = None
    if interactive:
        saved = termios.tcgetattr(0)
        tty.setraw(0, termios.TCSANOW)
    interrupts = []

    def on_sigint(sig, frame):       # ends the run (flags only: this may be inside a unicorn hook)
        interrupts.append(sig)
        if len(interrupts) > 1:
            raise KeyboardInterrupt  # the second ^C, if the first has not stopped it yet
        machine.halt(128 + sig)
    old_sigint = signal.signal(signal.SIGINT, on_sigint)
    try:
        status = system.run()
    except KernelPanic as e:
        sys.stdout.flush()
        print(f"kernel panic: {e}\n{system.inspect.hart_dump()}", file=sys.stderr)
        return 70
    finally:
        signal.signal(signal.SIGINT, old_sigint)
        if saved is not None:
            termios.tcsetattr(0, termios.TCSANOW, saved)
    sys.stdout.flush()
    if interrupts:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    events = system.inspect.events()
    model = ttrace.build(events, len(machine.harts), machine.clock.now) if events is not None else None
    if opts.stats:
        print_stats(system.inspect.stats(), sys.stderr)
        print("\n".join(tstats.lines(tstats.summarise(model))), file=sys.stderr)
    if opts.trace or opts.timeline:
        meta = {"program": os.path.basename(opts.program) if opts.program else None, "args": opts.args,
                "seed": opts.seed, "sched": opts.sched, "quantum": opts.quantum,
                "costs": system.inspect.costs()[0]}
        try:
            ttrace.save(model, meta, opts.trace, opts.timeline)
        except OSError as e:
            print(f"tools.run: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
            return 2
    return status if status is not None else 0


class _PipeOut:
    """The console's host output. When its reader has gone (`tools.run PROG | head -1`),
    the run ends as SIGPIPE ends a Unix tool: quietly, with status 128+SIGPIPE
    (on_close halts the machine: flags only, as this write runs inside a system call)."""

    def __init__(self, out):
        self.out = out
        self.closed = False
        self.on_close = lambda: None

    def write(self, data):
        if not self.closed:
            self._guard(self.out.write, data)

    def flush(self):
        if not self.closed:
            self._guard(self.out.flush)

    def _guard(self, fn, *args):
        try:
            fn(*args)
        except BrokenPipeError:
            self.closed = True
            devnull = os.open(os.devnull, os.O_WRONLY)   # nothing more reaches the closed pipe,
            os.dup2(devnull, sys.stdout.fileno())        # not even Python's flush at exit
            os.close(devnull)
            self.on_close()


class _CrLf:
    """A raw-mode terminal needs CR before LF."""

    def __init__(self, out):
        self.out = out

    def write(self, data):
        self.out.write(data.replace(b"\n", b"\r\n"))

    def flush(self):
        self.out.flush()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:        # SIGINT outside the machine's run (which main handles)
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(130)
