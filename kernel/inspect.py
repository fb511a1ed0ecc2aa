"""Read-only inspection of a kernel, for tools (docs/inspect.md).

A tool (tools/: run, stats, the debugger, the GDB stub, bench, ...) sees the kernel only
through an Inspector, which it gets from the boot builder (kernel/boot.py: System.inspect,
Run.inspect), and through the names this module exports. Every answer is plain data (frozen
dataclasses, tuples, ints, strings) copied out of the kernel when asked: holding one changes
nothing and it does not follow the kernel afterwards; ask again after the machine ran.

Contracts:
- Nothing here changes the kernel, with two stated exceptions: read_user(fault_in=True)
  faults pages in as a kernel access would (never from the disk), and subscribe() turns
  the event stream on. The writes a debugger makes (registers, memory) are System's
  (kernel/boot.py).
- Ask between machine runs (or from an event listener or a hart's fault filter, which run
  while the machine is stopped at a known point): every thread's registers are then either
  saved or on the hart named for it, and every answer is consistent.
- This file is the only one outside the kernel's own subsystems that reads their fields:
  when a subsystem changes its representation, this file follows and tools do not.
"""
from dataclasses import dataclass
from types import MappingProxyType

from . import arch
from . import cost as _cost
from . import errno as _errno
from . import sysnum
from .arch import CAUSE_NAMES as _CAUSE_NAMES
from .arch import FCSR as REG_FCSR
from .arch import NREGS
from .arch import PC as REG_PC
from .panic import KernelPanic, hart_dump
from .policy import POLICIES as _POLICIES
from .params import USER_TOP
from .proc import ALIVE, ZOMBIE
from .sa import UPCALL_NAMES as _UPCALL_NAMES
from .sa import ActState
from .signal import NAMES as _SIGNAL_NAMES
from .signal import name as signal_name
from .thread import KERNEL, RUNNABLE, RUNNING, SLEEPING, USER
from .thread import ZOMBIE as EXITED
from .trace import Event, chan_name
from .trap import fault_signal
from .vm import PTE_COW, Fault

__all__ = [
    "Inspector", "ThreadInfo", "ProcInfo", "HartInfo", "RegionInfo", "AddressSpaceInfo", "Mapping",
    "WalkStep", "Walk", "Stats", "ActivationInfo", "SAInfo", "Event",
    "RUNNABLE", "RUNNING", "SLEEPING", "EXITED", "USER", "KERNEL", "ALIVE", "ZOMBIE",
    "POLICIES", "NREGS", "REG_PC", "REG_FCSR", "USER_TOP", "PTE_COW", "CAUSE_NAMES", "SYSCALL_NAMES", "SIGNAL_NAMES",
    "UPCALL_TYPES", "signal_name", "fault_signal", "errno_name", "KernelPanic",
]

CAUSE_NAMES = MappingProxyType(_CAUSE_NAMES)          # trap cause -> "load page fault", ...
POLICIES = tuple(_POLICIES)                            # the scheduling policies' names (--sched)
SYSCALL_NAMES = MappingProxyType(sysnum.NAMES)        # system-call number -> name
SIGNAL_NAMES = MappingProxyType(_SIGNAL_NAMES)        # signal number -> "SIGSEGV", ...
UPCALL_TYPES = tuple(_UPCALL_NAMES.values())           # the activations' upcall types: "NEWPROC", ...
COST_PROFILES = tuple(_cost.names())                  # the cost profiles' names (--costs)
COST_ENTRIES = MappingProxyType(_cost.ENTRIES)        # cost entry -> what it charges (--cost)
DEFAULT_COSTS = _cost.DEFAULT


def cost_profile(name: str) -> dict:
    """Cost profile name as stored: label, machine, conversion and per entry its value and
    sources (kernel/costs/NAME.toml). ValueError for an unknown name."""
    return _cost.describe(name)
_ERRNO_NAMES = {v: n for n, v in vars(_errno).items() if n[:1] == "E" and isinstance(v, int)}


def errno_name(e: int) -> str:
    """'ENOENT' for 2; 'errno N' for a number the kernel does not name."""
    return _ERRNO_NAMES.get(e, f"errno {e}")


@dataclass(frozen=True)
class ThreadInfo:
    """A kernel thread: an LWP (pid > 0) or a pure kernel thread (pid 0)."""
    tid: int
    name: str
    pid: int                  # its process, 0 for a pure kernel thread
    proc_name: str            # its process's name ("" for a pure kernel thread)
    state: str                # RUNNABLE, RUNNING, SLEEPING (EXITED once buried)
    mode: str                 # USER: at user level (or about to return there), KERNEL: in a trap
    hart: int                 # the hart running it (state RUNNING), else -1
    last_hart: int            # the hart it last ran on, -1 if never
    affinity: int             # bit mask of the harts allowed
    cputime: int              # virtual ns on a hart
    chan: str                 # what it sleeps on (state SLEEPING), else ""
    interruptible: bool       # its sleep ends for a signal
    idle: bool                # a daemon that runs only when a hart has nothing else
    activation: int           # its scheduler activation's id, 0 if it is none


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int                 # 0 for init
    name: str
    state: str                # ALIVE or ZOMBIE
    status: int               # wait status (valid once ZOMBIE)
    threads: tuple            # lwpids of its live LWPs, in creation order
    exiting: bool
    has_aspace: bool
    sa: bool                  # has enabled scheduler activations


