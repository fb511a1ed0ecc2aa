"""The console driver and its line discipline: Linux's n_tty, in small.

Input arrives from the console device in interrupt context (on_input) and is handled as
the terminal's termios settings say (TCGETS/TCSETS/TCSETSW/TCSETSF: Linux's asm-generic
numbers and its 36-byte struct termios; the defaults are Linux's, less what is missing).

- Canonical mode (ICANON, the default): characters are collected into a line and echoed
  (ECHO; control characters as ^X with ECHOCTL). VERASE erases a character, VWERASE a word
  (with IEXTEN), VKILL the line. NL (CR too, with ICRNL) commits the line; VEOF commits the
  partial line, or is an end-of-file mark when the line is empty. A read returns at most
  one committed line.
- Non-canonical mode: each character is readable as it arrives (echoed with ECHO); a read
  waits as VMIN and VTIME say, Linux's four cases (VTIME in tenths of a second of virtual
  time; with VMIN > 0 it times the gap between characters).
- In both modes, with ISIG, VINTR and VQUIT discard the pending input (unless NOFLSH) and
  send SIGINT / SIGQUIT to the foreground process group.
- A mode switch keeps the pending input, as n_tty does: canonical -> non-canonical makes
  the committed lines and the partial line readable as bytes; non-canonical ->
  canonical turns the unread bytes into one committed line.

Only the foreground process group may read: others get EIO (job-control stops, SIGTTIN,
arrive with the signals issue). Output is passed through unprocessed: the host side adds
CR before LF when the host terminal is raw, as OPOST|ONLCR would. Not implemented (and so
disabled in the defaults): VSUSP (no stops from the keyboard), IXON flow control,
VREPRINT, VDISCARD, VLNEXT; c_cflag and the output flags are kept as set and do nothing.
"""
import struct
from collections import deque

from . import params
from .errno import EINTR, EINVAL, EIO, EPERM, SysError
from .file import POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFCHR, File, notify
from .thread import INTERRUPTED
from .signal import SIGINT, SIGQUIT

TCGETS, TCSETS, TCSETSW, TCSETSF = 0x5401, 0x5402, 0x5403, 0x5404
TIOCGPGRP, TIOCSPGRP, TIOCGWINSZ = 0x540F, 0x5410, 0x5413

# asm-generic/termbits.h (octal, as there)
IGNCR, ICRNL, INLCR = 0o200, 0o400, 0o100
OPOST, ONLCR = 0o1, 0o4
B38400, CS8, CREAD, HUPCL = 0o17, 0o60, 0o200, 0o2000
ISIG, ICANON, ECHO, ECHOE, ECHOK, ECHONL, NOFLSH = 0o1, 0o2, 0o10, 0o20, 0o40, 0o100, 0o200
ECHOCTL, ECHOKE, IEXTEN = 0o1000, 0o4000, 0o100000
VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSWTC = 0, 1, 2, 3, 4, 5, 6, 7
VSTART, VSTOP, VSUSP, VEOL, VREPRINT, VDISCARD, VWERASE, VLNEXT, VEOL2 = range(8, 17)
NCCS = 19
TERMIOS = struct.Struct("<IIIIB19s")     # struct termios: 4 flag words, c_line, c_cc[NCCS]
DECISECOND = 100_000_000                 # VTIME's unit, in ns of virtual time

# Linux's tty_std_termios less IXON; c_cc as INIT_C_CC with the unimplemented ones 0 (disabled).
DEFAULT_CC = bytes([3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0, 0, 0, 0, 0o27, 0, 0])
_EOF = None


class Termios:
    def __init__(self):
        self.iflag = ICRNL
        self.oflag = OPOST | ONLCR
        self.cflag = B38400 | CS8 | CREAD | HUPCL
        self.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
        self.line = 0
        self.cc = bytearray(DEFAULT_CC.ljust(NCCS, b"\0"))

    def pack(self) -> bytes:
        return TERMIOS.pack(self.iflag, self.oflag, self.cflag, self.lflag, self.line, bytes(self.cc))

    def unpack(self, data: bytes) -> None:
        self.iflag, self.oflag, self.cflag, self.lflag, self.line, cc = TERMIOS.unpack(data)
        self.cc = bytearray(cc)

    def is_char(self, c: int, v: int) -> bool:
        """c is control character v, and v is not disabled (0)."""
        return self.cc[v] != 0 and c == self.cc[v]


