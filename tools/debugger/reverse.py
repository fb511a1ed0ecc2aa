"""Reverse execution for the debugger (docs/debugger.md, "Going backwards").

The machine is deterministic, so an earlier moment is reached again by running the same
machine (same seed, files and schedule) up to it: from boot, or, under the command line,
from a checkpoint, a fork of the whole debugger process taken on the way (checkpoints.py).

A moment is (hart, n): the pause after that hart has retired n user instructions. A pause
cuts the interleaving at one hart's instruction boundary and the run up to it is the same
whatever paused it, so a moment names one machine state. The engine follows the kernel's
switch/off events to know, for every thread, which of its instructions ran where (its
stretches); "the selected thread's k-th instruction" then becomes a moment. A machine the
engine did not follow from its boot (the first `run`, but in a checkpoints' worker: adopt)
is run once more, up to the current moment, to learn its stretches.

Contracts:
- Only the public Session API (boot, resume, user_stop, sync_hooks, the stepper) and the
  emulator's Hart.set_step drive the machine; the kernel is read through the inspection API.
- A command's targets are computed from its context (self.ctx: the moment it started at,
  the stretches known then, its progress), which survives a jump into a checkpoint: there
  the command runs again from the start with the same context and reaches the same moments.
- After a goto, breakpoints and watchpoints are the user's again, watchpoints holding the
  value at the new moment. Writes the user made (set var) are not replayed.
"""
import re
from typing import NamedTuple

from emulator.hart import REG_PC

from .core import Stop
from .program import DebugError


class Moment(NamedTuple):
    hart: int
    n: int                                  # user instructions that hart has retired

    def __str__(self):
        return f"@{self.hart}:{self.n}"


