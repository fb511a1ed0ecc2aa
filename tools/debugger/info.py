"""The info subcommands and the machine's commands (hart N, thread N) of the CLI."""
import re

from . import views
from .evaluate import Evaluator, Value
from .program import DebugError

INFO = {"registers": "registers", "r": "registers", "reg": "registers", "all-registers": "registers",
        "breakpoints": "breakpoints", "b": "breakpoints", "break": "breakpoints", "watchpoints": "breakpoints",
        "symbols": "symbols", "symbol": "symbol", "frame": "frame", "f": "frame", "locals": "locals",
        "args": "args", "functions": "functions", "variables": "variables", "display": "display",
        "harts": "harts", "procs": "procs", "threads": "threads", "uthreads": "uthreads",
        "activations": "activations", "vm": "vm", "clock": "clock", "source": "source", "line": "line",
        "inferiors": "procs", "program": "program"}


class InfoCommands:
    """Mixed into CLI: needs self.s (Session), self.write and the Reporter methods."""

    # ---- info ----
    def cmd_info(self, fmt, arg):
        words = arg.split(None, 1)
        if not words:
            raise DebugError('List of info subcommands: ' + ", ".join(sorted(set(INFO.values()))))
        sub = INFO.get(words[0]) or next((v for k, v in INFO.items() if k.startswith(words[0]) and len(words[0]) > 1), None)
        if sub is None:
            raise DebugError(f'Undefined info command: "{words[0]}".  Try "help info".')
        rest = words[1] if len(words) > 1 else ""
        getattr(self, "info_" + sub)(rest)

    def info_registers(self, rest):
        for line in views.info_registers(self.s, rest.split()):
            self.write(line)

    def info_breakpoints(self, rest):
        s = self.s
        if not s.bps:
            self.write("No breakpoints or watchpoints.")
            return
        self.write("Num     Type           Disp Enb Address            What")
        for bp in s.bps.values():
            disp = "del " if bp.temp else "keep"
            enb = "y" if bp.enabled else "n"
            if bp.kind == "breakpoint":
                addr = f"{bp.addrs[0]:#018x}" if len(bp.addrs) == 1 else "<MULTIPLE>        "
                self.write(f"{bp.num:<7} breakpoint     {disp} {enb}   {addr} {bp.where}")
            elif bp.kind == "watchpoint":
                self.write(f"{bp.num:<7} hw watchpoint  {disp} {enb}                      {bp.spec}")
            else:
                self.write(f"{bp.num:<7} catchpoint     {disp} {enb}                      {bp.spec}")
            if bp.cond:
                self.write(f"\tstop only if {bp.cond}")
            if bp.hits:
                self.write(f"\tbreakpoint already hit {bp.hits} time{'s' if bp.hits > 1 else ''}")
            if bp.ignore:
                self.write(f"\tWill ignore next {bp.ignore} crossings of breakpoint.")

    def info_symbols(self, rest):
        pat = re.compile(rest) if rest else None
        for lo, hi, name, kind in self.s.prog.symbol_table():
            if pat is None or pat.search(name):
                self.write(f"{lo:#018x} {hi - lo:6} {'function' if kind == 'STT_FUNC' else 'object  '} {name}")

    def info_symbol(self, rest):
        if not rest:
            raise DebugError("Argument required (address).")
        addr = Evaluator(self.s, allow_no_thread=True).value(rest).int
        sym = self.s.prog.symbolize(addr)
        if sym is None:
            self.write(f"No symbol matches {rest}.")
            return
        name, _, off = sym.partition("+")
        self.write(f"{name}{' + ' + off if off else ''} in section {self.s.prog.section_name(addr) or '??'}")

    def info_functions(self, rest):
        pat = re.compile(rest) if rest else None
        for f in self.s.prog._index():
            if pat is None or pat.search(f.name):
                self.write(f"{f.low:#018x}  {f.name}")

    def info_variables(self, rest):
        pat = re.compile(rest) if rest else None
        for name in self.s.prog.globals():
            if pat is None or pat.search(name):
                v = self.s.prog.global_var(name)
                self.write(f"{v.type.name} {name};")

    def _vars(self, params):
        ev = Evaluator(self.s)
        out = ev.variables(params)
        if not out:
            self.write("No arguments." if params else "No locals.")
        for name, v in out:
            self.write(f"{name} = {self.fmt_value(v) if isinstance(v, Value) else v}")

    def info_locals(self, rest):
        self._vars(False)

    def info_args(self, rest):
        self._vars(True)

    def info_frame(self, rest):
        s = self.s
        t = s.thread()
        frames = s.frames(t)
        n = s.frame_no if s.frame_no < len(frames) else 0
        f = frames[n]
        ev = Evaluator(s, t=t, frame_no=n)
        ev._frames = frames
        try:
            cfa = ev.cfa()
        except DebugError:
            cfa = f.get(2, 0)
        fn = s.prog.function_at(ev.lookup_pc())
        row = s.prog.line_at(ev.lookup_pc())
        where = f" in {fn.name}" if fn else ""
        where += f" ({s.short(row.file)}:{row.line})" if row else ""
        self.write(f"Stack level {n}, frame at {cfa:#x}:")
        saved = f" saved pc = {frames[n + 1]['pc']:#x}" if n + 1 < len(frames) else ""
        self.write(f" pc = {f['pc']:#x}{where};{saved}")
        for other, word in ((n + 1, "called by"), (n - 1, "caller of")):
            if 0 <= other < len(frames):
                e2 = Evaluator(s, t=t, frame_no=other)
                e2._frames = frames
                try:
                    self.write(f" {word} frame at {e2.cfa():#x}")
                except DebugError:
                    pass
        self.write(" source language c.")
        args = ", ".join(f"{a}={self.fmt_value(v, top=False) if isinstance(v, Value) else v}" for a, v in ev.variables(True))
        self.write(f" Arglist at {cfa:#x}, args: {args}")
        self.write(f" Locals at {cfa:#x}, Previous frame's sp is {cfa:#x}")
        row2 = s.prog.cfa_rule(ev.lookup_pc())
        if row2 is not None:
            from .program import REG_NAMES
            regs = [f"{REG_NAMES[r]} at {cfa + rule.arg:#x}" for r, rule in sorted(
                (k, v) for k, v in row2.items() if isinstance(k, int)) if rule.type == "OFFSET"]
            if regs:
                self.write(" Saved registers:")
                self.write("  " + ", ".join(regs))

    def info_display(self, rest):
        if not self.displays:
            self.write("There are no auto-display expressions now.")
            return
        self.write("Auto-display expressions now in effect:\nNum Enb Expression")
        for n, (fmt, expr) in sorted(self.displays.items()):
            self.write(f"{n}:   y  {'/' + fmt + ' ' if fmt else ''}{expr}")

    def info_source(self, rest):
        row = self.s.prog.line_at(Evaluator(self.s).lookup_pc())
        if row is None:
            raise DebugError("No current source file.")
        self.write(f"Current source file is {self.s.short(row.file)}\nSource language is c.")

    def info_line(self, rest):
        s = self.s
        addrs, _ = s.resolve_location(rest) if rest else ([Evaluator(s).lookup_pc()], "")
        r = s.prog.row_at(addrs[0])
        if r is None:
            raise DebugError(f"No line number information available for address {addrs[0]:#x}")
        self.write(f"Line {r[3]} of \"{s.short(r[2])}\" starts at address {r[0]:#x} <{s.prog.symbolize(r[0])}> "
                   f"and ends at {r[1]:#x} <{s.prog.symbolize(r[1])}>.")

    def info_program(self, rest):
        s = self.s
        s.need_running()
        self.write(f"\tUsing the running image of child process {self._main_pid}.")
        self.write(f"Program stopped at {Evaluator(s).frame()['pc']:#x}." if s.tid else "Program is running.")

    def info_harts(self, rest):
        for line in views.info_harts(self.s):
            self.write(line)

    def info_procs(self, rest):
        for line in views.info_procs(self.s):
            self.write(line)

    def info_threads(self, rest):
        for line in views.info_threads(self.s, lambda t, n: self.frame_line(t, n)):
            self.write(line)

    def info_uthreads(self, rest):
        for line in views.info_uthreads(self.s, lambda t, n: self.frame_line(t, n)):
            self.write(line)

    def info_activations(self, rest):
        for line in views.info_activations(self.s):
            self.write(line)

    def info_vm(self, rest):
        addr = Evaluator(self.s).value(rest).int if rest else None
        for line in views.info_vm(self.s, addr):
            self.write(line)

    def info_clock(self, rest):
        for line in views.info_clock(self.s):
            self.write(line)

    # ---- the machine ----
    def cmd_hart(self, fmt, arg):
        s = self.s
        if not arg:
            s.need_running()
            self.write(f"[Current hart is {s.hart}]")
            return
        if not arg.isdigit():
            raise DebugError(f"Invalid hart number '{arg}'.")
        for line in views.select_hart(s, int(arg)):
            self.write(line)
        t = s.on_hart(int(arg))
        if t is not None and t.pid in s.inferiors:
            self.write(f"#0  {self.frame_line(t, 0)}")

    def cmd_thread(self, fmt, arg):
        s = self.s
        if not arg:
            s.thread()
            self.write(f"[Current thread is {s.tid} (LWP {s.tid})]")
            return
        if not arg.isdigit():
            raise DebugError(f"Invalid thread ID: {arg}")
        for line in views.select_thread(s, int(arg)):
            self.write(line)
        t = s.thread()
        self.write(f"#0  {self.frame_line(t, 0)}")

