"""`help COMMAND`: each command's usage and what it does, as gdb's help gives them."""
from .program import DebugError

HELP = {
    "advance": ("advance LOCATION", "Continue the program up to LOCATION, or until the current frame returns."),
    "backtrace": ("backtrace [N]", "Print the stack of the selected thread, innermost frame first (N frames)."),
    "break": ("break [LOCATION] [if CONDITION]",
              "Set a breakpoint at LOCATION: FUNCTION, FILE:LINE, LINE or *ADDRESS. With CONDITION "
              "(a C expression, checked now) it stops only where CONDITION is true."),
    "catch": ("catch syscall [NAME|NR]... | signal [SIG]... | fault | switch | exec | fork | upcall [TYPE]...",
              "Stop at a kernel event of the program's processes (docs/debugger.md, Catchpoints)."),
    "condition": ("condition N [CONDITION]", "Make breakpoint N stop only if CONDITION is true; none: always."),
    "continue": ("continue [N]", "Continue the program; N: ignore the current breakpoint N-1 more times."),
    "delete": ("delete [N...] | delete display [N...]", "Delete breakpoints N (all without N), or displays."),
    "disable": ("disable [N...]", "Disable breakpoints N (all without N)."),
    "disassemble": ("disassemble [FUNCTION|ADDRESS|START,END|START,+LENGTH]",
                    "Disassemble the function around the pc, or the given range; => marks the pc."),
    "display": ("display[/FMT] EXPRESSION", "Print EXPRESSION at every stop."),
    "down": ("down [N]", "Select the frame N levels below (called by) the selected one."),
    "echo": ("echo TEXT", "Print TEXT (\\n for a newline)."),
    "enable": ("enable [N...]", "Enable breakpoints N (all without N)."),
    "finish": ("finish", "Run until the selected frame returns; print the value it returns."),
    "frame": ("frame [N]", "Select frame N (0 is the innermost) and print it."),
    "hart": ("hart [N]", "Select hart N and the thread on it; without N, show the selected hart."),
    "help": ("help [COMMAND]", "List the commands, or describe COMMAND."),
    "ignore": ("ignore N COUNT", "Do not stop at breakpoint N for its next COUNT crossings."),
    "info": ("info SUBCOMMAND", "Show things about the program or the machine: info registers, breakpoints, "
             "frame, locals, args, display, line, source, symbol, symbols, functions, variables, program, "
             "and the machine's harts, procs, threads, uthreads, activations, vm [ADDRESS], clock."),
    "kill": ("kill", "End the machine running the program."),
    "list": ("list [LINE|FUNCTION|FILE:LINE]", "List ten source lines; again: the next ten."),
    "next": ("next [N]", "Step one source line (N lines), stepping over calls."),
    "nexti": ("nexti [N]", "Execute one instruction (N), stepping over calls."),
    "output": ("output[/FMT] EXPRESSION", "Print the value of EXPRESSION, without history or newline."),
    "print": ("print[/FMT] EXPRESSION",
              "Print the value of a C expression: variables, registers ($pc, $a0), history ($, $N), "
              "$_siginfo at a signal stop, operators, casts ((struct T *)p), ++/--, assignment. "
              "FMT: x d u o t c a z."),
    "quit": ("quit", "Leave the debugger (the machine is ended)."),
    "run": ("run [ARGS...]", "Boot a fresh machine (same seed: same run) and run the program."),
    "set": ("set var LVALUE = EXPRESSION | set $NAME = EXPRESSION",
            "Change a variable, register or memory of the program, or set a convenience variable."),
    "start": ("start [ARGS...]", "Set a temporary breakpoint at main and run."),
    "step": ("step [N]", "Step one source line (N lines), entering functions that have line information."),
    "stepi": ("stepi [N]", "Execute one instruction (N)."),
    "tbreak": ("tbreak [LOCATION] [if CONDITION]", "Set a breakpoint that is deleted when hit."),
    "thread": ("thread [N]", "Select LWP N; without N, show the selected one."),
    "undisplay": ("undisplay [N...]", "Cancel displays N (all without N)."),
    "until": ("until [LOCATION]", "Step past the current line without going back (loops); "
              "with LOCATION, run until there or until the current frame returns."),
    "up": ("up [N]", "Select the frame N levels above (the caller of) the selected one."),
    "watch": ("watch EXPRESSION [if CONDITION]",
              "Stop when the value of the lvalue EXPRESSION (up to 64 bytes) changes; before `run`, "
              "a global watched from the program's start."),
    "x": ("x/NFU ADDRESS", "Examine memory: N units of format F (x d u o t a c s i z) and size U (b h w g)."),
}


def help_text(word: str, resolve) -> list:
    """The lines of `help WORD`; resolve maps a short form to its command (or None)."""
    name = resolve(word)
    if name is None or name not in HELP:
        raise DebugError(f'Undefined command: "{word}".  Try "help".')
    usage, text = HELP[name]
    return [text, f"Usage: {usage}"]
