"""Reporting what the machine did, gdb-style: stop messages, frame lines, source lines,
values, auto-displays, and the kernel events of a step."""
from kernel.inspect import CAUSE_NAMES, fault_signal

from .evaluate import Evaluator, Value
from .breakpoints import signal_name, syscall_name
from .program import DebugError
from .types import format_value


class Reporter:
    """Mixed into CLI: needs self.s (Session), self.write, self.displays."""

    # ---- reporting stops ----
    def frame_line(self, t, n, frames=None, force_addr=False):
        s = self.s
        frames = frames or s.frames(t)
        f = frames[n]
        pc = f["pc"]
        look = pc - 1 if n > 0 else pc
        fn = s.prog.function_at(look)
        row = s.prog.row_at(look)
        ev = Evaluator(s, t=t, frame_no=n)
        ev._frames = frames
        args = ""
        if fn is not None:
            parts = []
            for name, v in ev.variables(True):
                parts.append(f"{name}={self.fmt_value(v, top=False) if isinstance(v, Value) else self._err(v)}")
            args = ", ".join(parts)
        text = ""
        if force_addr or n > 0 or row is None or row[0] != pc:
            text = f"{pc:#018x} in "
        text += f"{fn.name if fn else '??'} ({args})"
        if row is not None:
            text += f" at {s.short(row[2])}:{row[3]}"
        return text

    @staticmethod
    def _err(text):
        return text if text.startswith("<") else f"<error: {text}>"

    def source_line(self, file, line):
        src = self.s.prog.source(file)
        if src is None or not 0 < line <= len(src):
            return f"{line}\tin {self.s.short(file)}"
        self.last_list = (file, line + 1)
        return f"{line}\t{src[line - 1]}"

    def show_location(self, t, with_frame=True, frames=None):
        s = self.s
        frames = frames or s.frames(t)
        f = frames[s.frame_no] if s.frame_no < len(frames) else frames[0]
        n = s.frame_no if s.frame_no < len(frames) else 0
        pc = f["pc"]
        row = s.prog.row_at(pc - 1 if n > 0 else pc)
        if with_frame:
            self.write(self.frame_line(t, n, frames))
        if row is not None:
            line = self.source_line(row[2], row[3])
            if not with_frame and row[0] != pc and n == 0:
                line = f"{pc:#018x}\t{line}"
            self.write(line)
        elif not with_frame:
            fn = s.prog.function_at(pc)
            self.write(f"{pc:#018x} in {fn.name if fn else '??'} ()")

    def report(self, stop, before=None) -> None:
        s = self.s
        for n in s.notices:
            self.write(n)
        s.notices = []
        self._step_events()
        k = stop.kind
        if k == "exited":
            st = s.main_status
            if st is None:
                self.write(f"[The machine halted with status {stop.detail.get('status')}]")
            elif st & 0x7F:
                self.write("The program no longer exists.")
            else:
                self.write(f"[Inferior 1 (process {s.main_pid}) exited "
                           + ("normally]" if not st >> 8 else f"with code {st >> 8:02o}]"))
            s.tid = None
            return
        t = s.inspect.thread(stop.tid) if s.running else None
        if t is None or not t.pid:
            if k == "catch":
                self.write("")
                self.write(f"Catchpoint {stop.bps[0].num} ({self.describe_event(stop.detail['event'])}), "
                           f"LWP {stop.tid} has exited")
            return
        multi = len(s.inspect.process(t.pid).threads) > 1 or len(s.inferiors) > 1
        if s.tid != t.tid and s.tid is not None:
            self.write(f"[Switching to thread {t.tid} (LWP {t.tid}, pid {t.pid})]")
        s.tid, s.frame_no = t.tid, 0
        if t.hart >= 0:
            s.hart = t.hart
        frames = s.frames(t)
        who = f"Thread {t.tid} hit " if multi else ""
        if k == "breakpoint":
            bp = stop.bps[0]
            word = "Temporary breakpoint" if bp.temp else "Breakpoint"
            self.write("")
            self.write(f"{who}{word} {bp.num}, " + self.frame_line(t, 0, frames))
            self._src_only(t, frames)
        elif k == "watchpoint":
            bp = stop.bps[0]
            ty = bp.watch[2]
            self.write("")
            self.write(f"{who}Hardware watchpoint {bp.num}: {bp.spec}")
            self.write("")
            old, new = stop.detail["old"], stop.detail["new"]
            def rd(a, n):
                return s.read(a, n, t)
            self.write(f"Old value = {format_value(ty, old, rd, s.prog.symbolize) if old else '<unreadable>'}")
            self.write(f"New value = {format_value(ty, new, rd, s.prog.symbolize) if new else '<unreadable>'}")
            self.show_location(t, True, frames)
        elif k == "catch":
            bp, ev = stop.bps[0], stop.detail["event"]
            what = self.describe_event(ev)
            if ev.kind == "syscall":
                ret = next((e for b, e in s.caught if e.kind == "sysret" and e.lwp == ev.lwp), None)
                what += f", returned {ret.detail.get('ret')}" if ret is not None else " (blocked in the kernel)"
            self.write("")
            self.write(f"{who}Catchpoint {bp.num} ({what}), " + self.frame_line(t, 0, frames, True))
            self._src_only(t, frames)
        elif k == "signal":
            d = stop.detail
            sig = fault_signal(d["cause"])
            self.write("")
            self.write(f"{who.replace(' hit ', ' received ') if who else 'Program received '}signal {signal_name(sig)}.")
            self.write(f"[{CAUSE_NAMES.get(d['cause'], 'trap')} at pc {d['pc']:#x}, address {d['addr']:#x}: "
                       "the kernel will send the signal when you continue]")
            self.show_location(t, True, frames)
        elif k == "interrupted":
            self.write("")
            self.write("Program received signal SIGINT, Interrupt.")
            self.show_location(t, True, frames)
        elif k == "finish":
            self.show_location(t, True, frames)
            f = stop.detail.get("func")
            if f is not None and f.die is not None:
                rt = s.prog.type(f.die)
                if rt.kind != "void":
                    a0 = s.regs(t)[10].to_bytes(8, "little")[:max(rt.size, 1)]
                    v = Value(rt, a0)
                    s.history.append(v)
                    self.write(f"Value returned is ${len(s.history)} = {self.fmt_value(v)}")
        else:       # step, until
            fn0 = before
            fn = s.prog.function_at(frames[0]["pc"])
            changed = fn0 is None or fn is None or fn.low != fn0[0] or frames[0].get(2, 0) > fn0[1]
            if k == "step" and stop.detail.get("insn"):
                changed = fn is None or fn0 is None or fn.low != fn0[0]
            self.show_location(t, changed, frames)
        self.do_displays()

    def _src_only(self, t, frames):
        row = self.s.prog.row_at(frames[0]["pc"])
        if row is not None:
            self.write(self.source_line(row[2], row[3]))

    def describe_event(self, ev):
        d = ev.detail
        k = ev.kind
        if k == "syscall":
            return f"call to syscall {d.get('name', syscall_name(d.get('nr', -1)))}"
        if k == "sysret":
            return f"returned from syscall {syscall_name(d.get('nr', -1))} = {d.get('ret')}"
        if k == "signal":
            return f"signal {signal_name(d.get('sig', 0))}"
        if k == "trap":
            return f"fault: {CAUSE_NAMES.get(d.get('cause'), 'trap')} at {d.get('epc', 0):#x}, address {d.get('tval', 0):#x}"
        if k == "pagefault":
            return f"page fault at {d['addr']:#x} ({d['access']}): " + ("resolved by the kernel" if d["ok"] else "not resolvable")
        if k == "switch":
            return f"context switch: LWP {ev.lwp} starts on hart {ev.hart}"
        if k == "off":
            return f"context switch: LWP {ev.lwp} leaves hart {ev.hart if ev.hart >= 0 else '?'} ({d.get('why')})"
        if k == "exec":
            return f"exec'd {d.get('path')}"
        if k == "fork":
            return f"fork, child process {d.get('child')}"
        if k == "sleep":
            return f"sleeps on {d.get('chan')}"
        if k == "wakeup":
            return f"woken from {d.get('chan')}"
        if k == "upcall":
            ids = ", ".join(str(i) for i in d.get("ids", []))
            return (f"upcall {d.get('type')}: {d.get('events')} event(s), {d.get('interrupted')} "
                    f"interrupted, activations {ids}")
        return f"{k} {d}"

    def _step_events(self):
        evs = self.s.stepper.events
        self.s.stepper.events = []
        for ev in evs:
            if ev.kind in ("sysret",):
                continue
            self.write(f"[kernel, {ev.time} ns, hart {ev.hart}: LWP {ev.lwp} {self.describe_event(ev)}]")

    def fmt_value(self, v: Value, fmt=None, top=True):
        s = self.s
        t = s.inspect.thread(s.tid) if s.alive(s.tid) else None
        read = (lambda a, n: s.read(a, n, t)) if t is not None else (lambda a, n: None)
        if v.type.kind == "func":
            sym = s.prog.symbolize(v.addr)
            return f"{{{v.type.name}}} {v.addr:#x}" + (f" <{sym}>" if sym else "")
        if v.data is None:
            raise DebugError(f"Cannot access memory at address {v.addr:#x}")
        if fmt and fmt not in "xduotcaz":
            raise DebugError(f"Undefined output format \"{fmt}\".")
        if fmt == "a" and v.type.scalar:
            x = int.from_bytes(v.data[:8], "little")
            sym = s.prog.symbolize(x)
            return f"{x:#x}" + (f" <{sym}>" if sym else "")
        return format_value(v.type, v.data, read, s.prog.symbolize, top, fmt or None)

    def do_displays(self):
        for n, (fmt, expr) in sorted(self.displays.items()):
            try:
                v = Evaluator(self.s).value(expr)
                text = self.fmt_value(v, fmt)
            except DebugError as e:
                if str(e).startswith("No symbol"):
                    continue              # out of the scope it was made in
                text = str(e)
            self.write(f"{n}: {'/' + fmt + ' ' if fmt else ''}{expr} = {text}")

    @property
    def _main_pid(self):
        return self.s.main_pid if self.s.main_pid is not None else "?"

