"""The GDB remote serial protocol's transport, for tools/gdbstub.py: one TCP client at a
time on 127.0.0.1, packets framed as $DATA#CS with acknowledgements (until
QStartNoAckMode), and the client's ^C (the byte 0x03, also when it arrives in the same
read as a packet) and its going away noticed while the machine runs.
"""
import contextlib
import select
import signal
import socket


class BadPacket(Exception):
    """A packet that cannot be parsed: answered with an error reply."""


class Connection:
    """Framing over self.sock (the client) and self.srv (the listening socket). interrupt()
    is the subclass's: what a ^C or the client's going away does to the running machine."""

    def __init__(self):
        self.sock = None                  # the client's socket
        self.srv = None                   # the listening socket
        self.ack = True                   # acknowledge packets (until QStartNoAckMode)
        self.buf = b""                    # bytes received and not yet read
        self.gone = False                 # the client closed the connection while the machine ran

    def interrupt(self) -> None:
        raise NotImplementedError

    def _send(self, data: str) -> None:
        raw = data.encode("latin-1")
        pkt = b"$" + raw + b"#" + f"{sum(raw) & 0xFF:02x}".encode()
        while True:
            if not self._sendall(pkt):
                return
            if not self.ack:
                return
            c = self._byte()
            if c in (b"+", b""):
                return

    def _sendall(self, data: bytes) -> bool:
        """False (and gone set) if the client has closed the connection."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.gone = True
            return False
        return True

    def _byte(self) -> bytes:
        if not self.buf:
            try:
                self.buf = self.sock.recv(4096)
            except OSError:               # reset by the client: as a close
                self.buf = b""
            if not self.buf:
                return b""
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def _packet(self):
        """The next packet's payload (str), '\\x03' for an interrupt, None at EOF."""
        while True:
            c = self._byte()
            if c == b"":
                return None
            if c == b"\x03":
                return "\x03"
            if c != b"$":
                continue
            data = b""
            while True:
                c = self._byte()
                if c == b"":
                    return None
                if c == b"#":
                    break
                data += c
            cs = self._byte() + self._byte()
            ok = cs.decode("latin-1", "replace").lower() == f"{sum(data) & 0xFF:02x}"
            if self.ack and not self._sendall(b"+" if ok else b"-"):
                return None
            if ok or not self.ack:
                return self._unescape(data).decode("latin-1")

    @staticmethod
    def _unescape(data: bytes) -> bytes:
        out, i = bytearray(), 0
        while i < len(data):
            if data[i] == 0x7D and i + 1 < len(data):
                out.append(data[i + 1] ^ 0x20)
                i += 2
            else:
                out.append(data[i])
                i += 1
        return bytes(out)

    def listen(self, port: int) -> None:
        """Bind 127.0.0.1:port (before the machine boots, so that a port in use is reported
        at once); OSError if it cannot be had."""
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind(("127.0.0.1", port))
            srv.listen(1)
        except OSError:
            srv.close()
            raise
        self.srv = srv

    @contextlib.contextmanager
    def _polling(self, fn):
        """fn every 50 ms of host time while the machine runs (SIGALRM; fn only sets flags)."""
        old = signal.signal(signal.SIGALRM, lambda *_: fn())
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, old)

    def _poll(self):
        """While the machine runs: a ^C from the client (also one that came in the same read
        as the resuming packet, as gdb's breakpoint-and-continue single-step sends it)
        pauses it; so does the client going away, which then leaves it stopped."""
        if b"\x03" in self.buf:
            self.buf = self.buf.replace(b"\x03", b"", 1)
            self.interrupt()
            return
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return
        try:
            data = self.sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.gone = True
            self.interrupt()
            return
        self.buf += data
        if b"\x03" in self.buf:
            self.buf = self.buf.replace(b"\x03", b"", 1)
            self.interrupt()