class Tty:
    def __init__(self, kernel, device):
        self.k = kernel
        self.dev = device
        self.termios = Termios()
        self.line = bytearray()          # canonical: the line being typed
        self.ready = deque()             # canonical: committed lines (bytes) and _EOF marks
        self.raw = bytearray()           # non-canonical: characters not yet read
        self.arrived = 0                 # virtual time of the last input (VTIME's gap timer)
        self.fg_pgrp = 1
        self.pollers = set()             # sleep channels of polls waiting for input (file.notify)
        device.on_input = self.on_input

    def echo(self, data: bytes) -> None:
        self.dev.write(data)

    def echo_char(self, c: int) -> None:
        """Echo one input character: a control character as ^X with ECHOCTL."""
        if not self.termios.lflag & ECHO:
            return
        if self.termios.lflag & ECHOCTL and (c < 0x20 and c not in (0x09, 0x0A) or c == 0x7F):
            self.echo(b"^" + bytes([c ^ 0x40]))
        else:
            self.echo(bytes([c]))

    def flush_input(self) -> None:
        self.line.clear()
        self.ready.clear()
        self.raw.clear()

    # ---- input (interrupt context) ----
    def on_input(self, data: bytes) -> None:
        if self.k.events is not None:
            self.k.event("irq", None, device="console", bytes=len(data))
        self.arrived = self.k.sched.now()
        t = self.termios
        for c in data:
            if c == 0x0D:
                if t.iflag & IGNCR:
                    continue
                if t.iflag & ICRNL:
                    c = 0x0A
            elif c == 0x0A and t.iflag & INLCR:
                c = 0x0D
            if t.lflag & ISIG and (t.is_char(c, VINTR) or t.is_char(c, VQUIT)):
                if not t.lflag & NOFLSH:
                    self.flush_input()
                self.echo_char(c)
                self.k.signals.kill_pgrp(self.fg_pgrp, SIGINT if t.is_char(c, VINTR) else SIGQUIT)
            elif t.lflag & ICANON:
                self.canonical(c)
            elif len(self.raw) < params.TTY_BUF:
                self.raw.append(c)
                self.echo_char(c)
        if self.readable():
            notify(self.k, self)
        elif self in self.k.sched.waiting or self.pollers:
            self.dev.want_input(self.k.sched.now())   # readers still wait (after ^C, backspace)

    def readable(self) -> bool:
        """A read would find input (a line, an end-of-file mark, or characters)."""
        return bool(self.ready if self.termios.lflag & ICANON else self.raw)

    def canonical(self, c: int) -> None:
        t = self.termios
        if t.is_char(c, VERASE) or t.is_char(c, VKILL) or t.is_char(c, VWERASE) and t.lflag & IEXTEN:
            keep = len(self.line) - 1 if t.is_char(c, VERASE) else 0
            if t.is_char(c, VWERASE):                    # the last word and the blanks after it
                word = self.line.rstrip(b" \t")
                keep = max(word.rfind(b" "), word.rfind(b"\t")) + 1
            if self.line and not t.lflag & ECHOE:
                self.echo_char(c)
            while len(self.line) > max(keep, 0):
                gone = self.line.pop()
                if t.lflag & ECHO and t.lflag & ECHOE:
                    wide = t.lflag & ECHOCTL and (gone < 0x20 and gone != 0x09 or gone == 0x7F)
                    self.echo(b"\b \b" * (2 if wide else 1))
        elif t.is_char(c, VEOF):
            self.ready.append(bytes(self.line) if self.line else _EOF)
            self.line.clear()
        elif c == 0x0A or t.is_char(c, VEOL) or t.is_char(c, VEOL2):
            self.line.append(c)
            if t.lflag & (ECHO | ECHONL):
                self.echo(bytes([c]))
            self.ready.append(bytes(self.line))
            self.line.clear()
        elif len(self.line) < params.TTY_BUF - 1:    # room is kept for the NL
            self.line.append(c)
            self.echo_char(c)

    # ---- reading (a process, in the foreground group) ----
    def read(self, n: int) -> bytes:
        sched = self.k.sched
        start = sched.now()
        while True:
            t = self.termios
            deadline = None
            if t.lflag & ICANON:
                if self.ready:
                    return self.take_line(n)
            else:
                vmin, vtime = t.cc[VMIN], t.cc[VTIME] * DECISECOND
                if len(self.raw) >= max(1, min(vmin, n)) or (vmin == 0 and vtime == 0):
                    if not self.raw:
                        self.dev.want_input(sched.now())   # a poll: a scripted line is typed
                    return self.take_raw(n)
                if vtime and vmin == 0:                  # a timeout for the first character
                    deadline = start + vtime
                elif vtime and self.raw:                 # a timeout between characters
                    deadline = self.arrived + vtime
                if deadline is not None and sched.now() >= deadline:
                    return self.take_raw(n)
            self.dev.want_input(sched.now())
            if sched.sleep_timed(self, deadline) == INTERRUPTED:
                if not t.lflag & ICANON and self.raw:
                    return self.take_raw(n)              # what was read before the signal
                raise SysError(EINTR)

    def take_line(self, n: int) -> bytes:
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

    def take_raw(self, n: int) -> bytes:
        data = bytes(self.raw[:n])
        del self.raw[:n]
        return data

    # ---- termios ----
    def set_termios(self, data: bytes, req: int) -> None:
        t = self.termios
        was_canonical = t.lflag & ICANON
        if req == TCSETSF:
            self.flush_input()
        t.unpack(data)
        if was_canonical and not t.lflag & ICANON:
            self.raw += b"".join(x for x in self.ready if x is not _EOF) + self.line
            del self.raw[params.TTY_BUF:]
            self.ready.clear()
            self.line.clear()
        elif not was_canonical and t.lflag & ICANON and self.raw:
            self.ready.append(bytes(self.raw))
            self.raw.clear()
        notify(self.k, self)                             # readers recheck under the new rules


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

    def poll(self) -> int:
        return POLLOUT | POLLWRNORM | (POLLIN | POLLRDNORM if self.tty.readable() else 0)

    def poll_queues(self) -> tuple:
        if not self.tty.readable():
            self.tty.dev.want_input(self.k.sched.now())   # a poll waits: a scripted line is typed
        return (self.tty,)

    def ioctl(self, req: int, arg: int) -> int:
        p = self.k.sched.mythread().proc
        aspace = p.aspace
        if req == TCGETS:
            aspace.copyout(arg, self.tty.termios.pack())
            return 0
        if req in (TCSETS, TCSETSW, TCSETSF):            # output is never queued: W = plain
            self.tty.set_termios(aspace.copyin(arg, TERMIOS.size), req)
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