@dataclass(frozen=True)
class HartInfo:
    hid: int
    current: int              # tid of the thread it runs, -1 when idle
    time: int                 # the hart's local virtual time (ns)
    instret: int              # user instructions retired
    busy_time: int            # virtual ns spent in user code
    switches: int             # threads switched in
    aspace_pid: int           # pid of the address space whose satp it holds, -1 if none
    loaded: int               # tid whose registers it holds, -1 if none
    runq: tuple               # tids queued on it, in queue order


@dataclass(frozen=True)
class RegionInfo:
    start: int
    end: int
    prot: int                 # PTE_R | PTE_W | PTE_X bits (emulator/mmu.py)
    kind: str                 # "text", "data", "heap", "stack", "guard", "mmap", "sigtramp"
    file: bool                # pages come from the executable's file
    resident: int             # present pages, -1 unless asked for (regions(resident=True))


@dataclass(frozen=True)
class AddressSpaceInfo:
    pid: int
    satp: int
    root: int                 # physical address of the root page table
    brk_start: int
    brk: int
    regions: int              # how many


class Mapping(tuple):
    """A present leaf: (va, pa, pte)."""
    __slots__ = ()

    def __new__(cls, va, pa, pte):
        return tuple.__new__(cls, (va, pa, pte))

    va = property(lambda self: self[0])
    pa = property(lambda self: self[1])
    pte = property(lambda self: self[2])


@dataclass(frozen=True)
class WalkStep:
    level: int                # 2, 1, 0
    table: int                # physical address of the table
    index: int                # VPN[level]
    pte_addr: int
    pte: int


@dataclass(frozen=True)
class Walk:
    """The Sv39 walk of va, level 2 first; pa is the translation, or -1 when not mapped."""
    va: int
    steps: tuple              # WalkStep...
    pa: int
    region: RegionInfo        # the region holding va, or None


@dataclass(frozen=True)
class Stats:
    """What tools.run --stats prints: counters since boot."""
    now: int                  # virtual ns at the last round boundary
    harts: tuple              # HartInfo...
    syscalls: int
    page_faults: int
    traps: int
    wx_faults: int            # W^X mode switches (code coherence, docs/emulator.md)
    free_at_boot: int         # free frames after boot (None before)
    free_frames: int
    disk: dict                # the disk's counters, or None without a disk
    bcache: dict              # the buffer cache's counters, or None

    @property
    def switches(self) -> int:
        return sum(h.switches for h in self.harts)


@dataclass(frozen=True)
class ActivationInfo:
    """A scheduler activation (kernel/sa.py) of an SA process."""
    id: int
    tid: int                  # its LWP
    vp: int                   # the virtual processor it holds, -1 if none now
    state: str                # its LWP's state
    hart: int                 # the hart running it, -1 if none
    blocked: bool             # blocked in the kernel (its vp went on with an upcall)
    idle: bool                # idle in sa_yield
    preempting: bool          # to be stopped at its next chance
    upcall_pending: bool      # has upcall events to deliver
    retiring: bool            # its vp was taken back


@dataclass(frozen=True)
class SAInfo:
    pid: int
    name: str
    vps: int                  # virtual processors held
    concurrency: int          # virtual processors asked for (sa_setconcurrency)
    alloc: int                # virtual processors the allocation grants
    free_stacks: int          # upcall stacks given and unused
    pending: int              # events any vp may deliver
    activations: tuple        # ActivationInfo..., by id


