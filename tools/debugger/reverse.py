"""Reverse execution for the debugger (docs/debugger.md, "Going backwards").

The machine is deterministic, so an earlier moment is reached again by re-running from
boot to it: the engine boots a fresh machine with the session's options (same seed, same
files, the same schedule) and runs it, with the user's breakpoints off, until the moment.

A moment is (hart, n): the pause after that hart has retired n user instructions. A pause
cuts the interleaving at one hart's instruction boundary, and the run up to it is the
same whatever paused it, so the moment names one machine state. While it runs, the engine
follows the kernel's switch/off events to know, for every thread, which of its
instructions ran where (its stretches); "the selected thread's k-th instruction" then
becomes a moment. A machine the engine did not boot (the first `run`) is re-run once, up
to the current moment, to learn its stretches.

Contracts:
- Only the public Session API (boot, resume, user_stop, sync_hooks) and the emulator's
  Hart.set_step drive the machine; the kernel is read through the inspection API.
- A goto ends in a Stop of kind "step" (or "exited" if the run ended first); breakpoints
  and watchpoints are the user's again afterwards, watchpoints holding the value at the
  new moment. Writes the user made (set var) are not replayed: going back undoes them.
"""
from typing import NamedTuple

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
        self.quiet = True                   # the replay's console output was shown before
        s.boot()
        self.system = s.system
        self.stretches, self.open = {}, {}
        s.inspect.subscribe(self._on_event)

    def count(self, tid) -> int:
        """User instructions thread tid has retired (the engine follows this machine)."""
        st = self.stretches.get(tid)
        if not st:
            return 0
        h, n0, c0, n1 = st[-1]
        return c0 + ((n1 if n1 is not None else self.s.inspect.hart(h).instret) - n0)

    def moment_of(self, tid, k) -> Moment:
        """The moment after thread tid retired its k-th instruction (k >= 1)."""
        for h, n0, c0, n1 in reversed(self.stretches.get(tid, [])):
            if c0 < k:
                return Moment(h, n0 + k - c0)
        raise DebugError("Already at the start of the thread's history.")

    def now(self) -> Moment:
        """The current moment: at the selected hart (the selected thread's, if it runs)."""
        s = self.s
        s.need_running()
        t = s.inspect.thread(s.tid) if s.tid is not None else None
        hid = t.hart if t is not None and t.hart >= 0 else s.hart
        return Moment(hid, s.inspect.hart(hid).instret)

    def learn(self) -> None:
        """Know the stretches of the current machine: re-run it to the current moment."""
        if self.system is not self.s.system:
            m, tid, hart = self.now(), self.s.tid, self.s.hart
            self.goto(m, user_stops=False)
            self.s.tid, self.s.hart = tid, hart

    # ---- going to a moment ----
    def goto(self, m: Moment, user_stops=False, on_stop=None) -> Stop:
        """Re-run from boot to moment m. With user_stops, each breakpoint or watchpoint
        stop on the way calls on_stop(moment, stop) and the run goes on."""
        s = self.s
        saved = {n: bp.enabled for n, bp in s.bps.items()}
        if not user_stops:
            for bp in s.bps.values():
                bp.enabled = False
        try:
            self._boot()
            notices = len(s.notices)
            while True:
                left = m.n - s.inspect.hart(m.hart).instret
                if left <= 0:
                    break
                s.machine.harts[m.hart].set_step(left)
                reasons = s.resume()
                s.machine.harts[m.hart].set_step(None)
                if any(r[0] == "hart" and r[1] == m.hart and r[2].kind == "step" for r in reasons):
                    continue
                stop = s.user_stop(reasons)
                if stop is not None and stop.kind == "exited":
                    return stop
                if stop is not None and on_stop is not None:
                    t = s.inspect.thread(stop.tid)
                    hid = t.hart if t is not None and t.hart >= 0 else next(r[1] for r in reasons if r[0] == "hart")
                    on_stop(self.now_at(hid), stop)
            del s.notices[notices:]
        finally:
            self.quiet = False
            for n, was in saved.items():
                if n in s.bps:
                    s.bps[n].enabled = was
            if s.machine is not None:
                s.sync_hooks()
        for bp in s.bps.values():
            if bp.kind == "watchpoint" and s.tid is not None:
                try:
                    bp.old = s.read(bp.watch[0], bp.watch[1], s.thread())
                except DebugError:
                    pass
        tid = s.inspect.current(m.hart)
        s.hart = m.hart
        if tid > 0 and s.inspect.thread(tid).pid in s.inferiors:
            s.tid = tid
        return Stop("step", s.tid or 0, (), {"insn": True})

    def now_at(self, hid) -> Moment:
        return Moment(hid, self.s.inspect.hart(hid).instret)

    # ---- the reverse commands ----
    def stepi(self, n=1) -> Stop:
        """Back n instructions of the selected thread."""
        self.learn()
        tid = self.s.thread().tid
        k = self.count(tid) - n
        if k < 1:
            raise DebugError("No more reverse-execution history.")
        stop = self.goto(self.moment_of(tid, k))
        self.s.tid = tid
        return stop._replace(tid=tid)

    def continue_(self) -> Stop:
        """Back to the last breakpoint or watchpoint stop before now (or the start)."""
        self.learn()
        here, tid = self.now(), self.s.tid
        hits = []
        self.goto(here, user_stops=True, on_stop=lambda m, stop: hits.append((m, stop)))
        before = [(m, stop) for m, stop in hits if m != here]
        if not before:
            self.s.tid = tid
            raise DebugError("No more reverse-execution history.")
        m, stop = before[-1]
        self.goto(m)
        if stop.kind == "watchpoint":
            stop.bps[0].old = stop.detail["new"]
        self.s.tid = stop.tid
        return stop


    # ---- source-level steps back: from the thread's last instructions ----
    def history(self, tid, w):
        """[(k, pc, sp)] for thread tid's last w instructions and now: k instructions
        retired, pc and sp then. Re-runs to w back and steps forward one at a time."""
        from emulator.hart import REG_PC
        s = self.s
        k = self.count(tid)
        start = max(1, k - w)
        if start >= k:
            raise DebugError("No more reverse-execution history.")
        saved = {n: bp.enabled for n, bp in s.bps.items()}
        self.goto(self.moment_of(tid, start))
        s.tid = tid
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
        self.learn()
        tid = self.s.thread().tid
        h = self.history(tid, w)
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
        stop = self.goto(self.moment_of(tid, h[j][0]))
        self.s.tid = tid
        return stop._replace(tid=tid, detail={})

    def finish(self, w=4000) -> Stop:
        """Back to the call of the selected frame's function, in its caller."""
        self.learn()
        s = self.s
        t = s.thread()
        fn = s.prog.function_at(self._pc(t.tid))
        if fn is None:
            raise DebugError("Cannot find the start of the current function.")
        h = self.history(t.tid, w)
        sp_now = h[-1][2]
        for j in range(len(h) - 1, -1, -1):
            if h[j][1] == fn.low and h[j][2] >= sp_now:
                if j == 0:
                    break
                stop = self.goto(self.moment_of(t.tid, h[j - 1][0]))
                s.tid = t.tid
                return stop._replace(tid=t.tid, detail={})
        raise DebugError(f"The call of {fn.name} is more than {w} instructions back.")

    def _pc(self, tid):
        from emulator.hart import REG_PC
        return self.s.regs(self.s.inspect.thread(tid))[REG_PC]


