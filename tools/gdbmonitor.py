"""gdb's monitor commands (qRcmd, answered by the stub: gdbstub.py): the debugger's views
of the machine, as its command line prints them (monitor info harts is the debugger's
info harts: docs/debugger.md), and monitor help.
"""
from tools.gdbremote import BadPacket

MONITOR_INFO = ("harts", "procs", "threads", "uthreads", "activations", "vm", "clock")


def monitor_lines(session, hexcmd) -> list:
    """The lines that answer qRcmd's hex-encoded command hexcmd on session; BadPacket if
    hexcmd is not hex."""
    try:
        cmd = bytes.fromhex(hexcmd).decode("latin-1").strip()
    except ValueError:
        raise BadPacket(hexcmd) from None
    words = cmd.split()
    if words[:1] == ["i"]:
        words[0] = "info"
    if not words or words[0] == "help":
        return ["monitor info harts|procs|threads|uthreads|activations|vm [ADDR]|clock: the machine's views",
                "(docs/debugger.md); monitor help: this text."]
    if words[0] == "info" and len(words) > 1 and words[1] in MONITOR_INFO:
        return cli_lines(session, "info " + " ".join(words[1:]))
    return [f'Undefined monitor command: "{cmd}".  Try "monitor help".']


def cli_lines(session, line) -> list:
    """The lines the debugger's command line prints for line, on session."""
    from tools.debugger import CLI
    out, keep = [], session.out
    try:
        CLI(session, write=out.append).execute(line)
    finally:
        session.out = keep
    return out