class Reverse:
    def __init__(self, session):
        self.s = session
        self.system = None                  # the System whose stretches are known
        self.stretches = {}                 # tid -> [[hart, hart n at start, thread count at start, hart n at end]]
        self.open = {}                      # hart -> the stretch running there
        self.quiet = False                  # a replay runs: the program's output is not shown
        self.user_out = None
        self.ctx = {}                       # the running command's context (see the contracts)
        self.resumed = False                # ctx came from before a jump: keep it
        self.timeline = None                # checkpoints.Worker when forks serve as checkpoints
        self.line = ""                      # the command line being run (to run it again after a jump)

    # ---- following the threads ----
    def _on_event(self, ev) -> None:
        if ev.kind == "switch":
            n = self.s.inspect.hart(ev.hart).instret
            st = self.stretches.setdefault(ev.lwp, [])
            count = st[-1][2] + st[-1][3] - st[-1][1] if st else 0
            st.append([ev.hart, n, count, None])
            self.open[ev.hart] = st[-1]
        elif ev.kind == "off":
            st = self.open.pop(ev.hart, None)
            if st is not None:
                st[3] = self.s.inspect.hart(ev.hart).instret

    def _out(self, text) -> None:
        if not self.quiet:
            self.user_out(text)

    def _boot(self) -> None:
        s = self.s
        if s.out != self._out:
            self.user_out, s.out = s.out, self._out
        s.boot()
        self.adopt()

    def adopt(self) -> None:
        """Follow the threads of the machine the session has just booted (idempotent)."""
        s = self.s
        if self.system is s.system:
            return
        if s.out != self._out:
            self.user_out, s.out = s.out, self._out
        self.system = s.system
        self.stretches, self.open = {}, {}
        s.inspect.subscribe(self._on_event)

    def snapshot(self) -> dict:
        """The stretches as plain data, open ones closed at the current counts."""
        hn = {h.hid: h.instret for h in self.s.inspect.harts()}
        return {tid: [(h, n0, c0, hn[h] if n1 is None else n1) for h, n0, c0, n1 in st]
                for tid, st in self.stretches.items()}

    def count(self, tid, ref=None) -> int:
        """User instructions thread tid has retired (now, or in the stretches ref)."""
        st = (ref if ref is not None else self.snapshot()).get(tid)
        return st[-1][2] + st[-1][3] - st[-1][1] if st else 0

    def moment_of(self, tid, k, ref=None) -> Moment:
        """The moment after thread tid retired its k-th instruction (k >= 1)."""
        for h, n0, c0, _n1 in reversed((ref if ref is not None else self.snapshot()).get(tid, [])):
            if c0 < k:
                return Moment(h, n0 + k - c0)
        raise DebugError("No more reverse-execution history.")

    def now(self) -> Moment:
        """The current moment: at the selected thread's hart if it runs, else the selected hart."""
        s = self.s
        s.need_running()
        t = s.inspect.thread(s.tid) if s.tid is not None else None
        hid = t.hart if t is not None and t.hart >= 0 else s.hart
        return Moment(hid, s.inspect.hart(hid).instret)

    def begin(self) -> dict:
        """The context of the command starting now: where it started and what was known."""
        if not self.resumed:
            self.learn()
            self.ctx = {"anchor": self.now(), "ref": self.snapshot(), "tid": self.s.tid, "hart": self.s.hart}
        self.resumed = False
        return self.ctx

    def learn(self) -> None:
        """Know the stretches of the current machine: run it again to the current moment."""
        if self.system is not self.s.system:
            m, tid, hart = self.now(), self.s.tid, self.s.hart
            self.goto(m)
            self.s.tid, self.s.hart = tid, hart

    # ---- going to a moment ----
    def goto(self, m: Moment, user_stops=False, on_stop=None) -> Stop:
        """Run to moment m: on from here if m is ahead, else from a checkpoint or boot.
        With user_stops, each breakpoint or watchpoint stop on the way calls
        on_stop(moment, stop) and the run goes on."""
        s = self.s
        known = s.running and self.system is s.system
        if not known or s.inspect.hart(m.hart).instret > m.n:
            if self.timeline is not None:
                self.timeline.jump(m)           # returns only if no checkpoint is before m
            self.quiet = True                   # its console output was shown before
            self._boot()
        saved = {n: bp.enabled for n, bp in s.bps.items()}
        if not user_stops:
            for bp in s.bps.values():
                bp.enabled = False
        try:
            s.sync_hooks()
            notices = len(s.notices)
            while s.running:
                left = m.n - s.inspect.hart(m.hart).instret
                if left <= 0:
                    break
                if self.system.machine.halted:
                    break
                s.machine.harts[m.hart].set_step(left)
                reasons = s.resume()
                if s.machine is not None:
                    s.machine.harts[m.hart].set_step(None)
                if any(r[0] == "hart" and r[1] == m.hart and r[2].kind == "step" for r in reasons):
                    continue
                stop = s.user_stop(reasons)
                if stop is not None and stop.kind == "exited":
                    return stop
                if stop is not None and on_stop is not None:
                    t = s.inspect.thread(stop.tid)
                    hid = t.hart if t is not None and t.hart >= 0 else next(r[1] for r in reasons if r[0] == "hart")
                    on_stop(Moment(hid, s.inspect.hart(hid).instret), stop)
            if self.quiet:
                del s.notices[notices:]
        finally:
            self.quiet = False
            for n, was in saved.items():
                if n in s.bps:
                    s.bps[n].enabled = was
            if s.machine is not None:
                s.sync_hooks()
        if not s.running:
            raise DebugError("The program is not being run.")
        tid = s.inspect.current(m.hart)
        s.hart = m.hart
        if tid > 0 and s.inspect.thread(tid).pid in s.inferiors:
            s.tid = tid
        for bp in s.bps.values():
            if bp.kind == "watchpoint" and s.tid is not None:
                try:
                    bp.old = s.read(bp.watch[0], bp.watch[1], s.thread())
                except DebugError:
                    pass
        return Stop("step", s.tid or 0, (), {"insn": True})

    def _arrive(self, m, tid) -> Stop:
        stop = self.goto(m)
        if self.s.alive(tid):
            self.s.tid = tid
        return stop._replace(tid=self.s.tid or 0, detail={})

    # ---- the reverse commands ----
    def stepi(self, n=1) -> Stop:
        """Back n instructions of the selected thread."""
        ctx = self.begin()
        tid = ctx["tid"]
        k = self.count(tid, ctx["ref"]) - n
        if k < 1:
            raise DebugError("No more reverse-execution history.")
        return self._arrive(self.moment_of(tid, k, ctx["ref"]), tid)

    def continue_(self, n=1) -> Stop:
        """Back to the n-th last breakpoint or watchpoint stop before now. The run is
        searched a stretch at a time, from the checkpoint (or boot) before its end, each
        stretch ending where the next one starts: where every hart has retired what it had
        at that checkpoint (a moment of one hart would leave out what the others ran
        while it waited)."""
        ctx = self.begin()
        s = self.s
        if "final" in ctx:
            return self._final(ctx)
        ctx.setdefault("skip", n - 1)
        while True:
            end = ctx.setdefault("end", self.counts())
            start = ctx.setdefault("start", self.timeline.before_all(end) if self.timeline else None)
            if start is None:
                self.quiet = True
                self._boot()                    # watchpoints take their values at the exec
            else:
                if self.timeline.at != start:
                    self.timeline.jump_to(start)    # runs this command again there
                self._watch_values()
            hits = []
            for hart, n_end in enumerate(end):
                if s.running and s.inspect.hart(hart).instret < n_end:
                    self.goto(Moment(hart, n_end), user_stops=True, on_stop=lambda m, st: hits.append((m, st)))
            hits = [(m, st) for m, st in hits if m != ctx["anchor"]]
            if len(hits) > ctx["skip"]:
                m, st = hits[-1 - ctx["skip"]]
                ctx["final"] = (m, st.kind, st.tid, tuple(bp.num for bp in st.bps), st.detail)
                return self._final(ctx)
            if start is None:
                s.tid = ctx["tid"]
                raise DebugError("No more reverse-execution history.")
            ctx["skip"] -= len(hits)
            ctx["end"] = self.timeline.counts(start)
            del ctx["start"]

    def counts(self) -> tuple:
        """User instructions retired by each hart, now."""
        return tuple(h.instret for h in self.s.inspect.harts())

    def _watch_values(self) -> None:
        """Watchpoints hold the values they watch now (a stop reports a change from it)."""
        s = self.s
        for bp in s.bps.values():
            if bp.kind == "watchpoint" and bp.watch[3] is not None:
                t = next((t for t in s.lwps() if t.pid == bp.watch[3]), None)
                if t is not None:
                    bp.old = s.read(bp.watch[0], bp.watch[1], t)

    def _final(self, ctx) -> Stop:
        s = self.s
        m, kind, tid, nums, detail = ctx["final"]
        self.goto(m)
        bps = tuple(s.bps[n] for n in nums if n in s.bps)
        if kind == "watchpoint" and bps:
            bps[0].old = detail["new"]
        s.tid = tid
        return Stop(kind, tid, bps, detail)

    # ---- source-level steps back: from the thread's last instructions ----
    def history(self, ctx, w):
        """[(k, pc, sp)] for the thread's last w instructions before the command's anchor
        and at it: k instructions retired, pc and sp then. Steps forward one at a time."""
        s = self.s
        tid = ctx["tid"]
        k = self.count(tid, ctx["ref"])
        start = max(1, k - w)
        if start >= k:
            raise DebugError("No more reverse-execution history.")
        self.goto(self.moment_of(tid, start, ctx["ref"]))
        s.tid = tid
        saved = {n: bp.enabled for n, bp in s.bps.items()}
        for bp in s.bps.values():
            bp.enabled = False
        s.sync_hooks()
        out = []
        try:
            while True:
                r = s.regs(s.inspect.thread(tid))
                c = self.count(tid)
                out.append((c, r[REG_PC], r[2]))
                if c >= k:
                    break
                stop = s.stepper.stepi(1)
                if stop.kind not in ("step", "breakpoint"):
                    raise DebugError(f"Cannot replay thread {tid}'s history ({stop.kind}).")
        finally:
            for n, was in saved.items():
                if n in s.bps:
                    s.bps[n].enabled = was
            s.sync_hooks()
        return out

    def _line(self, pc):
        row = self.s.prog.line_at(pc)
        return (row.file, row.line) if row is not None else None

    def step(self, over=False, w=400) -> Stop:
        """Back to the start of the previous source line the thread executed (the current
        line's start, if in its middle); with over, lines of called functions are skipped.
        A line's instructions are those of one function invocation (same function, stack
        pointer not below the line's): a callee's, or a deeper recursion's, are not."""
        ctx = self.begin()
        if "final" in ctx:
            return self._arrive(ctx["final"], ctx["tid"])
        h = self.history(ctx, w)
        fn = [self.s.prog.function_at(pc) for _, pc, _ in h]
        line = [self._line(pc) for _, pc, _ in h]

        def same(i, j):                     # entry i on the line of entry j, in j's invocation
            return line[i] == line[j] and fn[i] is fn[j] and h[i][2] >= h[j][2]

        def skip(i, j):                     # entry i is not a line to stop at, seen from j
            return line[i] is None or over and (fn[i] is not fn[j] or h[i][2] < h[j][2])

        last = len(h) - 1
        j = last
        while j > 0 and same(j - 1, last):
            j -= 1
        if j == last:                       # at a line's start: to the previous line
            j -= 1
            while j > 0 and skip(j, last):
                j -= 1
            ref = j
            while j > 0 and (same(j - 1, ref) or skip(j - 1, ref)):
                j -= 1
            while j < ref and skip(j, ref):
                j += 1
        if j < 0 or line[j] is None:
            raise DebugError("No more reverse-execution history.")
        ctx["final"] = self.moment_of(ctx["tid"], h[j][0], ctx["ref"])
        return self._arrive(ctx["final"], ctx["tid"])

    def finish(self, w=4000) -> Stop:
        """Back to the call of the selected frame's function, in its caller."""
        ctx = self.begin()
        if "final" in ctx:
            return self._arrive(ctx["final"], ctx["tid"])
        s = self.s
        fn = s.prog.function_at(s.regs(s.inspect.thread(ctx["tid"]))[REG_PC]) if "fn" not in ctx else None
        ctx.setdefault("fn", (fn.low, fn.name) if fn else None)
        if ctx["fn"] is None:
            raise DebugError("Cannot find the start of the current function.")
        low, name = ctx["fn"]
        h = self.history(ctx, w)
        sp_now = h[-1][2]
        for j in range(len(h) - 1, 0, -1):
            if h[j][1] == low and h[j][2] >= sp_now:
                ctx["final"] = self.moment_of(ctx["tid"], h[j - 1][0], ctx["ref"])
                return self._arrive(ctx["final"], ctx["tid"])
        raise DebugError(f"The call of {name} is more than {w} instructions back.")