class Inspector:
    """Read-only questions about one kernel; made by kernel/boot.py, not by tools."""

    def __init__(self, kernel):
        self._k = kernel

    # ---- threads ----
    def _thread(self, t) -> ThreadInfo:
        p = t.proc
        running = t.state == RUNNING and t.cpu is not None
        return ThreadInfo(t.tid, t.name, p.pid if p is not None else 0, p.name if p is not None else "",
                          t.state, t.mode, t.cpu.hid if running else -1,
                          t.cpu.hid if t.cpu is not None else -1, t.affinity, t.cputime,
                          chan_name(t.chan) if t.state == SLEEPING and t.chan is not None else "",
                          t.interruptible, t.idle, t.act.id if t.act is not None else 0)

    def threads(self) -> tuple:
        """Every live kernel thread (LWPs and daemons), by tid."""
        return tuple(self._thread(t) for _, t in sorted(self._k.sched.threads.items()))

    def thread(self, tid: int):
        """The live thread tid, or None."""
        t = self._k.sched.threads.get(tid)
        return self._thread(t) if t is not None else None

    def regs(self, tid: int):
        """The user registers of LWP tid (NREGS values: x0-x31, f0-f31, REG_PC, REG_FCSR),
        wherever they live now; None for a pure kernel thread or no live thread."""
        t = self._k.sched.threads.get(tid)
        if t is None or t.proc is None:
            return None
        return tuple(self._k.sched.regs(t))

    # ---- processes ----
    def _proc(self, p) -> ProcInfo:
        return ProcInfo(p.pid, p.ppid, p.name, p.state, p.status, tuple(t.tid for t in p.threads), p.exiting,
                        p.aspace is not None, p.sa is not None and p.sa.enabled)

    def processes(self) -> tuple:
        """Every process in the table (zombies too), by pid."""
        return tuple(self._proc(p) for _, p in sorted(self._k.procs.procs.items()))

    def process(self, pid: int):
        p = self._k.procs.procs.get(pid)
        return self._proc(p) if p is not None else None

    def symbol(self, pid: int, pc: int):
        """'func+off' of pc in the image process pid runs, from its symbol table, or None."""
        p = self._k.procs.procs.get(pid)
        if p is None or p.symbols is None:
            return None
        return p.symbols.lookup(pc)

    # ---- harts ----
    def _hart(self, cpu) -> HartInfo:
        aspace = cpu.aspace
        pid = next((p.pid for p in self._k.procs.procs.values() if p.aspace is aspace), -1) if aspace else -1
        return HartInfo(cpu.hid, cpu.current.tid if cpu.current is not None else -1, cpu.hart.time, cpu.instret,
                        cpu.busy_time, cpu.switches, pid, cpu.loaded.tid if cpu.loaded is not None else -1,
                        tuple(t.tid for t in cpu.runq))

    def harts(self) -> tuple:
        return tuple(self._hart(c) for c in self._k.sched.cpus)

    def hart(self, hid: int) -> HartInfo:
        return self._hart(self._k.sched.cpus[hid])

    def current(self, hid: int) -> int:
        """tid of the thread hart hid runs, -1 when idle (cheaper than hart(hid).current)."""
        t = self._k.sched.cpus[hid].current
        return t.tid if t is not None else -1

    def hart_dump(self) -> str:
        """One line per hart (time, pc, thread): what a kernel panic prints."""
        return hart_dump(self._k)

    # ---- address spaces ----
    def _aspace(self, pid):
        p = self._k.procs.procs.get(pid)
        return p.aspace if p is not None else None

    def aspace(self, pid: int):
        """The address space of process pid, or None (a zombie has none)."""
        a = self._aspace(pid)
        if a is None:
            return None
        return AddressSpaceInfo(pid, a.satp, a.root, a.brk_start, a.brk, len(a.regions))

    def _region(self, a, r, resident) -> RegionInfo:
        n = sum(1 for _ in a.present(r.start, r.end)) if resident else -1
        return RegionInfo(r.start, r.end, r.prot, r.kind, r.backing is not None, n)

    def regions(self, pid: int, resident: bool = False) -> tuple:
        """The regions of process pid in address order (empty without an address space);
        resident counts each one's present pages (a walk of its page tables)."""
        a = self._aspace(pid)
        return tuple(self._region(a, r, resident) for r in a.regions) if a is not None else ()

    def region_at(self, pid: int, va: int):
        a = self._aspace(pid)
        r = a.find(va) if a is not None else None
        return self._region(a, r, False) if r is not None else None

    def pte(self, pid: int, va: int) -> int:
        """The leaf PTE of user address va in process pid, 0 when absent."""
        a = self._aspace(pid)
        if a is None or not 0 <= va < USER_TOP:
            return 0
        return a.pte(va)

    def mappings(self, pid: int, start: int = 0, end: int = USER_TOP) -> tuple:
        """Mapping (va, pa, pte) of every present page in [start, end), in address order."""
        a = self._aspace(pid)
        if a is None:
            return ()
        return tuple(Mapping(va, arch.pte_pa(pte), pte) for va, _, pte in a.present(start, end))

    def walk(self, pid: int, va: int):
        """The page-table walk of va in process pid, or None without an address space."""
        a = self._aspace(pid)
        if a is None:
            return None
        steps, pa = [], -1
        for level, pte_addr, pte in arch.walk(self._k.machine.mem, a.root, va):
            index = pte_addr % arch.PAGE_SIZE // 8
            steps.append(WalkStep(level, pte_addr - 8 * index, index, pte_addr, pte))
            if pte & arch.PTE_V and pte & (arch.PTE_R | arch.PTE_W | arch.PTE_X):
                pa = arch.pte_pa(pte) | (va & ((arch.PAGE_SIZE << (9 * level)) - 1))
        return Walk(va, tuple(steps), pa, self.region_at(pid, va))

    # ---- user memory ----
    def read_user(self, pid: int, va: int, n: int, fault_in: bool = False, unread=None):
        """n bytes at user address va of process pid, read through its page table, or None
        if some byte is in no region (or the process has no address space).
        An absent page of an anonymous region reads as zeros, of shared memory as its object's
        page (zeros if not made yet; None for a file's page not read). An absent page of a file-backed
        region (not read from the file yet) is read by unread(va, n) -> bytes or None when
        given, else the read fails. fault_in=True faults absent pages in instead, as a kernel
        read would, except from the file (that needs a thread that can sleep)."""
        a = self._aspace(pid)
        if a is None or n < 0:
            return None
        mem = self._k.machine.mem
        out = bytearray()
        for cur, chunk in arch.spans(va, n):
            if not 0 <= cur < USER_TOP:
                return None
            pte = a.pte(cur)
            if not pte & arch.PTE_V and fault_in:
                try:
                    a.resolve(cur, arch.PTE_R)
                except Fault:
                    return None
                pte = a.pte(cur)
            if pte & arch.PTE_V:
                out += mem.read(arch.pte_pa(pte) | cur % arch.PAGE_SIZE, chunk)
                continue
            r = a.find(cur)
            if r is None:
                return None
            if r.backing is None:
                out += bytes(chunk)
                continue
            if r.backing.shared:          # shared memory (shm.py): its object's page, if made
                pa = r.backing.obj.frames.get(r.backing.index(cur))
                if pa is None and r.backing.obj.ino is not None:
                    return None
                out += mem.read(pa | cur % arch.PAGE_SIZE, chunk) if pa is not None else bytes(chunk)
                continue
            data = unread(cur, chunk) if unread is not None else None
            if data is None or len(data) != chunk:
                return None
            out += data
        return bytes(out)

    # ---- statistics ----
    def costs(self):
        """(label, entry -> value) of the cost profile in force, overrides applied."""
        c = self._k.cost
        return c.label, MappingProxyType(dict(c.values))

    def stats(self) -> Stats:
        k, m = self._k, self._k.machine
        st = k.trap.stats
        return Stats(m.clock.now, self.harts(), st["syscalls"], st["page_faults"], st["traps"], st["wx_faults"],
                     k.free_at_boot, k.kalloc.nfree, dict(m.disk.stats) if m.disk is not None else None,
                     dict(k.bio.stats) if k.bio is not None else None)

    # ---- scheduler activations ----
    def activations(self, pid: int):
        """The scheduler activations of process pid, or None if it did not enable them."""
        p = self._k.procs.procs.get(pid)
        sa = p.sa if p is not None else None
        if sa is None or not sa.enabled:
            return None
        acts = []
        for t in sorted((t for t in p.threads if t.act is not None), key=lambda t: t.act.id):
            a = t.act
            current = sa.vps.get(a.vp) is t
            acts.append(ActivationInfo(a.id, t.tid, a.vp if current else -1, t.state,
                                       t.cpu.hid if t.state is RUNNING and t.cpu is not None else -1,
                                       a.state in (ActState.BLOCKED, ActState.UNBLOCKED), a.state is ActState.IDLE,
                                       a.interrupt, bool(a.pending), a.retire))
        return SAInfo(pid, p.name, len(sa.vps), sa.concurrency, sa.alloc, len(sa.stacks), len(sa.news), tuple(acts))

    # ---- the event stream (kernel/trace.py) ----
    @property
    def tracing(self) -> bool:
        return self._k.events is not None

    def start_events(self) -> None:
        """Record the event stream from now on (turning it on if it is off)."""
        if self._k.events is None:
            self._k.trace()
        self._k.tracer.keep = True

    def events(self):
        """The events recorded so far (a list of Event, oldest first; a copy), or None when
        the stream is off. An Event is a record the kernel never reads back."""
        return list(self._k.events) if self._k.events is not None else None

    def subscribe(self, fn, keep: bool = True) -> None:
        """Call fn(Event) for every event from now on (turns the stream on). fn runs inside
        the kernel, at the point the event happens: it may read through this Inspector and
        ask the machine to stop (Machine.request_stop), nothing more. keep=False, when the
        stream was off: the events are passed to fn but not recorded (a long run's memory
        stays flat; events() stays empty)."""
        if self._k.events is None:
            self._k.trace()
            self._k.tracer.keep = keep
        self._k.tracer.listeners.append(fn)

    def unsubscribe(self, fn) -> None:
        if fn in self._k.tracer.listeners:
            self._k.tracer.listeners.remove(fn)
