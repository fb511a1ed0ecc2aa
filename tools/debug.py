"""python -m tools.debug [run options] [--batch] [-x FILE] [-ex CMD]... PROGRAM [ARGS...]

A gdb-like debugger for guest programs on the emulated machine (docs/debugger.md). The
run options are tools.run's: the same seed gives the same machine and the same session.
With --batch the commands of -x FILE and -ex CMD (in order) run and the debugger exits;
otherwise a REPL follows them (readline history and completion). The Python API is
tools.debugger.Session (the machine) and tools.debugger.CLI (the commands).
"""
import argparse
import os
import signal
import sys

from tools.debugger import CLI, DebugError, Quit, Session
from kernel.boot import check_costs
from tools.run import UsageError, parser as run_parser

HISTORY = os.path.expanduser("~/.pvtos_gdb_history")


# tools.run's options that describe a whole undebugged run: not the debugger's
_NOT_HERE = ("stats", "trace", "timeline", "max_time")


def parser() -> argparse.ArgumentParser:
    ap = run_parser()
    ap.prog = "python -m tools.debug"
    ap.description = __doc__.splitlines()[0]
    for a in ap._actions:
        if a.dest in _NOT_HERE:
            a.help = argparse.SUPPRESS
        elif a.dest == "gdb":
            a.help = "serve PROGRAM to gdb on 127.0.0.1:PORT instead of the (gdb) prompt (as tools.run --gdb)"
    ap.add_argument("--batch", action="store_true", help="run the -x/-ex commands, then exit")
    ap.add_argument("-x", dest="cmds", action="append", type=lambda f: ("x", f), default=[],
                    metavar="FILE", help="execute the commands in FILE")
    ap.add_argument("-ex", "--eval-command", dest="cmds", action="append", type=lambda c: ("ex", c),
                    metavar="CMD", help="execute one command (repeatable)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no banner")
    return ap


def make_session(opts, write=None) -> CLI:
    disk = None
    if hasattr(opts, "no_disk") and not opts.no_disk:
        disk = opts.disk
    input_ = None
    if opts.input is not None:
        input_ = opts.input.encode().decode("unicode_escape").encode("latin-1")
    check_costs(getattr(opts, "costs", None), getattr(opts, "cost", ()))
    s = Session(opts.program, opts.args, cpus=opts.cpus, mem=opts.mem, seed=opts.seed, quantum=opts.quantum,
                input=input_, sched=opts.sched, disk=disk,
                disk_latency_us=getattr(opts, "disk_latency", 100.0), costs=getattr(opts, "costs", None),
                cost_overrides=getattr(opts, "cost", ()))
    return CLI(s, write)


def _lines(cmds):
    for kind, v in cmds:
        if kind == "ex":
            yield v
        else:
            try:
                with open(v) as f:
                    text = f.read()
            except OSError as e:
                raise UsageError(f"{v}: {e.strerror}.") from None
            yield from text.splitlines()


def run_command(cli: CLI, line: str) -> None:
    """One command; ^C meanwhile pauses the machine (a stop, as gdb's SIGINT)."""
    old = signal.signal(signal.SIGINT, lambda *_: cli.s.interrupt())
    try:
        cli.execute(line)
    finally:
        signal.signal(signal.SIGINT, old)


def repl(cli: CLI) -> None:
    try:
        import readline
    except ImportError:
        readline = None
    if readline is not None:
        try:
            readline.read_history_file(HISTORY)
        except OSError:
            pass
        readline.set_completer_delims(" \t\n*&:")

        def completer(text, state):
            opts = cli.complete(text, readline.get_line_buffer())
            return opts[state] if state < len(opts) else None
        readline.set_completer(completer)
        readline.parse_and_bind("tab: complete")
    last = ""
    try:
        while True:
            try:
                line = input("(gdb) ")
            except EOFError:
                print("quit")
                break
            except KeyboardInterrupt:
                print()
                continue
            if not line.strip():
                line = last if last.split()[:1] and last.split()[0] in (
                    "n", "next", "s", "step", "si", "stepi", "ni", "nexti", "c", "continue", "x", "list", "l") else ""
            else:
                last = line
            try:
                run_command(cli, line)
            except Quit:
                break
            cli.last_command = cli.resolve(line.split()[0]) if line.split() else ""
    finally:
        if readline is not None:
            try:
                readline.write_history_file(HISTORY)
            except OSError:
                pass


def main(argv=None) -> int:
    ap = parser()
    opts = ap.parse_args(argv)
    used = [f"--{d.replace('_', '-')}" for d in _NOT_HERE if getattr(opts, d) not in (None, False)]
    if used:
        print(f"tools.debug: {used[0]} is an option of tools.run (a whole run), not of the debugger",
              file=sys.stderr)
        return 2
    if not opts.program:
        print("tools.debug: a PROGRAM to debug is required", file=sys.stderr)
        return 2
    if opts.gdb is not None:
        from tools.gdbstub import main_from_run
        return main_from_run(opts)
    try:
        cli = make_session(opts)
    except (UsageError, DebugError, ValueError) as e:
        print(f"tools.debug: {e}", file=sys.stderr)
        return 2
    cli.checkpoint_from_run = True      # fork checkpoints from the first run on (docs/debugger.md)
    if not opts.quiet and not opts.batch:
        print(f"pvtos debugger: {opts.program} on {opts.cpus} harts, seed {opts.seed}, costs {opts.costs}. "
              "\"help\" lists the commands, \"run\" starts the program.")
    s = cli.s
    try:
        for line in _lines(opts.cmds):
            run_command(cli, line)
            cli.last_command = cli.resolve(line.split()[0]) if line.split() else ""
    except Quit:
        return 0
    except UsageError as e:
        print(f"tools.debug: {e}", file=sys.stderr)
        return 2
    if not opts.batch:
        repl(cli)
    s.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
