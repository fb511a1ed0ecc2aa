"""The kernel object: boots the machine, wires the subsystems, answers the machine loop.

Subsystems reach each other through this object (k.sched, k.procs, k.kalloc, ...). The
kernel touches the hardware only through the emulator's public API (Machine, Hart, PhysMem,
Console) and never from inside a unicorn hook.
"""
import random

from . import arch, cost, params, sigframe
from . import exec as kexec
from .file import O_RDWR
from .fs import FS, ROOT_DIRS, ROOT_FILES
from .daemons import kreaper, kworker
from .bio import BufCache
from .devices import make_devfs, open_console
from .diskfs import boot_mount
from .itimer import ITimers
from .sa import Activations
from .futex import Futex
from .ptimer import PosixTimers
from .shm import Shm
from .kalloc import FrameAllocator
from .panic import KernelPanic, hart_dump
from .proc import ProcTable
from .procfs import ProcFS
from .ramfs import DIR, RamFS
from .sched import Scheduler
from .signal import Signals
from .signal import name as signame
from .syscall import Syscalls
from .sysproc import NS, REALTIME_EPOCH
from .trap import Traps
from .trace import Tracer
from .tty import Tty

VERSION = "0.1"


class Kernel:
    version = VERSION

    def __init__(self, machine, files: dict, seed: int = 0, log_sink=None, sched="flat", costs=None):
        """files: path -> bytes, the initial contents of the in-memory file system.
        costs: the cost profile (kernel/cost.py Costs; None: the default profile)."""
        self.machine = machine
        self.cost = costs if costs is not None else cost.load()
        self.rng = random.Random(seed ^ 0x5EED)
        self.log_sink = log_sink               # fn(str) or None: the console
        self.events = None                     # list when the event log is on (trace())
        self.utrace = False                    # green-thread switches too (kernel/utrace.py)
        self.kalloc = FrameAllocator(self, machine.mem.base, machine.mem.base + machine.mem.size)
        for h in machine.harts:
            arch.setup_hart(h)
        self.sched = Scheduler(self, sched)
        self.has_work = self.sched.has_work    # the machine-loop contract (machine.py), called
        self.run_hart = self.sched.run_hart    # once per quantum: no wrapper frame
        self.futex = Futex(self)
        self.tracer = Tracer(self)
        self.itimers = ITimers(self)
        self.ptimers = PosixTimers(self)
        self.shm = Shm(self)
        self.sa = Activations(self)
        self.kthreads = []                     # pure kernel threads (daemons)
        self.signals = Signals(self)
        self.procs = ProcTable(self)
        self.trap = Traps(self)
        self.syscalls = Syscalls(self)
        self.tty = Tty(self, machine.console)
        self.boot_realtime = REALTIME_EPOCH * NS      # CLOCK_REALTIME at boot, ns since the epoch
        root = RamFS(self.realtime, "rootfs", 1, machine.mem.size // 8192).root   # tmpfs's size: half the RAM
        self.fsys = FS(root)
        for path, data in sorted({**ROOT_FILES, **files}.items()):
            self.fsys.populate(path, data)
        for name, mode in ROOT_DIRS:
            root.lookup(name) or root.create(name, DIR, mode)
        self.devfs = make_devfs(self)
        self.procfs = ProcFS(self)
        self.fsys.mount(root.lookup("dev"), self.devfs.root)
        self.fsys.mount(root.lookup("proc"), self.procfs.root)
        self.bio = BufCache(self, machine.disk) if machine.disk is not None else None
        self.diskfs = None                     # the DiskFS once mounted (then it is /)
        self.free_at_boot = None
        self.exit_status = None

    def trace(self, uthreads: bool = False) -> list:
        """Turn the event stream on (kernel/trace.py); returns the list it fills. uthreads:
        programs exec'd from now on also report their green-thread switches (kernel/utrace.py)."""
        self.utrace = uthreads
        return self.tracer.start()

    def event(self, kind: str, t=None, **detail) -> None:
        """Record an event; callers check `self.events is not None` first."""
        self.tracer.emit(kind, t, **detail)

    # ---- services for subsystems ----
    def charge(self, cycles: int) -> None:
        self.sched.charge(cycles)

    def random_bytes(self, n: int) -> bytes:
        """n bytes from the seeded generator: the same seed gives the same bytes."""
        return self.rng.randbytes(n)

    def realtime(self) -> int:
        """CLOCK_REALTIME now: ns since the Unix epoch (the boot's wall-clock time plus
        virtual time since boot)."""
        return self.boot_realtime + self.sched.now()

    def log(self, msg: str) -> None:
        t = self.sched.now()
        line = f"[{t // 1_000_000_000:5d}.{t % 1_000_000_000 // 1000:06d}] {msg}\n"
        if self.log_sink is not None:
            self.log_sink(line)
        else:
            self.machine.console.write(line.encode())

    def console_write(self, data: bytes) -> None:
        self.charge(self.cost.CONSOLE_BYTE * len(data))
        self.machine.console.write(data)

    def report_kill(self, t, sig: int) -> None:
        """The one-line report of a process killed by a fault-type signal, naming the
        faulting LWP when the process has several."""
        p = t.proc
        who = f"pid {p.pid} ({p.name})"
        if len(p.threads) > 1:
            who += f" lwp {t.tid}"
        msg = f"{who}: killed by {signame(sig)}"
        if t.fault is not None:
            cause, pc, addr = t.fault
            sym = p.symbols.lookup(pc) if p.symbols is not None else None
            where = f"pc {pc:#x}" + (f" <{sym}>" if sym else "")
            msg += f" ({arch.CAUSE_NAMES.get(cause, 'trap')}) at {where}, address {addr:#x}"
            stack = self._overflowed_stack(p, addr)
            if stack is not None:
                msg += f" (overflow of the stack {stack.start:#x}-{stack.end:#x})"
        if len(p.threads) > 1:
            msg += f"; all {len(p.threads)} LWPs of the process die"
        self.log(msg)

    def _overflowed_stack(self, p, addr):
        """The stack region whose guard addr hit: a PROT_NONE page just below a writable
        mapping (the guard a thread library puts at the bottom of a stack), or the gap
        below the main stack."""
        r = p.aspace.find(addr)
        if r is not None:
            above = p.aspace.find(r.end) if r.prot == 0 and r.end - r.start == arch.PAGE_SIZE else None
            return above if above is not None and above.prot & arch.PTE_W else None
        main = next((r for r in p.aspace.regions if r.kind == "stack" and r.end == params.STACK_TOP), None)
        if main is not None and main.start - params.STACK_GUARD <= addr < main.start:
            return main
        return None

    def spawn_kthread(self, name: str, body, idle=False, affinity=None):
        """A pure kernel thread (no user context), listed by ps with pid 0; affinity: a mask
        of the harts it may run on (None: any)."""
        t = self.sched.new_thread(self.procs.alloc_id(), name, None,
                                  lambda thread, arg: body(self, thread, arg), idle)
        if affinity is not None:
            t.affinity = affinity
        self.kthreads.append(t)
        self.sched.make_runnable(t)
        return t

    # ---- boot and shutdown ----
    def boot(self, init_argv: list) -> None:
        m = self.machine
        self.log(f"pvtos {VERSION}: {len(m.harts)} harts, {m.mem.size >> 20} MiB RAM, "
                 f"{self.kalloc.nfree} free frames")
        for h in m.harts:
            self.log(f"hart {h.hid}: online")
        for note in m.notes():
            self.log(f"harts: {note}")
        self.sigtramp = self.kalloc.alloc()            # shared by every process, read-only
        self.machine.mem.write(self.sigtramp, sigframe.TRAMPOLINE)
        self.free_at_boot = self.kalloc.nfree
        p = self.procs.new_proc(None, "init")          # pid 1, before any other id is taken
        self.procs.init = p
        self.spawn_kthread("kreaper", kreaper)
        self.spawn_kthread("kworker", kworker, idle=True)
        if self.bio is not None:               # mounting sleeps on the disk: a kernel thread does it
            self.spawn_kthread("kmount", lambda k, t, arg: boot_mount(k, lambda: k._start_init(p, init_argv)))
            return
        self._start_init(p, init_argv)

    def _start_init(self, p, init_argv: list) -> None:
        """Load init's program into process p and make its first LWP runnable."""
        m = self.machine
        p.cwd = self.fsys.root
        argv = [a.encode() for a in init_argv]
        p.aspace, entry, sp, p.symbols = kexec.load(self, p, argv[0], argv, [b"PATH=/bin", b"HOME=/"])
        p.name = argv[0].rsplit(b"/", 1)[-1].decode()
        p.cmdline = argv
        for fd in range(3):
            p.files[fd] = open_console(self, O_RDWR)
        t = self.procs.new_lwp(p, arch.context(pc=entry, sp=sp))
        t.affinity = (1 << len(m.harts)) - 1
        self.sched.make_runnable(t)

    def halt_init(self, status: int) -> None:
        """init exited: the machine stops. Exit code: init's, or 128+signal."""
        code = (status >> 8) & 0xFF if status & 0x7F == 0 else 128 + (status & 0x7F)
        self.exit_status = code
        self.machine.halt(code)

    # ---- the machine loop's contract ----

    def timer_interrupt(self, hid):
        self.sched.timer_interrupt(hid)

    def deadlock(self):
        self.log("every thread is blocked and no event is pending: halting (deadlock)")
        self.exit_status = 124
        self.machine.halt(124)

    def timeout(self):
        self.log("virtual time limit reached: halting")
        self.exit_status = 124
        self.machine.halt(124)

    def panic(self, msg: str) -> KernelPanic:
        return KernelPanic(f"{msg}\n{hart_dump(self)}")
