"""Breakpoints, watchpoints and catchpoints of a Session (one number space, as in gdb), and
the kernel's names for system calls and signals that catchpoints use."""
import os

from emulator import mmu
from emulator.hart import REG_PC
from kernel.inspect import SIGNAL_NAMES, SYSCALL_NAMES, UPCALL_TYPES
from tools.trace import PAGE_FAULT_CAUSES

from .program import DebugError

CATCH_KINDS = ("syscall", "signal", "fault", "switch", "exec", "fork", "upcall")

_DESCR = {"SIGSEGV": "Segmentation fault", "SIGILL": "Illegal instruction", "SIGTRAP": "Trace/breakpoint trap",
          "SIGKILL": "Killed", "SIGINT": "Interrupt", "SIGTERM": "Terminated", "SIGABRT": "Aborted",
          "SIGBUS": "Bus error", "SIGFPE": "Arithmetic exception", "SIGPIPE": "Broken pipe",
          "SIGCHLD": "Child status changed", "SIGALRM": "Alarm clock", "SIGUSR1": "User defined signal 1",
          "SIGUSR2": "User defined signal 2"}


def syscall_name(nr: int) -> str:
    return SYSCALL_NAMES.get(nr, str(nr))


def syscall_filter(args) -> set:
    """Numbers named by args (names or numbers)."""
    by_name = {v: k for k, v in SYSCALL_NAMES.items()}
    out = set()
    for a in args:
        if a.isdigit():
            out.add(int(a))
        elif a in by_name:
            out.add(by_name[a])
        else:
            raise DebugError(f"Unknown syscall name '{a}'.")
    return out


def signal_number(a: str) -> int:
    if a.isdigit():
        return int(a)
    name = a.upper() if a.upper().startswith("SIG") else "SIG" + a.upper()
    for n, s in SIGNAL_NAMES.items():
        if s == name:
            return n
    raise DebugError(f"Only signals 1-63 are valid as numeric signals.\nUnknown signal name '{a}'.")


def signal_name(sig: int) -> str:
    n = SIGNAL_NAMES.get(sig, f"SIG{sig}")
    return f"{n}, {_DESCR[n]}" if n in _DESCR else n


class Breakpoint:
    """A user breakpoint, watchpoint or catchpoint (one number space, as in gdb)."""

    def __init__(self, num, kind, spec, temp=False):
        self.num, self.kind, self.spec, self.temp = num, kind, spec, temp
        self.enabled = True
        self.hits = 0
        self.ignore = 0
        self.cond = None                  # expression text, or None
        self.addrs = []                   # code addresses (breakpoint)
        self.where = ""                   # "in f at file:line" (breakpoint)
        self.watch = None                 # (addr, size, Type) (watchpoint)
        self.old = None                   # last value bytes (watchpoint)
        self.catch = None                 # (kind, filter set or None) (catchpoint)


