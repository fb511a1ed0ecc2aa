"""Stepping one thread: stepi/nexti, step/next/until (source lines), finish, advance.

A step belongs to a thread (an LWP), not to a hart: the plan (an instruction count and/or
an address range to stay in) is armed on whichever hart runs the thread, following the
kernel's switch/off events, and disarmed elsewhere. Meanwhile every other hart runs its
normal share of the seeded schedule, and stops there (breakpoints, catchpoints) end the
step as in gdb. Calls are stepped over with internal breakpoints at the return address,
guarded by the stack pointer so that recursion does not stop early.
"""
import capstone

from emulator.hart import REG_PC
from kernel.inspect import USER

from .program import DebugError

_CS = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC)
SHOWN_EVENTS = ("syscall", "sysret", "pagefault", "trap", "switch", "off", "sleep", "wakeup", "signal")


def decode_one(code: bytes, addr: int):
    """(mnemonic, op_str, size) of the instruction at addr, or None."""
    for i in _CS.disasm(code, addr, 1):
        return i.mnemonic, i.op_str, i.size
    return None


def is_call(code: bytes, addr: int):
    """Length of the call instruction at addr (jal/jalr linking ra), else 0."""
    d = decode_one(code, addr)
    if d is None:
        return 0
    m, ops, size = d
    if m in ("jal", "jalr", "c.jal", "c.jalr"):
        first = ops.split(",")[0].strip()
        if m in ("c.jal", "c.jalr") or first == "ra" or (m == "jal" and "," not in ops) or (m == "jalr" and "," not in ops):
            return size
    if m == "call":
        return size
    return 0


