"""The debugger's Python API: a Session runs PROGRAM under init on the same seeded machine
as tools.run and stops it at breakpoints, watchpoints, catchpoints and steps.

Contracts:
- The machine is made by the boot builder (kernel/boot.py: System, the same as tools.run's)
  and driven only through public APIs: System.run and Machine.request_stop (a pause is
  resumed exactly, so a debugged run is the undebugged run), Hart.set_breakpoints /
  set_watchpoints / set_step / set_fault_filter (hooks only record; everything is decided
  here after the machine paused). The kernel is read through its inspection API
  (kernel/inspect.py: threads, registers, memory, page tables, the event stream for
  catchpoints) and changed only through System's debugger writes (registers, memory).
- Threads are ThreadInfo snapshots: taken after each pause, never kept across a resume.
- Guest memory is read through the process's page table without faulting pages in;
  an untouched demand-zero page reads as zeros.
- Every resume ends in a Stop (or raises DebugError); nothing runs between commands.
"""
import os
from typing import NamedTuple

from emulator import mmu
from emulator.hart import CAUSE_INSN_PAGE, CAUSE_LOAD_PAGE, CAUSE_STORE_PAGE, REG_PC
from kernel.boot import AccessError, KernelPanic, System
from kernel.inspect import SIGNAL_NAMES, fault_signal

from .breakpoints import Breakpoints
from .program import DebugError, Program
from .stepping import Stepper

_PROGRAMS = {}
_ACCESS = {CAUSE_INSN_PAGE: mmu.PTE_X, CAUSE_LOAD_PAGE: mmu.PTE_R, CAUSE_STORE_PAGE: mmu.PTE_W}


def load_program(path: str) -> Program:
    """The Program of an ELF file, cached per (path, mtime)."""
    key = (os.path.abspath(path), os.path.getmtime(path))
    if key not in _PROGRAMS:
        _PROGRAMS[key] = Program(path)
    return _PROGRAMS[key]


class Stop(NamedTuple):
    """Why the machine stopped. kind: breakpoint, watchpoint, catch, step, finish, until,
    signal, exited, killed, fault. tid: the thread it concerns (0 if none)."""
    kind: str
    tid: int
    bps: tuple = ()                       # Breakpoints hit
    detail: dict = {}


class _Sink:
    def __init__(self, fn):
        self.fn = fn

    def write(self, data):
        self.fn(data.decode("utf-8", "replace"))

    def flush(self):
        pass