class Breakpoints:
    """Mixed into Session: the breakpoint table and the hooks it installs on the harts."""

    # ---- breakpoints ----
    def _new(self, kind, spec, temp=False) -> Breakpoint:
        self._num += 1
        bp = Breakpoint(self._num, kind, spec, temp)
        self.bps[bp.num] = bp
        return bp

    def break_at(self, spec: str, cond=None, temp=False) -> Breakpoint:
        addrs, where = self.resolve_location(spec)
        if cond:
            self.check_condition(cond, addrs[0])
        bp = self._new("breakpoint", spec, temp)
        bp.addrs, bp.where, bp.cond = addrs, where, cond
        self.sync_hooks()
        return bp

    def resolve_location(self, spec: str):
        """([addresses], description) for FUNC, FILE:LINE, LINE, *ADDR."""
        from .evaluate import Evaluator
        p = self.prog
        spec = spec.strip()
        if not spec:
            raise DebugError("Argument required (location).")
        if spec.startswith("*"):
            addr = Evaluator(self, allow_no_thread=True).value(spec[1:]).int
            return [addr], self.describe_addr(addr)
        file, line = None, None
        if ":" in spec:
            f, _, l = spec.rpartition(":")
            if l.strip().isdigit():
                file, line = p.find_file(f.strip()), int(l)
        elif spec.isdigit():
            line = int(spec)
            file = self.default_file()
        if line is not None:
            addrs, real = p.line_addresses(file, line)
            return addrs, f"at {self.short(file)}:{real}" if len(addrs) != 1 else self.describe_addr(addrs[0])
        f = p.function(spec)
        if f is None:
            raise DebugError(f'Function "{spec}" not defined.')
        a = p.breakpoint_address(f)
        return [a], self.describe_addr(a)

    def default_file(self):
        t = self.inspect.thread(self.tid) if self.alive(self.tid) else None
        if t is not None and t.pid:
            row = self.prog.line_at(self.regs(t)[REG_PC])
            if row:
                return row.file
        f = self.prog.function("main")
        row = self.prog.line_at(f.low) if f else None
        if row is None:
            raise DebugError("No default source file.")
        return row.file

    def short(self, file: str) -> str:
        root = self.trun.ROOT
        return os.path.relpath(file, root) if file.startswith(root + "/") else file

    def describe_addr(self, addr: int) -> str:
        f = self.prog.function_at(addr)
        row = self.prog.line_at(addr)
        s = f"in {f.name}" if f else ""
        if row:
            s += f" at {self.short(row.file)}:{row.line}"
        return s.strip() or f"at {addr:#x}"

    def watch_expr(self, expr: str, cond=None) -> Breakpoint:
        """A write watchpoint on the lvalue expr; before `run` (no thread) on a global,
        armed in the program's process when it is exec'd."""
        from .evaluate import Evaluator
        live = self.alive(self.tid)
        v = Evaluator(self, allow_no_thread=not live).value(expr)
        if v.type.size > 64:
            raise DebugError("Watched value too large (more than 64 bytes).")
        if v.addr is None:
            raise DebugError("Cannot watch constant value `%s'." % expr)
        if cond:
            self.check_condition(cond, self.regs(self.thread())[REG_PC] if live else None)
        bp = self._new("watchpoint", expr)
        bp.cond = cond or None
        bp.watch = (v.addr, v.type.size, v.type, self.thread().pid if live else None)
        bp.old = self.read(v.addr, v.type.size) if live else bytes(v.data)
        self.sync_hooks()
        return bp

    def rearm_watchpoints(self, pid, t) -> None:
        """At the exec of the program: every watchpoint of an earlier run, or set before
        `run`, now watches the new process, from the value it starts with."""
        for bp in self.bps.values():
            if bp.kind == "watchpoint" and bp.watch[3] is None:
                a, n, ty, _ = bp.watch
                bp.watch = (a, n, ty, pid)
                bp.old = self.read(a, n, t)
        self.sync_hooks()

    def check_condition(self, cond: str, pc) -> None:
        """Parse cond as at code address pc (names resolved there, nothing read or
        written): a DebugError now, not when the breakpoint is hit."""
        from .evaluate import Evaluator
        if pc is None:
            f = self.prog.function("main")
            pc = f.low if f is not None else 0
        Evaluator(self, scope_pc=pc).value(cond)

    def watch_addr(self, addr: int, size: int, t) -> Breakpoint:
        """A write watchpoint on [addr, addr+size) of t's process (the GDB stub's Z2)."""
        from .types import Type
        if not 0 < size <= 64:
            raise DebugError("Watched value too large (more than 64 bytes).")
        bp = self._new("watchpoint", f"*{addr:#x}")
        bp.watch = (addr, size, Type("int", f"uint{8 * size}_t", size), t.pid)
        bp.old = self.read(addr, size, t)
        self.sync_hooks()
        return bp

    def catch(self, kind: str, args=()) -> Breakpoint:
        if kind not in CATCH_KINDS:
            raise DebugError(f'Undefined catch command: "{kind}".  Try "help catch".')
        filt = None
        if args and kind == "syscall":
            filt = syscall_filter(args)
        elif args and kind == "signal" and args != ["all"]:
            filt = {signal_number(a) for a in args}
        elif args and kind == "upcall":
            filt = {a.upper() for a in args}
            bad = sorted(filt - set(UPCALL_TYPES))
            if bad:
                raise DebugError(f"Unknown upcall type '{bad[0]}': one of {', '.join(UPCALL_TYPES)}.")
        bp = self._new("catchpoint", " ".join([kind] + list(args)))
        bp.catch = (kind, filt)
        return bp

    def delete(self, nums=None) -> None:
        for n in (list(self.bps) if not nums else nums):
            if n not in self.bps:
                raise DebugError(f"No breakpoint number {n}.")
            del self.bps[n]
        self.sync_hooks()

    def enable(self, nums, on: bool) -> None:
        for n in nums or list(self.bps):
            if n not in self.bps:
                raise DebugError(f"No breakpoint number {n}.")
            self.bps[n].enabled = on
        self.sync_hooks()

    def sync_hooks(self) -> None:
        """Install the enabled breakpoints and watchpoints, plus the stepper's internal
        breakpoints, on every hart."""
        if self.machine is None:
            return
        addrs = set(self.stepper.internal_addrs())
        ranges = set()
        for bp in self.bps.values():
            if not bp.enabled:
                continue
            if bp.kind == "breakpoint":
                addrs.update(bp.addrs)
            elif bp.kind == "watchpoint":
                bp.phys = self._physical(bp) if bp.watch[3] in self.inferiors else []
                ranges.update(bp.phys)
        for h in self.machine.harts:
            h.set_breakpoints(addrs)
            h.set_watchpoints(ranges)

    def _physical(self, bp):
        """Physical ranges of a watchpoint's present pages: unicorn reports stores with
        physical addresses, so watchpoints follow the page table (resynced on faults)."""
        va, n, _ty, pid = bp.watch
        out = []
        for cur, chunk in mmu.spans(va, n):
            pte = self.inspect.pte(pid, cur)
            if pte & mmu.PTE_V:
                pa = mmu.pte_pa(pte) | (cur & (mmu.PAGE_SIZE - 1))
                out.append((pa, pa + chunk))
        return out

    @staticmethod
    def _catches(bp, ev) -> bool:
        kind, filt = bp.catch
        k, d = ev.kind, ev.detail
        if kind == "syscall":
            return k in ("syscall", "sysret") and (filt is None or d.get("nr") in filt)
        if kind == "signal":
            return k == "signal" and (filt is None or d.get("sig") in filt)
        if kind == "fault":
            return k == "pagefault" or k == "trap" and d.get("cause") not in PAGE_FAULT_CAUSES
        if kind == "switch":
            return k in ("switch", "off")
        if kind == "exec":
            return k == "exec"
        if kind == "fork":
            return k == "fork"
        if kind == "upcall":
            return k == "upcall" and (filt is None or d.get("type") in filt)
        return False