class Stepper:
    def __init__(self, session):
        self.s = session
        self.tid = None                   # thread being stepped
        self.count = None                 # instructions left (None: no count)
        self.range = None                 # (lo, hi) to stay in, or None
        self.armed = None                 # hart id the plan is armed on
        self.internal = {}                # addr -> predicate(thread) for internal breakpoints
        self.events = []                  # kernel events of the stepped thread during a step

    def internal_addrs(self):
        return list(self.internal)

    # ---- following the thread ----
    def on_event(self, ev) -> None:
        if self.tid is None or ev.lwp != self.tid:
            return
        if ev.kind in SHOWN_EVENTS:
            self.events.append(ev)
        if ev.kind == "switch" and (self.count is not None or self.range is not None):
            self._arm(ev.hart)
        elif ev.kind == "off":
            self._disarm()

    def _arm(self, hid) -> None:
        self._disarm()
        self.armed = hid
        self.s.machine.harts[hid].set_step(self.count, self.range)

    def _disarm(self) -> None:
        if self.armed is not None:
            h = self.s.machine.harts[self.armed]
            if self.count is not None:
                self.count = max(0, h.step_left if h.step_left is not None else self.count)
            h.set_step(None, None)
            self.armed = None

    def _plan(self, tid, count=None, rng=None) -> None:
        self._disarm()
        self.tid, self.count, self.range = tid, count, rng
        if count is None and rng is None:
            return
        for h in self.s.inspect.harts():
            if h.current == tid:
                self._arm(h.hid)

    def _end(self) -> None:
        self._disarm()
        self.tid, self.count, self.range = None, None, None
        if self.internal:
            self.internal = {}
            self.s.sync_hooks()

    # ---- running until something concerns this step ----
    def _go(self):
        """(user Stop or None, reached): reached is 'step' when the plan completed, or
        'internal' when an internal breakpoint's predicate held."""
        s = self.s
        while True:
            reasons = s.resume()
            user = s.user_stop(reasons)
            if user is not None:
                return user, None
            for r in reasons:
                if r[0] != "hart":
                    continue
                _, _hid, st, tid = r
                if tid == self.tid and st.kind in ("step", "range"):
                    return None, "step"
                if st.kind == "break" and st.pc in self.internal:
                    t = s.inspect.thread(tid)
                    if t is not None and t.tid == self.tid and self.internal[st.pc](t):
                        return None, "internal"

    def _thread(self, tid):
        t = self.s.inspect.thread(tid)
        if t is None or not t.pid:
            raise DebugError(f"thread {tid} has exited")
        return t

    def _regs(self, t):
        r = self.s.regs(t)
        return r[REG_PC], r[2], r[1]

    def run_to(self, tid, addrs, sp_min):
        """Run until thread tid reaches one of addrs with sp >= sp_min; user Stop or None."""
        self.tid = tid
        self.internal = {a: (lambda t: self.s.regs(t)[2] >= sp_min) for a in addrs}
        self.s.sync_hooks()
        try:
            user, _ = self._go()
            return user
        finally:
            self.internal = {}
            self.s.sync_hooks()

    # ---- the commands ----
    def _repeat(self, n, one):
        """one(tid) n times on the selected thread; a stop in user code ends it early."""
        tid = self.s.thread().tid
        self.events = []
        try:
            for _ in range(n):
                user = one(tid)
                if user is not None:
                    return user
        finally:
            self._end()
        return self.s.make_stop("step", tid)

    def stepi(self, n=1, over=False):
        """Execute n instructions of the selected thread (calls as one with over)."""
        return self._repeat(n, lambda tid: self._insn(tid, over))

    def _insn(self, tid, over):
        t = self._thread(tid)
        pc, sp, _ra = self._regs(t)
        code = self.s.read(pc, 4, t) or self.s.read(pc, 2, t) or b""
        clen = is_call(code, pc) if over else 0
        return self.run_to(tid, [pc + clen], sp) if clen else self._one(tid)

    def _one(self, tid):
        t = self._thread(tid)
        pc0 = self._regs(t)[0]
        faults = len([e for e in self.events if e.kind == "pagefault"])
        self._plan(tid, count=1)
        while True:
            user, _ = self._go()
            if user is not None:
                return user
            t = self._thread(tid)
            if t.mode != USER:            # blocked in the kernel: done when it is back
                self._plan(tid, count=0)
                continue
            if self._regs(t)[0] == pc0 and len([e for e in self.events if e.kind == "pagefault"]) > faults:
                faults += 1               # the kernel resolved a page fault: now the retry
                self._plan(tid, count=1)
                continue
            return None

    def step(self, n=1, over=False, until=False):
        """Source-line step (into calls with line info unless over)."""
        return self._repeat(n, lambda tid: self._line(tid, over, until))

    def _line(self, tid, over, until):
        s, p = self.s, self.s.prog
        t = self._thread(tid)
        pc, sp0, _ = self._regs(t)
        row = p.raw_row_at(pc) if p.function_at(pc) is not None else None
        if row is None:
            f = p.function_at(pc)
            if len(s.frames(t)) < 2:
                raise DebugError("Cannot find bounds of current function")
            s.notices.append(f"Single stepping until exit from function {f.name if f else '??'},\n"
                             "which has no line number information.")
            return self._out_of_function(tid)
        start_file, start_line = row[2], row[3]
        f0 = p.function_at(pc)
        rng = (row[0], row[1])
        while True:
            self._plan(tid, rng=rng)
            user, _ = self._go()
            self._plan(tid)
            if user is not None:
                return user
            t = self._thread(tid)
            pc, sp, ra = self._regs(t)
            f = p.function_at(pc)
            if f is not None and pc == f.low and rng[0] < ra <= rng[1] and sp <= sp0:
                post = p.breakpoint_address(f)
                if not over and p.row_at(post) is not None:
                    user = self.run_to(tid, [post], 0)
                    self.tid = tid
                    return user
                user = self.run_to(tid, [ra], sp)
                self.tid = tid
                if user is not None:
                    return user
                t = self._thread(tid)
                pc, sp, ra = self._regs(t)
            if sp > sp0 and f is not None and f0 is not None and f.low != f0.low:
                return None               # returned into the caller: stop there, as gdb does
            row2 = p.row_at(pc)
            raw = p.raw_row_at(pc) if row2 is None else None
            if raw is not None and f is not None and f0 is not None and f.low == f0.low:
                rng = (raw[0], raw[1])            # line 0: part of the line being stepped
                continue
            if row2 is None:
                if f is None:
                    return None
                user = self._out_of_function(tid)
                if user is not None:
                    return user
                t = self._thread(tid)
                pc = self._regs(t)[0]
                row2 = p.row_at(pc)
                if row2 is None:
                    return None
            new_line = row2[3] != start_line or row2[2] != start_file
            if pc == row2[0] and p.is_stmt_start(pc) and new_line:
                if not (until and row2[3] < start_line and sp == sp0):
                    return None
            rng = (row2[0], row2[1])

    def _out_of_function(self, tid):
        """Run until the current function returns (frame 1's pc, sp above this frame)."""
        s = self.s
        frames = s.frames(self._thread(tid))
        if len(frames) < 2:
            raise DebugError("Cannot find bounds of current function")
        user = self.run_to(tid, [frames[1]["pc"]], frames[1][2])
        self.tid = tid
        return user

    def finish(self, frame_no=0):
        s = self.s
        t = s.thread()
        frames = s.frames(t)
        if frame_no + 1 >= len(frames):
            raise DebugError('"finish" not meaningful in the outermost frame.')
        caller = frames[frame_no + 1]
        f = s.prog.function_at(frames[frame_no]["pc"])
        self.events = []
        try:
            user = self.run_to(t.tid, [caller["pc"]], caller[2])
        finally:
            self._end()
        if user is not None:
            return user
        return s.make_stop("finish", t.tid, detail={"func": f})

    def until(self, spec):
        """Run until the location spec, or the current frame returns."""
        s = self.s
        t = s.thread()
        addrs, _ = s.resolve_location(spec)
        frames = s.frames(t)
        targets = list(addrs)
        if len(frames) > 1:
            targets.append(frames[1]["pc"])
        self.events = []
        self.tid = t.tid
        self.internal = {a: (lambda th, a=a: a in addrs or s.regs(th)[2] >= frames[1][2]) for a in targets}
        s.sync_hooks()
        try:
            user, _ = self._go()
        finally:
            self._end()
        return user if user is not None else s.make_stop("until", t.tid)
