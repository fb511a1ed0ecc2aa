"""gdb's commands over a Session: parsing, short forms, and gdb-style output.

CLI.execute(line) runs one command and prints through CLI.write; a DebugError becomes
its one-line message, never a traceback.
"""
import os
import re

from emulator.hart import REG_PC
from kernel.inspect import UPCALL_TYPES

from . import views
from .core import Session
from .evaluate import Evaluator
from .info import INFO, InfoCommands
from .breakpoints import syscall_name
from .program import DebugError
from .help import help_text
from .report import Reporter

# short forms -> command
ALIASES = {"b": "break", "br": "break", "bre": "break", "brea": "break", "tb": "tbreak", "c": "continue",
           "cont": "continue", "fg": "continue", "n": "next", "s": "step", "si": "stepi", "ni": "nexti",
           "fin": "finish", "u": "until", "bt": "backtrace", "where": "backtrace", "f": "frame", "p": "print",
           "inspect": "print", "x": "x", "l": "list", "i": "info", "r": "run", "d": "delete", "q": "quit",
           "disas": "disassemble", "k": "kill", "h": "help", "dis": "disable", "disa": "disable", "en": "enable",
           "wa": "watch", "t": "thread", "exit": "quit", "adv": "advance", "disp": "display",
           "und": "undisplay"}
COMMANDS = ["advance", "backtrace", "break", "catch", "condition", "continue", "delete", "disable",
            "disassemble", "display", "down", "echo", "enable", "finish", "frame", "hart", "help", "ignore",
            "info", "kill", "list", "next", "nexti", "output", "print", "quit", "run", "set", "start", "step",
            "stepi", "tbreak", "thread", "undisplay", "until", "up", "watch", "x"]


class Quit(Exception):
    pass


def _number(arg: str) -> int:
    """A command's decimal count or level argument."""
    if not arg.strip().lstrip("-").isdigit():
        raise DebugError(f'Invalid number "{arg}".')
    return int(arg)