def install(cli_class, commands, aliases, info):
    """Register the reverse commands on the CLI class (tools/debugger/commands.py)."""

    def _engine(self):
        if getattr(self.s, "reverse", None) is None:
            self.s.reverse = Reverse(self.s)
        return self.s.reverse

    def cmd_reverse_stepi(self, fmt, arg):
        self.s.need_running()
        self._go(_engine(self).stepi, self._count(arg))

    def cmd_reverse_continue(self, fmt, arg):
        self.s.need_running()
        self._go(_engine(self).continue_)

    def cmd_reverse_step(self, fmt, arg):
        self.s.need_running()
        for _ in range(self._count(arg)):
            self._go(_engine(self).step, False)

    def cmd_reverse_next(self, fmt, arg):
        self.s.need_running()
        for _ in range(self._count(arg)):
            self._go(_engine(self).step, True)

    def cmd_reverse_finish(self, fmt, arg):
        self.s.need_running()
        self.write("Run back to call of #0")
        self._go(_engine(self).finish)

    def cmd_goto(self, fmt, arg):
        eng = _engine(self)
        arg = arg.strip()
        if arg.startswith("@") and ":" in arg:
            h, n = arg[1:].split(":", 1)
            m = Moment(int(h), int(n))
        else:
            raise DebugError("Usage: goto @HART:N (a moment, as info time shows it).")
        if m.hart >= self.s.opts["cpus"]:
            raise DebugError(f"No hart {m.hart}.")
        self.report(eng.goto(m))

    def cmd_info_time(self, arg=""):
        s = self.s
        s.need_running()
        eng = _engine(self)
        m = eng.now()
        hi = s.inspect.hart(m.hart)
        self.write(f"moment {m}: hart {m.hart} has retired {m.n} user instructions; its time is "
                   f"{hi.time} ns, the machine clock {s.machine.clock.now} ns")
        if eng.system is s.system and s.tid is not None:
            self.write(f"thread {s.tid} has retired {eng.count(s.tid)} user instructions")

    setattr(cli_class, "cmd_reverse-stepi", cmd_reverse_stepi)
    setattr(cli_class, "cmd_reverse-continue", cmd_reverse_continue)
    setattr(cli_class, "cmd_goto", cmd_goto)
    setattr(cli_class, "cmd_reverse-step", cmd_reverse_step)
    setattr(cli_class, "cmd_reverse-next", cmd_reverse_next)
    setattr(cli_class, "cmd_reverse-finish", cmd_reverse_finish)
    cli_class.info_time = cmd_info_time
    commands.extend(["goto", "reverse-continue", "reverse-finish", "reverse-next", "reverse-step", "reverse-stepi"])
    aliases.update({"rsi": "reverse-stepi", "rc": "reverse-continue", "rs": "reverse-step", "rn": "reverse-next"})
    info["time"] = "time"