class Session(Breakpoints):
    def __init__(self, program, args=(), cpus=4, mem=128, seed=0, quantum=10_000, input=None,
                 sched="flat", files=None, disk=None, disk_latency_us=100.0, out=None, costs=None,
                 cost_overrides=()):
        """program: a name in build/bin or a host path to the ELF file. out(str) receives
        the program's console output and the kernel log (default: stdout). costs,
        cost_overrides: the cost profile and its overrides (tools.run's --costs, --cost)."""
        from tools import run as trun
        self.trun = trun
        self.program, self.args = program, list(args)
        self.opts = {"cpus": cpus, "mem": mem, "seed": seed, "quantum": quantum, "input": input,
                     "sched": sched, "costs": costs, "cost_overrides": list(cost_overrides)}
        self.files, self.disk, self.disk_latency_us = files, disk, disk_latency_us
        host = program if ("/" in program or os.path.isfile(program)) else os.path.join(trun.BIN_DIR, program)
        if not os.path.isfile(host):
            raise DebugError(f"{program}: No such file or directory.")
        self.prog = load_program(host)
        self.out = out if out is not None else _stdout
        self.bps = {}
        self._num = 0
        self.system = self.machine = self.inspect = None
        self.status = None                # machine exit status once halted
        self.inferiors = {}               # pid -> "running": processes running the program
        self.main_pid = None              # the first of them (init's child)
        self.main_status = None           # its wait status once it exited
        self.tid = None                   # selected thread
        self.frame_no = 0
        self.hart = 0                     # selected hart
        self.stepper = Stepper(self)
        self.notices = []                 # lines to show at the next stop ([New LWP ...])
        self.caught = []                  # (Breakpoint, Event) caught since the last resume
        self.events = []                  # events of the stepping thread during a step
        self._fault_seen = None
        self.interrupted = False          # interrupt() was called: the next pause is a stop
        self.history = []                 # values printed: $1, $2, ...
        self.convenience = {}             # $name set by the user
        self.siginfo = None               # (signo, code, addr) of a signal stop: $_siginfo

    # ---- life of the machine ----
    @property
    def running(self) -> bool:
        return self.machine is not None and not self.machine.halted

    def boot(self) -> None:
        """A fresh machine (same seed, same files: the same run every time), booted to
        init, not yet run."""
        self.kill()
        files, disk, path = self.trun.root(self.program, self.files, self.disk)
        self.image = path
        self.system = System(path, self.args, files=files, disk=disk, disk_latency_us=self.disk_latency_us,
                             console_out=_Sink(self.out), log=self.out, trace=True, **self.opts)
        self.machine, self.inspect = self.system.machine, self.system.inspect
        self.inspect.subscribe(self._on_event)
        for h in self.machine.harts:
            h.set_fault_filter(self._fault_filter)
        self.inferiors = {}
        self.status = None
        self.main_pid = self.main_status = None
        for bp in self.bps.values():
            if bp.kind == "watchpoint":       # re-armed in the new run's process at its exec
                bp.watch = bp.watch[:3] + (None,)
        self.tid, self.frame_no, self.hart = None, 0, 0
        self.sync_hooks()
        self.system.boot()

    def kill(self) -> None:
        """End the machine (its kernel stacks unwound, its disk closed)."""
        if self.system is not None:
            self.system.close()
        self.system = self.machine = self.inspect = None
        self.tid = None

    def interrupt(self) -> None:
        """Pause the running machine (safe from a signal handler: it only sets flags)."""
        if self.running:
            self.interrupted = True
            self.machine.request_stop()

    def need_running(self):
        if not self.running:
            raise DebugError("The program is not being run.")

    # ---- threads and memory ----
    def alive(self, tid) -> bool:
        """Is tid a live thread of the running machine?"""
        return self.running and tid is not None and self.inspect.thread(tid) is not None

    def thread(self, tid=None):
        """The live LWP tid (default: the selected one), a ThreadInfo; DebugError if none."""
        self.need_running()
        tid = self.tid if tid is None else tid
        t = self.inspect.thread(tid) if tid is not None else None
        if t is None or not t.pid:
            raise DebugError("No thread selected." if tid is None else f"Invalid thread ID: {tid}")
        return t

    def lwps(self):
        """Live LWPs of the debugged processes, by lwpid."""
        if not self.running:
            return []
        return [t for t in self.inspect.threads() if t.pid in self.inferiors]

    def on_hart(self, hid):
        """The thread hart hid runs (a ThreadInfo), or None when it is idle."""
        tid = self.inspect.current(hid)
        return self.inspect.thread(tid) if tid >= 0 else None

    def regs(self, t) -> list:
        r = self.inspect.regs(t.tid)
        if r is None:
            raise DebugError(f"thread {t.tid} has exited")
        return list(r)

    def set_reg(self, t, n: int, value: int) -> None:
        self.system.set_reg(t.tid, n, value)

    def set_regs(self, t, regs) -> None:
        self.system.set_regs(t.tid, regs)

    def read(self, va: int, n: int, t=None):
        """n bytes at user address va of t's process (default: selected), or None. A page of
        the program's file not read in yet reads as the ELF's bytes."""
        t = t or self.thread()
        unread = self.prog.static_read if t.pid in self.inferiors else None
        return self.inspect.read_user(t.pid, va, n, unread=unread)

    def write(self, va: int, data: bytes, t=None) -> None:
        t = t or self.thread()
        try:
            self.system.write_user(t.pid, va, data)
        except AccessError as e:           # not writable user memory
            raise DebugError(str(e)) from e

    def frames(self, t):
        from .evaluate import frames
        return frames(self, t)

    def assign(self, ev, lhs, rhs):
        """lhs = rhs in the guest (register or memory); returns the new value."""
        from .evaluate import Value
        size = lhs.type.size
        data = (rhs.int & ((1 << 8 * size) - 1)).to_bytes(size, "little")
        t = ev.t
        if lhs.reg is not None:
            if ev.frame_no != 0:
                raise DebugError("Can only change registers of the innermost frame.")
            n = REG_PC if lhs.reg == "pc" else lhs.reg
            self.set_reg(t, n, rhs.int)
            ev._frames = None
        elif lhs.addr is not None:
            self.write(lhs.addr, data, t)
        else:
            raise DebugError("Left operand of assignment is not an lvalue.")
        return Value(lhs.type, data, addr=lhs.addr, reg=lhs.reg)

    def make_stop(self, kind, tid, detail=None) -> Stop:
        """A Stop of the thread tid; a step that ends on a breakpoint reports it, as gdb
        does, and resuming will execute it rather than stop there again."""
        hit = ()
        t = self.inspect.thread(tid) if self.running else None
        if t is not None and t.pid:
            pc = self.regs(t)[REG_PC]
            hit = tuple(bp for bp in self.bps.values() if bp.kind == "breakpoint" and bp.enabled and pc in bp.addrs)
            if hit:
                for bp in hit:
                    bp.hits += 1
                if kind == "step":
                    kind = "breakpoint"
                if t.hart >= 0:
                    self.machine.harts[t.hart].skip_breakpoint_at(pc)
        return Stop(kind, tid, hit, detail or {})

    # ---- the machine runs ----
    def resume(self) -> list:
        """Run the machine to its next pause; the list of raw reasons: ('hart', hid,
        DebugStop, tid), ('catch', Breakpoint, Event), ('halt', status)."""
        self.need_running()
        self.caught = []
        self.siginfo = None
        for h in self.machine.harts:
            h.debug_stop = None
        try:
            status = self.system.run()
        except KernelPanic as e:
            self.kill()
            raise DebugError(f"kernel panic: {str(e).splitlines()[0]}") from None
        reasons = []
        for h in self.machine.harts:
            st = h.debug_stop
            if st is not None:
                h.debug_stop = None
                cur = self.inspect.current(h.hid)
                tid = self.stepper.tid if st.kind in ("step", "range") else max(cur, 0)
                reasons.append(("hart", h.hid, st, tid))
        reasons += [("catch", bp, ev) for bp, ev in self.caught]
        if status is not None:
            self.status = status
            reasons.append(("halt", status))
        return reasons

    def user_stop(self, reasons):
        """The Stop that user breakpoints, watchpoints, catchpoints, faults or the end of
        the program make of these reasons, or None (keep going)."""
        from .evaluate import Evaluator
        for r in reasons:
            if r[0] == "hart":
                _, hid, st, tid = r
                t = self.inspect.thread(tid)
                if t is None or t.pid not in self.inferiors:
                    continue
                if st.kind == "break":
                    hit = []
                    for bp in self.bps.values():
                        if bp.kind == "breakpoint" and bp.enabled and st.pc in bp.addrs:
                            if bp.cond and not self.condition_holds(bp, t):
                                continue
                            if bp.ignore:
                                bp.ignore -= 1
                                continue
                            bp.hits += 1
                            hit.append(bp)
                    if hit:
                        for bp in hit:
                            if bp.temp:
                                del self.bps[bp.num]
                        self.sync_hooks()
                        return Stop("breakpoint", tid, tuple(hit))
                elif st.kind == "watch":
                    for bp in self.bps.values():
                        if bp.kind != "watchpoint" or not bp.enabled:
                            continue
                        a, n, _ty, pid = bp.watch
                        if pid != t.pid:
                            continue
                        if any(st.addr < hi and lo < st.addr + max(1, st.size) for lo, hi in bp.phys):
                            new = self.read(a, n, t)
                            if new != bp.old:
                                old, bp.old = bp.old, new
                                if bp.cond and not self.condition_holds(bp, t):
                                    continue
                                bp.hits += 1
                                return Stop("watchpoint", tid, (bp,), {"old": old, "new": new})
                elif st.kind == "fault":
                    self._fault_seen = (tid, st.pc)
                    self.siginfo = self._siginfo(t, st)
                    return Stop("signal", tid, (), {"cause": st.value, "addr": st.addr, "pc": st.pc})
            elif r[0] == "catch":
                bp, ev = r[1], r[2]
                bp.hits += 1
                if ev.kind == "signal":
                    self.siginfo = (ev.detail.get("sig", 0), 0, 0)
                return Stop("catch", ev.lwp, (bp,), {"event": ev})
            elif r[0] == "halt":
                return Stop("exited", 0, (), {"status": r[1]})
        if self.interrupted:
            self.interrupted = False
            tid = self.tid if self.alive(self.tid) else next((t.tid for t in self.lwps()), 0)
            return Stop("interrupted", tid)
        return None

    def condition_holds(self, bp, t) -> bool:
        """bp's condition in t's innermost frame; an error in it stops, as in gdb."""
        from .evaluate import Evaluator
        try:
            return Evaluator(self, t=t).value(bp.cond).int != 0
        except DebugError as e:
            self.notices.append(f"Error in testing condition for breakpoint {bp.num}:\n{e}")
        except (ArithmeticError, ValueError, LookupError, TypeError, AttributeError, RecursionError) as e:
            self.notices.append(f"Error in testing condition for breakpoint {bp.num}:\n"
                                f"internal error: {type(e).__name__}: {e}")
        return True

    def _siginfo(self, t, st):
        """(signo, si_code, si_addr) Linux gives the signal the fault st will send."""
        sig = fault_signal(st.value)
        code = 1                          # SEGV_MAPERR, ILL_ILLOPC, BUS_ADRALN, TRAP_BRKPT
        if SIGNAL_NAMES.get(sig) == "SIGSEGV" and self.inspect.region_at(t.pid, st.addr) is not None:
            code = 2                      # SEGV_ACCERR: mapped, but not for this access
        return sig, code, st.addr

    def _fault_filter(self, hid, trap) -> bool:
        """Show a fault the kernel will turn into a signal before the kernel acts (gdb's
        "Program received signal"); demand paging and copy-on-write go on unseen."""
        t = self.on_hart(hid)
        if t is None or t.pid not in self.inferiors:
            return False
        if self._fault_seen == (t.tid, trap.epc):
            self._fault_seen = None
            return False
        access = _ACCESS.get(trap.cause)
        if access is not None:
            r = self.inspect.region_at(t.pid, trap.tval)
            if r is not None and r.prot & access and r.kind != "guard":
                return False
        return True

    # ---- the kernel's event stream ----
    def _on_event(self, ev) -> None:
        kind = ev.kind
        if kind == "exec":
            if ev.detail.get("path") == self.image:
                self.inferiors[ev.pid] = "running"
                if self.main_pid is None:
                    self.main_pid = ev.pid
                    self.rearm_watchpoints(ev.pid, self.inspect.thread(ev.lwp))
                if self.tid is None:
                    self.tid = ev.lwp
            else:
                self.inferiors.pop(ev.pid, None)
        elif kind == "fork" and ev.pid in self.inferiors:
            self.inferiors[ev.detail["child"]] = "running"
            self.notices.append(f"[New inferior process {ev.detail['child']} (fork of {ev.pid})]")
        elif kind == "lwp_create" and ev.pid in self.inferiors:
            self.notices.append(f"[New Thread {ev.detail['lwp']} (LWP {ev.detail['lwp']})]")
        elif kind == "lwp_exit" and ev.pid in self.inferiors:
            self.notices.append(f"[Thread {ev.lwp} (LWP {ev.lwp}) exited]")
        elif kind == "exit" and ev.pid in self.inferiors:
            st = ev.detail.get("status", 0)
            self.inferiors[ev.pid] = st
            if ev.pid == self.main_pid:
                self.main_status = st
            from .breakpoints import signal_name
            if st & 0x7F and ev.pid == self.main_pid:
                self.notices.append(f"\nProgram terminated with signal {signal_name(st & 0x7F)}.")
            elif st & 0x7F:
                self.notices.append(f"[Inferior process {ev.pid} terminated with signal {signal_name(st & 0x7F)}]")
            elif ev.pid != self.main_pid:
                self.notices.append(f"[Inferior process {ev.pid} exited "
                                    + ("normally]" if st >> 8 == 0 else f"with code {st >> 8:02o}]"))
            del self.inferiors[ev.pid]
        self.stepper.on_event(ev)
        if kind == "pagefault" and any(bp.kind == "watchpoint" and bp.watch[3] == ev.pid for bp in self.bps.values()):
            self.sync_hooks()
        if ev.pid not in self.inferiors and kind not in ("exec", "exit"):
            return
        for bp in self.bps.values():
            if bp.kind == "catchpoint" and bp.enabled and self._catches(bp, ev):
                self.caught.append((bp, ev))
                self.machine.request_stop()
                break

def _stdout(text):
    import sys
    sys.stdout.write(text)
    sys.stdout.flush()