def install(cli_class, commands, aliases, info):
    """Register the reverse commands on the CLI class (tools/debugger/commands.py)."""

    def _engine(self):
        s = self.s
        if getattr(s, "reverse", None) is None:
            s.reverse = Reverse(s)
        return s.reverse

    def _reverse(self, fn, *args, line=""):
        self.s.need_running()
        eng = _engine(self)
        eng.line = line
        if getattr(self, "reverse_mode", "fork") == "fork" and eng.timeline is None:
            from .checkpoints import split
            if split(self, line):
                return                          # a forked worker ran it (checkpoints.py)
        try:
            self._go(fn, *args)
        finally:
            eng.ctx, eng.resumed = {}, False

    forward_run = cli_class.cmd_run

    def cmd_run(self, fmt, arg):
        """With checkpoint_from_run (tools/debug.py) in the fork mode, the first run already
        splits the debugger (checkpoints.py): checkpoints and the threads' history from boot
        on, so the first reverse command need not run the program again."""
        if (getattr(self, "checkpoint_from_run", False) and getattr(self, "reverse_mode", "fork") == "fork"
                and _engine(self).timeline is None):
            from .checkpoints import split
            if split(self, f"run {arg}".rstrip()):
                return
        forward_run(self, fmt, arg)

    def cmd_reverse_stepi(self, fmt, arg):
        n = self._count(arg)
        _reverse(self, lambda: _engine(self).stepi(n), line=f"reverse-stepi {arg}")

    def cmd_reverse_continue(self, fmt, arg):
        n = self._count(arg)
        _reverse(self, lambda: _engine(self).continue_(n), line=f"reverse-continue {arg}")

    def cmd_reverse_step(self, fmt, arg):
        for _ in range(self._count(arg)):
            _reverse(self, lambda: _engine(self).step(False), line="reverse-step")

    def cmd_reverse_next(self, fmt, arg):
        for _ in range(self._count(arg)):
            _reverse(self, lambda: _engine(self).step(True), line="reverse-next")

    def cmd_reverse_finish(self, fmt, arg):
        if not getattr(_engine(self), "resumed", False):
            self.write("Run back to call of #0")
        _reverse(self, lambda: _engine(self).finish(), line="reverse-finish")

    def cmd_goto(self, fmt, arg):
        m = re.fullmatch(r"@(\d+):(\d+)", arg.strip())
        if m is None:
            raise DebugError("Usage: goto @HART:N (a moment, as info time shows it).")
        target = Moment(int(m.group(1)), int(m.group(2)))
        if target.hart >= self.s.opts["cpus"]:
            raise DebugError(f"No hart {target.hart}.")
        if not self.s.running:
            self.s.reverse = None
            eng = _engine(self)
            self.report(eng.goto(target))
            return
        _reverse(self, lambda: _engine(self).goto(target), line=f"goto {arg.strip()}")

    def info_time(self, arg=""):
        s = self.s
        s.need_running()
        eng = _engine(self)
        m = eng.now()
        hi = s.inspect.hart(m.hart)
        self.write(f"moment {m}: hart {m.hart} has retired {m.n} user instructions; its time is "
                   f"{hi.time} ns, the machine clock {s.machine.clock.now} ns")
        if eng.system is s.system and s.tid is not None:
            self.write(f"thread {s.tid} has retired {eng.count(s.tid)} user instructions")

    cli_class.cmd_run = cmd_run
    for name, fn in (("reverse-stepi", cmd_reverse_stepi), ("reverse-continue", cmd_reverse_continue),
                     ("reverse-step", cmd_reverse_step), ("reverse-next", cmd_reverse_next),
                     ("reverse-finish", cmd_reverse_finish), ("goto", cmd_goto)):
        setattr(cli_class, "cmd_" + name, fn)
        commands.append(name)
    cli_class.info_time = info_time
    aliases.update({"rsi": "reverse-stepi", "rc": "reverse-continue", "rs": "reverse-step", "rn": "reverse-next"})
    info["time"] = "time"