class CLI(Reporter, InfoCommands):
    def __init__(self, session: Session, write=None):
        self.s = session
        self.write = write or (lambda line: print(line, flush=True))
        session.out = self._program_output
        self.displays = {}                 # num -> (fmt, expr)
        self._dnum = 0
        self.last_x = ("x", 4, None)       # format, size, next address
        self.last_list = None              # (file, next line)
        self.last_command = ""

    def _program_output(self, text):
        for line in text.splitlines(True):
            self.write(line.rstrip("\n")) if line.endswith("\n") else self._partial(line)

    def _partial(self, text):
        self.write(text)

    # ---- the loop body ----
    def execute(self, line: str) -> None:
        """Run one command line; raises Quit for quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        m = re.match(r"([A-Za-z-]+|[!])(/\S*)?\s*(.*)$", line)
        if m is None:
            self.write(f'Undefined command: "{line}".  Try "help".')
            return
        word, fmt, arg = m.group(1), m.group(2), m.group(3)
        name = self.resolve(word)
        if name is None:
            self.write(f'Undefined command: "{word}".  Try "help".')
            return
        try:
            getattr(self, "cmd_" + name)((fmt or "")[1:], arg.strip())
        except DebugError as e:
            self.write(str(e))
        except Quit:
            raise
        except KeyboardInterrupt:
            self.write("Quit")
        except Exception as e:            # a debugger bug: one line, and the session goes on
            self.write(f"Internal error in \"{name}\": {type(e).__name__}: {e}")

    def resolve(self, word):
        if word in ALIASES:
            return ALIASES[word]
        if word in COMMANDS:
            return word
        cands = [c for c in COMMANDS if c.startswith(word)]
        return cands[0] if len(cands) == 1 else None

    def complete(self, text, line):
        """Completions of the word `text` in command line `line` (for readline)."""
        words = line.split()
        if len(words) <= 1 and not line.endswith(" "):
            return [c for c in COMMANDS if c.startswith(text)]
        cmd = self.resolve(words[0]) if words else None
        if cmd == "info":
            return [k for k in INFO if k.startswith(text) and len(k) > 2]
        if cmd == "catch" and len(words) >= 2 and words[1] == "upcall" and (len(words) > 2 or line.endswith(" ")):
            return [k for k in UPCALL_TYPES if k.startswith(text.upper())]
        if cmd == "catch":
            return [k for k in ("syscall", "signal", "fault", "switch", "exec", "fork", "upcall") if k.startswith(text)]
        if cmd == "help":
            return [c for c in COMMANDS if c.startswith(text)]
        names = [f.name for f in self.s.prog._index()] + self.s.prog.globals()
        return sorted({n for n in names if n.startswith(text)})[:200]

    # ---- running ----
    def _before(self):
        s = self.s
        if not s.alive(s.tid):
            return None
        t = s.inspect.thread(s.tid)
        fr = s.frames(t)
        fn = s.prog.function_at(fr[0]["pc"])
        return (fn.low, fr[0].get(2, 0)) if fn else None

    def _go(self, fn, *args):
        before = self._before()
        stop = fn(*args)
        self.report(stop, before)

    def cmd_run(self, fmt, arg):
        s = self.s
        if arg:
            s.args = arg.split()
        self.write(f"Starting program: /bin/{os.path.basename(s.program)} {' '.join(s.args)}".rstrip())
        s.boot()
        self._run_until_user()

    def _run_until_user(self):
        s = self.s
        while True:
            reasons = s.resume()
            stop = s.user_stop(reasons)
            if stop is not None:
                self.report(stop)
                return

    def cmd_start(self, fmt, arg):
        self.s.break_at("main", temp=True)
        self.write(f"Temporary breakpoint {self.s._num} at {self.s.bps[self.s._num].addrs[0]:#x}: "
                   f"file {self._bp_file(self.s.bps[self.s._num])}.")
        self.cmd_run(fmt, arg)

    def cmd_continue(self, fmt, arg):
        s = self.s
        s.need_running()
        if arg:
            n = _number(arg)
            stop_bp = [bp for bp in s.bps.values() if bp.hits and bp.kind == "breakpoint"]
            if stop_bp:
                stop_bp[-1].ignore = n - 1
                self.write(f"Will ignore next {n - 1} crossings of breakpoint {stop_bp[-1].num}.  Continuing.")
        else:
            self.write("Continuing.")
        self._run_until_user()

    def _count(self, arg):
        if not arg:
            return 1
        try:
            return Evaluator(self.s, allow_no_thread=True).value(arg).int
        except DebugError:
            raise DebugError(f"Invalid number \"{arg}\".") from None

    def cmd_step(self, fmt, arg):
        self.s.need_running()
        self._go(self.s.stepper.step, self._count(arg), False)

    def cmd_next(self, fmt, arg):
        self.s.need_running()
        self._go(self.s.stepper.step, self._count(arg), True)

    def cmd_stepi(self, fmt, arg):
        self.s.need_running()
        self._go(self._insn_step, self._count(arg), False)

    def cmd_nexti(self, fmt, arg):
        self.s.need_running()
        self._go(self._insn_step, self._count(arg), True)

    def _insn_step(self, n, over):
        stop = self.s.stepper.stepi(n, over)
        if stop.kind == "step":
            stop = stop._replace(detail={"insn": True})
        return stop

    def cmd_finish(self, fmt, arg):
        s = self.s
        t = s.thread()
        frames = s.frames(t)
        if s.frame_no + 1 < len(frames):
            self.write(f"Run till exit from #{s.frame_no}  {self.frame_line(t, s.frame_no, frames)}")
        self._go(s.stepper.finish, s.frame_no)

    def cmd_until(self, fmt, arg):
        s = self.s
        s.need_running()
        if arg:
            self._go(s.stepper.until, arg)
        else:
            self._go(s.stepper.step, 1, True, True)

    def cmd_advance(self, fmt, arg):
        if not arg:
            raise DebugError("Argument required (a location).")
        self.cmd_until(fmt, arg)

    def cmd_kill(self, fmt, arg):
        self.s.need_running()
        self.s.kill()
        self.write("[Inferior 1 (process %s) killed]" % self._main_pid)

    def cmd_quit(self, fmt, arg):
        raise Quit()

    # ---- breakpoints ----
    def _bp_file(self, bp):
        row = self.s.prog.line_at(bp.addrs[0])
        return f"{self.s.short(row.file)}, line {row.line}" if row else "??"

    def cmd_break(self, fmt, arg, temp=False):
        s = self.s
        cond = None
        m = re.match(r"(.*?)\s+if\s+(.*)$", arg) or (re.match(r"()if\s+(.*)$", arg) if arg.startswith("if") else None)
        if m:
            arg, cond = m.group(1).strip(), m.group(2).strip()
        if not arg:
            if not s.running or s.tid is None:
                raise DebugError("No default breakpoint location now selected.")
            arg = f"*{Evaluator(s).frame()['pc']:#x}"
        bp = s.break_at(arg, cond, temp)
        word = "Temporary breakpoint" if temp else "Breakpoint"
        if len(bp.addrs) == 1:
            self.write(f"{word} {bp.num} at {bp.addrs[0]:#x}: file {self._bp_file(bp)}."
                       if s.prog.line_at(bp.addrs[0]) else f"{word} {bp.num} at {bp.addrs[0]:#x}")
        else:
            self.write(f"{word} {bp.num} at {bp.where} ({len(bp.addrs)} locations)")

    def cmd_tbreak(self, fmt, arg):
        self.cmd_break(fmt, arg, temp=True)

    def _nums(self, arg):
        try:
            return [int(x) for x in arg.split()]
        except ValueError:
            raise DebugError(f"Convenience variable must have integer value.\nBad breakpoint argument: '{arg}'") from None

    def cmd_delete(self, fmt, arg):
        words = arg.split()
        if words and words[0] in ("breakpoints", "display"):
            if words[0] == "display":
                return self.cmd_undisplay("", " ".join(words[1:]))
            words = words[1:]
        self.s.delete(self._nums(" ".join(words)))

    def cmd_disable(self, fmt, arg):
        self.s.enable(self._nums(arg), False)

    def cmd_enable(self, fmt, arg):
        self.s.enable(self._nums(arg), True)

    def cmd_condition(self, fmt, arg):
        parts = arg.split(None, 1)
        if not parts:
            raise DebugError("Argument required (breakpoint number).")
        bp = self.s.bps.get(int(parts[0])) if parts[0].isdigit() else None
        if bp is None:
            raise DebugError(f"No breakpoint number {parts[0]}.")
        cond = parts[1] if len(parts) > 1 else None
        if cond is not None:
            pc = bp.addrs[0] if bp.kind == "breakpoint" else (
                self.s.regs(self.s.thread())[REG_PC] if self.s.alive(self.s.tid) else None)
            self.s.check_condition(cond, pc)
        bp.cond = cond
        if bp.cond is None:
            self.write(f"Breakpoint {bp.num} now unconditional.")

    def cmd_ignore(self, fmt, arg):
        parts = arg.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) not in self.s.bps:
            raise DebugError("Argument required (a breakpoint number and a count).")
        self.s.bps[int(parts[0])].ignore = int(parts[1])
        self.write(f"Will ignore next {parts[1]} crossings of breakpoint {parts[0]}.")

    def cmd_watch(self, fmt, arg):
        if not arg:
            raise DebugError("Argument required (expression to compute).")
        cond = None
        m = re.match(r"(.*?)\s+if\s+(.*)$", arg)
        if m:
            arg, cond = m.group(1).strip(), m.group(2).strip()
        bp = self.s.watch_expr(arg, cond)
        self.write(f"Hardware watchpoint {bp.num}: {arg}")

    def cmd_catch(self, fmt, arg):
        words = arg.split()
        if not words:
            raise DebugError("Catch requires an event name (syscall, signal, fault, switch, exec, fork, upcall).")
        bp = self.s.catch(words[0], words[1:])
        kind, filt = bp.catch
        if kind == "syscall":
            what = "syscall" + (" " + " ".join(f"'{syscall_name(n)}' [{n}]" for n in sorted(filt)) if filt else "")
        elif kind == "upcall":
            what = "upcall" + (" " + " ".join(sorted(filt)) if filt else "")
        else:
            what = bp.spec
        self.write(f"Catchpoint {bp.num} ({what})")

    # ---- stack ----
    def cmd_backtrace(self, fmt, arg):
        s = self.s
        t = s.thread()
        frames = s.frames(t)
        n = int(arg) if arg.lstrip("-").isdigit() else len(frames)
        for i, _f in enumerate(frames[:n]):
            self.write(f"#{i:<2} {self.frame_line(t, i, frames)}")
        if n < len(frames):
            self.write("(More stack frames follow...)")

    def cmd_frame(self, fmt, arg):
        s = self.s
        t = s.thread()
        frames = s.frames(t)
        if arg:
            if not arg.isdigit() or int(arg) >= len(frames):
                raise DebugError("No frame at level %s." % arg)
            s.frame_no = int(arg)
        n = s.frame_no if s.frame_no < len(frames) else 0
        self.write(f"#{n:<2} {self.frame_line(t, n, frames)}")
        row = s.prog.row_at(frames[n]["pc"] - (1 if n else 0))
        if row:
            self.write(self.source_line(row[2], row[3]))

    def cmd_up(self, fmt, arg):
        s = self.s
        frames = s.frames(s.thread())
        n = s.frame_no + (_number(arg) if arg else 1)
        if n >= len(frames):
            raise DebugError("Initial frame selected; you cannot go up.")
        self.cmd_frame("", str(n))

    def cmd_down(self, fmt, arg):
        n = self.s.frame_no - (_number(arg) if arg else 1)
        if n < 0:
            raise DebugError("Bottom (innermost) frame selected; you cannot go down.")
        self.cmd_frame("", str(n))

    # ---- data ----
    def cmd_print(self, fmt, arg):
        s = self.s
        if not arg:
            arg = "$"
        v = Evaluator(s, allow_no_thread=not s.running).value(arg)
        if v.data is None and v.type.kind != "func":
            raise DebugError("The program is not being run." if not s.running else "Cannot access memory")
        s.history.append(v)
        self.write(f"${len(s.history)} = {self.fmt_value(v, fmt or None)}")

    def cmd_output(self, fmt, arg):
        v = Evaluator(self.s).value(arg)
        self.write(self.fmt_value(v, fmt or None))

    def cmd_set(self, fmt, arg):
        words = arg.split(None, 1)
        if words and words[0] in ("var", "variable"):
            arg = words[1] if len(words) > 1 else ""
        elif words and words[0] in ("confirm", "pagination", "width", "height", "listsize", "print"):
            return
        m = re.match(r"\$([A-Za-z_]\w*)\s*=\s*(.+)$", arg)
        if m and m.group(1) not in views.__dict__.get("_none", ()) and not self._is_reg(m.group(1)):
            self.s.convenience[m.group(1)] = Evaluator(self.s, allow_no_thread=True).value(m.group(2))
            return
        if "=" not in arg:
            raise DebugError("A syntax error in expression: set var NAME = VALUE")
        Evaluator(self.s).value(arg)

    def _is_reg(self, name):
        from .evaluate import REGS
        return name in REGS or name == "pc"

    def cmd_display(self, fmt, arg):
        if not arg:
            self.do_displays()
            return
        self._dnum += 1
        self.displays[self._dnum] = (fmt, arg)
        if self.s.running and self.s.tid is not None:
            try:
                text = self.fmt_value(Evaluator(self.s).value(arg), fmt or None)
            except DebugError as e:
                text = str(e)
            self.write(f"{self._dnum}: {'/' + fmt + ' ' if fmt else ''}{arg} = {text}")

    def cmd_undisplay(self, fmt, arg):
        if not arg:
            self.displays.clear()
            return
        for n in self._nums(arg):
            if self.displays.pop(n, None) is None:
                raise DebugError(f"No display number {n}.")

    def cmd_x(self, fmt, arg):
        s = self.s
        f0, size0, nxt = self.last_x
        m = re.match(r"(\d*)([xduotacfsiz]?)([bhwg]?)([xduotacfsiz]?)$", fmt)
        if m is None:
            raise DebugError(f"Invalid number \"{fmt}\".")
        count = int(m.group(1) or 1)
        f = m.group(2) or m.group(4) or f0
        size = {"b": 1, "h": 2, "w": 4, "g": 8}.get(m.group(3), size0 if f == f0 or m.group(3) else 4)
        if f == "a":
            size = 8
        if f == "c" and not m.group(3):
            size = 1
        if arg:
            v = Evaluator(s, allow_no_thread=not s.running).value(arg)
            addr = v.addr if v.type.kind in ("array", "func") else v.int
        elif nxt is not None:
            addr = nxt
        else:
            raise DebugError("Argument required (starting display address).")
        lines, nxt = views.examine(s, f, count, size, addr)
        for line in lines:
            self.write(line)
        self.last_x = (f, size, nxt)

    def cmd_disassemble(self, fmt, arg):
        for line in views.disassemble(self.s, arg):
            self.write(line)

    def cmd_list(self, fmt, arg):
        s, p = self.s, self.s.prog
        if arg:
            if arg.lstrip("-").isdigit():
                file, center = s.default_file() if self.last_list is None else self.last_list[0], int(arg)
            else:
                addrs, _ = s.resolve_location(arg)
                row = p.line_at(addrs[0])
                if row is None:
                    raise DebugError(f"No line number information available for {arg}.")
                file, center = row.file, row.line
                if p.function(arg) is not None:
                    fn = p.function(arg)
                    r0 = p.line_at(fn.low)
                    center = r0.line if r0 else center
            first = max(1, center - 5)
        elif self.last_list is not None and self.last_command == "list":
            file, first = self.last_list
        else:
            if s.alive(s.tid):
                pc = Evaluator(s).lookup_pc()
                row = p.line_at(pc)
                fn = p.function_at(pc)
                if row is None and fn is not None:    # code of line 0: list its function
                    row = p.line_at(fn.low)
            else:
                fn = p.function("main")
                row = p.line_at(fn.low) if fn else None
            if row is None:
                raise DebugError("No symbol table is loaded.")
            file, first = row.file, max(1, row.line - 5)
        src = p.source(file)
        if src is None:
            raise DebugError(f"{first}\tin {s.short(file)}")
        if first > len(src):
            raise DebugError(f"Line number {first} out of range; \"{s.short(file)}\" has {len(src)} lines.")
        for ln in range(first, min(first + 10, len(src) + 1)):
            self.write(f"{ln}\t{src[ln - 1]}")
        self.last_list = (file, min(first + 10, len(src) + 1))

    # ---- misc ----
    def cmd_echo(self, fmt, arg):
        text = arg.replace("\\n", "\n").replace("\\t", "\t")
        self.write(text.rstrip("\n")) if text.endswith("\n") else self._partial(text)

    def cmd_help(self, fmt, arg):
        if arg:
            for line in help_text(arg.split()[0], self.resolve):
                self.write(line)
            return
        self.write("Commands (gdb names and short forms): " + ", ".join(COMMANDS))
        self.write("info: " + ", ".join(sorted(set(INFO.values()))))
        self.write("The machine: info harts, hart N, info procs, info threads, thread N, info vm [ADDR], "
                   "info clock, info uthreads, info activations.")
        self.write("Catchpoints: catch syscall [NAME|NR]..., catch signal [SIG], catch fault, catch switch, "
                   "catch exec, catch fork, catch upcall [TYPE].  See docs/debugger.md.")
