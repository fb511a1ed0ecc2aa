"""The debugger (docs/debugger.md): Session is the Python API over one machine, CLI the
gdb-style commands over a Session; tools/debug.py is the command line and REPL."""
from .commands import CLI, Quit
from .breakpoints import Breakpoint
from .core import Session, Stop
from .program import DebugError, Program

__all__ = ["CLI", "Quit", "Breakpoint", "Session", "Stop", "DebugError", "Program"]
