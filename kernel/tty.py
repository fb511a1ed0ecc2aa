"""The console driver and its line discipline.

Input arrives from the console device in interrupt context (on_input). Canonical mode:
characters are echoed and collected into a line; backspace erases; Enter (CR or LF)
commits the line; ^D commits the partial line, or an end-of-file mark when the line is
empty; ^C discards the line and sends SIGINT to the foreground process group. A read
returns at most one committed line. Only the foreground process group may read: others
get EIO (job-control stops, SIGTTIN, arrive with the signals issue).
"""
from collections import deque

from .errno import EINTR, EINVAL, EIO, EPERM, SysError
from .file import S_IFCHR, File
from .signal import SIGINT

TCGETS, TIOCGPGRP, TIOCSPGRP, TIOCGWINSZ = 0x5401, 0x540F, 0x5410, 0x5413
_EOF = None


class Tty:
    def __init__(self, kernel, device):
        self.k = kernel
        self.dev = device
        self.line = bytearray()
        self.ready = deque()             # committed lines (bytes) and _EOF marks
        self.fg_pgrp = 1
        device.on_input = self.on_input

    def echo(self, data: bytes) -> None:
        self.dev.write(data)

    def on_input(self, data: bytes) -> None:
        if self.k.events is not None:
            self.k.event("irq", None, device="console", bytes=len(data))
        for c in data:
            if c == 0x03:                                # ^C
                self.line.clear()
                self.echo(b"^C\n")
                self.k.signals.kill_pgrp(self.fg_pgrp, SIGINT)
            elif c in (0x7F, 0x08):                      # backspace
                if self.line:
                    self.line.pop()
                    self.echo(b"\b \b")
            elif c == 0x04:                              # ^D
                self.ready.append(bytes(self.line) if self.line else _EOF)
                self.line.clear()
            elif c in (0x0A, 0x0D):
                self.line.append(0x0A)
                self.echo(b"\n")
                self.ready.append(bytes(self.line))
                self.line.clear()
            elif c == 0x09 or c >= 0x20:
                self.line.append(c)
                self.echo(bytes([c]))
        if self.ready:
            self.k.sched.wakeup(self)
        elif self in self.k.sched.waiting:
            self.dev.want_input(self.k.sched.now())   # readers still wait (after ^C, backspace)

    def read(self, n: int) -> bytes:
        while not self.ready:
            self.dev.want_input(self.k.sched.now())
            if not self.k.sched.sleep(self):
                raise SysError(EINTR)
        head = self.ready[0]
        if head is _EOF:
            self.ready.popleft()
            return b""
        data = head[:n]
        if len(head) > n:
            self.ready[0] = head[n:]
        else:
            self.ready.popleft()
        return data


class ConsoleFile(File):
    """An open description of /dev/console."""
    readable = writable = True

    def __init__(self, kernel, flags=0):
        super().__init__(kernel, flags)
        self.tty = kernel.tty

    def read(self, n: int) -> bytes:
        if self.k.sched.mythread().proc.pgid != self.tty.fg_pgrp:
            raise SysError(EIO)        # a background job may not read the console
        return self.tty.read(n)

    def write(self, data: bytes) -> int:
        self.k.console_write(data)
        return len(data)

    def stat(self) -> dict:
        return {"mode": S_IFCHR | 0o620, "size": 0, "ino": 1, "nlink": 1, "rdev": 0x0501}

    def ioctl(self, req: int, arg: int) -> int:
        p = self.k.sched.mythread().proc
        aspace = p.aspace
        if req == TCGETS:
            aspace.copyout(arg, bytes(60))
            return 0
        if req == TIOCGPGRP:
            aspace.copyout(arg, self.tty.fg_pgrp.to_bytes(4, "little"))
            return 0
        if req == TIOCSPGRP:
            pgrp = int.from_bytes(aspace.copyin(arg, 4), "little", signed=True)
            if pgrp <= 0:
                raise SysError(EINVAL)
            if not any(q.pgid == pgrp and q.sid == p.sid for q in self.k.procs.procs.values()):
                raise SysError(EPERM)
            self.tty.fg_pgrp = pgrp
            return 0
        if req == TIOCGWINSZ:
            aspace.copyout(arg, (24).to_bytes(2, "little") + (80).to_bytes(2, "little") + bytes(4))
            return 0
        return super().ioctl(req, arg)
