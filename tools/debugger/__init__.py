"""The debugger (docs/debugger.md): Session is the Python API over one machine, CLI the
gdb-style commands over a Session; tools/debug.py is the command line and REPL."""
from .commands import ALIASES, COMMANDS, CLI, Quit
from .breakpoints import Breakpoint
from .core import Session, Stop
from .info import INFO
from .program import DebugError, Program
from .reverse import install as _install_reverse

_install_reverse(CLI, COMMANDS, ALIASES, INFO)

__all__ = ["CLI", "Quit", "Breakpoint", "Session", "Stop", "DebugError", "Program"]
