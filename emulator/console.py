"""The console: a UART-like character device.

Output goes to a host binary stream (stdout) and is also kept for tests. Input comes
either from the host terminal (interactive: nondeterministic by nature) or from a script:
scripted input is "typed" one line at a time, only when the kernel says a reader waits
(`want_input`), TYPE_DELAY ns later, so the same script gives the same run. A ^C in the
script is typed INTR_DELAY after the input before it, whether or not anyone reads (so it
can interrupt a running job). Once the script is exhausted every request is answered
with ^D (end of file).
"""
import os
import select

TYPE_DELAY = 50_000     # ns between a reader blocking and a scripted line arriving
INTR_DELAY = 2_000_000  # ns after the previous input at which a scripted ^C is typed
EOT = b"\x04"


class Console:
    def __init__(self, out=None, script=None, interactive=False, echo_host=True):
        self.out = out                      # host binary stream or None
        self.output = bytearray()           # everything written, for tests and tools
        self.script = bytearray(script or b"")
        self.interactive = interactive
        self.fd = None
        self._pending = False               # a scripted line is on its way
        self.on_input = None                # set by the machine: fn(bytes)
        self.clock = None

    def write(self, data: bytes) -> None:
        self.output += data
        if self.out is not None:
            self.out.write(data)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()

    # ---- input ----
    def want_input(self, now: int) -> None:
        """The kernel has a reader waiting since virtual time `now` (its hart's time; the
        clock's may lag behind it) and no buffered input."""
        if self.interactive or self._pending:
            return
        self._pending = True
        self.clock.at(now + TYPE_DELAY, self._type_line)

    def _type_line(self) -> None:
        self._pending = False
        if not self.script:
            self.on_input(EOT)
            return
        i = self.script.find(b"\n")
        n = len(self.script) if i < 0 else i + 1
        line = bytes(self.script[:n])
        del self.script[:n]
        self.on_input(line)
        self._schedule_intr()

    def _schedule_intr(self) -> None:
        if self.script[:1] == b"\x03":
            self._pending = True
            self.clock.at(self.clock.now + INTR_DELAY, self._type_intr)

    def _type_intr(self) -> None:
        self._pending = False
        del self.script[:1]
        self.on_input(b"\x03")
        self._schedule_intr()

    def poll(self, timeout=0.0) -> bool:
        """Interactive mode: deliver whatever the host terminal has typed. True if any."""
        if not self.interactive:
            return False
        fd = self.fd if self.fd is not None else 0
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return False
        data = os.read(fd, 256)
        self.on_input(data if data else EOT)
        return True
