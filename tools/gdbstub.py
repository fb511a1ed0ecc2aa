"""A GDB remote-serial-protocol stub over the debugger's Session (docs/debugger.md).

    python -m tools.run --gdb PORT [run options] PROGRAM [ARGS]      (make gdb-server)
    gdb-multiarch -ex 'target remote :PORT' PROGRAM

Serves one client at a time on 127.0.0.1 (transport: tools/gdbremote.py), and keeps
listening after a detach or a disconnect, as QEMU does. The program is stopped at its
first instruction (right after init exec'd it). Each LWP of the program is a GDB thread
(thread id = lwpid); memory goes through the address space of the thread selected with Hg.
Supported: ?, g G p P, m M, c s C S, vCont (c, s), Z0/z0 Z1/z1 (breakpoints, as code
hooks), Z2/z2 (write watchpoints), H, T, qC, qfThreadInfo/qsThreadInfo, qThreadExtraInfo,
qSupported, qXfer:features:read (riscv:rv64: x0-x31, pc, f0-f31, fcsr, priv),
QStartNoAckMode, qRcmd (monitor info harts|procs|threads|uthreads|activations|vm|clock,
monitor help), D, k, and ^C. Anything else gets the empty reply; a malformed packet gets
an error reply.
"""
import select
import sys

from emulator.hart import REG_FCSR, REG_PC
from kernel.inspect import fault_signal

from tools.debugger import DebugError, Session
from tools.gdbmonitor import monitor_lines
from tools.gdbremote import BadPacket, Connection

_X = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1"] + [f"a{i}" for i in range(8)] + \
     [f"s{i}" for i in range(2, 12)] + [f"t{i}" for i in range(3, 7)]
_F = [f"ft{i}" for i in range(8)] + ["fs0", "fs1"] + [f"fa{i}" for i in range(8)] + \
     [f"fs{i}" for i in range(2, 12)] + [f"ft{i}" for i in range(8, 12)]
REG_FCSR_GDB, REG_PRIV_GDB = 68, 4161


def target_xml() -> str:
    cpu = "".join(f'<reg name="{n}" bitsize="64" type="{"code_ptr" if i == 1 else "data_ptr" if i in (2, 8) else "int"}" regnum="{i}"/>'
                  for i, n in enumerate(_X))
    cpu += '<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>'
    fpu = "".join(f'<reg name="{n}" bitsize="64" type="ieee_double" regnum="{33 + i}"/>' for i, n in enumerate(_F))
    fpu += f'<reg name="fcsr" bitsize="32" type="int" regnum="{REG_FCSR_GDB}"/>'
    return ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0">'
            "<architecture>riscv:rv64</architecture>"
            f'<feature name="org.gnu.gdb.riscv.cpu">{cpu}</feature>'
            f'<feature name="org.gnu.gdb.riscv.fpu">{fpu}</feature>'
            f'<feature name="org.gnu.gdb.riscv.virtual"><reg name="priv" bitsize="64" type="int" regnum="{REG_PRIV_GDB}"/></feature>'
            "</target>")


def _hex(data: bytes) -> str:
    return data.hex()


def _le(v: int, n=8) -> str:
    return (v & ((1 << 8 * n) - 1)).to_bytes(n, "little").hex()


def _num(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise BadPacket(text) from None


class Stub(Connection):
    def __init__(self, session: Session, log=None):
        super().__init__()
        self.s = session
        self.log = log or (lambda msg: None)
        self.g_tid = None                 # thread for registers and memory (Hg)
        self.c_tid = None                 # thread for c/s (Hc)
        self.last_stop = "S05"
        self.zbp = {}                     # (kind, addr) -> breakpoint number
        self.interrupted = False
        self.pending_interrupt = False    # a ^C came between packets (gdb stepping by breakpoints)
        self.detached = False             # D: the machine runs on, unobserved
        self.stop_tid = None              # the thread whose stop was reported last, and why
        self.stop_why = ""

    # ---- serving ----
    def start(self) -> None:
        """Boot and run until the program has been exec'd: the state a client attaches to."""
        s = self.s
        s.boot()
        bp = s.catch("exec")
        try:
            while True:
                stop = s.user_stop(s.resume())
                if stop is not None:
                    break
        finally:
            s.delete([bp.num])
        if stop.kind == "exited":
            raise DebugError("the program exited before it could be debugged")
        self.g_tid = self.c_tid = stop.tid
        s.tid = stop.tid
        self.last_stop = self._stop_reply(stop)
        self.stop_why = "exec"

    def serve(self) -> None:
        """Serve clients one after another, as QEMU does: after a detach, a disconnect or
        the client quitting, the port keeps listening. Detached, the machine runs on and a
        new client stops it; disconnected, it stays stopped where it was (blocked in
        accept: no CPU). Ends when the client kills the machine or the program has ended."""
        self.log(f"gdb stub: listening on 127.0.0.1:{self.srv.getsockname()[1]}")
        try:
            while self.s.running:
                if self.detached and not self._run_detached():
                    return
                self.sock, addr = self.srv.accept()
                self.log(f"gdb stub: client {addr[0]}:{addr[1]}")
                self.ack, self.buf, self.gone, self.detached = True, b"", False, False
                self.pending_interrupt = False
                try:
                    killed = self.loop()
                finally:
                    self.sock.close()
                    self.sock = None
                if killed:
                    return
                self.log("gdb stub: client gone; listening again")
        finally:
            self.srv.close()

    def _run_detached(self) -> bool:
        """Run the detached machine until a client connects (True) or it halts (False)."""
        s = self.s
        while s.running:
            r, _, _ = select.select([self.srv], [], [], 0)
            if r:
                self.last_stop = f"T02thread:{self._tid():x};"
                self.stop_tid, self.stop_why = self._tid(), "interrupted"
                return True
            with self._polling(lambda: select.select([self.srv], [], [], 0)[0] and s.interrupt()):
                s.resume()
        return False

    def loop(self) -> bool:
        """One client's session; True when it killed the machine."""
        while True:
            pkt = self._packet()
            if pkt is None:
                return False
            if pkt == "\x03":            # while stopped: the next resume stops at once
                self.pending_interrupt = True
                continue
            if pkt == "QStartNoAckMode":
                self._send("OK")
                self.ack = False
                continue
            try:
                reply = self.handle(pkt)
            except BadPacket:
                reply = "E01"
            except DebugError as e:
                self.log(f"gdb stub: {e}")
                reply = "E0E"
            if reply is None:         # killed
                return True
            if self.gone:
                return False
            self._send(reply)
            if self.gone:
                return False
            if pkt.startswith("vKill"):
                return True
            if pkt == "D" or pkt.startswith("D;"):
                return False

    # ---- packets ----
    def handle(self, pkt: str):
        s = self.s
        c = pkt[0]
        if pkt == "?":
            return self.last_stop
        if pkt.startswith("qSupported"):
            return "PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+"
        if pkt.startswith("qXfer:features:read:"):
            name, _, rng = pkt[len("qXfer:features:read:"):].partition(":")
            if name != "target.xml":
                return "E00"
            off, _, ln = rng.partition(",")
            xml = target_xml()
            chunk = xml[_num(off):_num(off) + _num(ln)]
            return ("l" if _num(off) + _num(ln) >= len(xml) else "m") + chunk
        if pkt == "qC":
            return f"QC{self._tid():x}"
        if pkt == "qAttached":
            return "1"
        if pkt == "qfThreadInfo":
            ts = s.lwps()
            return "m" + ",".join(f"{t.tid:x}" for t in ts) if ts else "l"
        if pkt == "qsThreadInfo":
            return "l"
        if pkt.startswith("qThreadExtraInfo,"):
            tid = _num(pkt.split(",", 1)[1])
            t = s.inspect.thread(tid) if s.running else None
            if t is None or not t.pid:
                return "E01"
            return _hex(self._extra_info(t).encode())
        if c == "H":
            if len(pkt) < 3 or pkt[1] not in "gc":
                raise BadPacket(pkt)
            tid = pkt[2:]
            if tid in ("-1", "0"):
                tid = None
            else:
                tid = _num(tid)
                self._thread(tid)
            if pkt[1] == "g":
                self.g_tid = tid if tid is not None else self._tid()
            else:
                self.c_tid = tid
            return "OK"
        if c == "T":
            tid = _num(pkt[1:])
            return "OK" if any(t.tid == tid for t in s.lwps()) else "E01"
        if c == "g":
            t = self._thread(self.g_tid)
            r = s.regs(t)
            return "".join(_le(r[i]) for i in range(32)) + _le(r[REG_PC]) + "".join(_le(r[32 + i]) for i in range(32))
        if c == "G":
            t = self._thread(self.g_tid)
            data = bytes.fromhex(pkt[1:]) if len(pkt) % 2 == 1 else b""
            if len(data) < 33 * 8:
                raise BadPacket(pkt)
            for i in range(1, 32):
                s.set_reg(t, i, int.from_bytes(data[8 * i:8 * i + 8], "little"))
            s.set_reg(t, REG_PC, int.from_bytes(data[256:264], "little"))
            return "OK"
        if c == "p":
            return self._read_reg(_num(pkt[1:]))
        if c == "P":
            n, _, v = pkt[1:].partition("=")
            return self._write_reg(_num(n), v)
        if c == "m":
            addr, _, ln = pkt[1:].partition(",")
            n = _num(ln)
            if n > 0x10000:
                raise BadPacket(pkt)
            data = s.read(_num(addr), n, self._thread(self.g_tid))
            return _hex(data) if data is not None else "E14"
        if c == "M":
            head, _, hexdata = pkt[1:].partition(":")
            addr, _, ln = head.partition(",")
            try:
                data = bytes.fromhex(hexdata)
            except ValueError:
                raise BadPacket(pkt) from None
            if len(data) != _num(ln):
                raise BadPacket(pkt)
            s.write(_num(addr), data, self._thread(self.g_tid))
            return "OK"
        if c in "Zz":
            return self._z(pkt)
        if pkt == "vCont?":
            return "vCont;c;C;s;S"
        if pkt.startswith("vCont;"):
            return self._vcont(pkt[6:])
        if pkt in ("bs", "bc"):             # reverse step / continue (tools/debugger/reverse.py)
            return self._reverse(pkt)
        if c in "cC":
            return self._resume(None)
        if c in "sS":
            return self._resume(self.c_tid or self._tid())
        if c == "D":
            self._detach()
            return "OK"
        if c == "k" or pkt.startswith("vKill"):
            s.kill()
            return None if c == "k" else "OK"
        if pkt.startswith("qRcmd,"):
            return self._monitor(pkt[6:])
        if pkt == "vMustReplyEmpty":
            return ""
        if pkt.startswith("qSymbol"):
            return "OK"
        return ""

    def _tid(self) -> int:
        s = self.s
        if s.tid is not None and any(t.tid == s.tid for t in s.lwps()):
            return s.tid
        ts = s.lwps()
        if not ts:
            raise DebugError("no thread")
        return ts[0].tid

    def _thread(self, tid):
        tid = tid if tid is not None else self._tid()
        for t in self.s.lwps():
            if t.tid == tid:
                return t
        raise DebugError(f"no thread {tid:x}")

    def _read_reg(self, n):
        t = self._thread(self.g_tid)
        r = self.s.regs(t)
        if n < 32:
            return _le(r[n])
        if n == 32:
            return _le(r[REG_PC])
        if 33 <= n < 65:
            return _le(r[32 + n - 33])
        if n == REG_FCSR_GDB:
            return _le(r[REG_FCSR], 4)
        if n == REG_PRIV_GDB:
            return _le(0)
        return "E01"

    def _write_reg(self, n, v):
        t = self._thread(self.g_tid)
        try:
            val = int.from_bytes(bytes.fromhex(v), "little")
        except ValueError:
            raise BadPacket(v) from None
        if n < 32:
            self.s.set_reg(t, n, val)
        elif n == 32:
            self.s.set_reg(t, REG_PC, val)
        elif 33 <= n < 65 or n == REG_FCSR_GDB:
            regs = self.s.regs(t)
            regs[32 + n - 33 if n < 65 else REG_FCSR] = val
            self.s.set_regs(t, regs)
        elif n != REG_PRIV_GDB:
            return "E01"
        return "OK"

    def _z(self, pkt):
        s = self.s
        parts = pkt[1:].split(",")
        if len(parts) < 3 or not parts[0].isdigit():
            raise BadPacket(pkt)
        kind, addr, size = int(parts[0]), _num(parts[1]), _num(parts[2].split(";")[0])
        key = (kind, addr)
        if kind in (0, 1):
            if pkt[0] == "Z":
                if key not in self.zbp:
                    self.zbp[key] = s.break_at(f"*{addr:#x}").num
            elif key in self.zbp:
                s.delete([self.zbp.pop(key)])
            return "OK"
        if kind == 2:
            if pkt[0] == "Z":
                if key not in self.zbp:
                    self.zbp[key] = s.watch_addr(addr, size, self._thread(self.g_tid)).num
            elif key in self.zbp:
                s.delete([self.zbp.pop(key)])
            return "OK"
        return ""

    def _vcont(self, spec):
        step = None
        for action in spec.split(";"):
            verb, _, tid = action.partition(":")
            if verb[:1] in ("s", "S"):
                step = _num(tid) if tid and tid != "-1" else (self.c_tid or self._tid())
            elif verb[:1] not in ("c", "C"):
                raise BadPacket(spec)
        return self._resume(step)

    def _resume(self, step_tid):
        s = self.s
        if not s.running:
            return "W00"
        self.interrupted = False
        s.interrupted = False
        if self.pending_interrupt or b"\x03" in self.buf:
            self.pending_interrupt = False
            self.buf = self.buf.replace(b"\x03", b"", 1)
            self.stop_tid, self.stop_why = self._tid(), "interrupted"
            self.last_stop = f"T02thread:{self._tid():x};"
            return self.last_stop
        with self._polling(self._poll):
            if step_tid is not None:
                s.tid = step_tid
                stop = s.stepper.stepi(1)
            else:
                while True:
                    stop = s.user_stop(s.resume())
                    if stop is not None or self.interrupted:
                        break
        if stop is None or stop.kind == "interrupted":
            self.stop_tid, self.stop_why = self._tid(), "interrupted"
            self.last_stop = f"T02thread:{self._tid():x};"
            return self.last_stop
        self.last_stop = self._stop_reply(stop)
        return self.last_stop

    def _reverse(self, pkt):
        from tools.debugger.reverse import Reverse
        s = self.s
        if not s.running:
            return "W00"
        if getattr(s, "reverse", None) is None:
            s.reverse = Reverse(s)
        try:
            if pkt == "bs":
                s.tid = self.c_tid or self._tid()
                stop = s.reverse.stepi(1)
            else:
                stop = s.reverse.continue_()
        except DebugError:
            return f"T05replaylog:begin;thread:{self._tid():x};"
        self.last_stop = self._stop_reply(stop)
        return self.last_stop

    def interrupt(self):
        self.interrupted = True
        self.s.interrupt()

    def _extra_info(self, t) -> str:
        """qThreadExtraInfo: process, state and hart of an LWP. While gdb looks, every thread
        is stopped (all-stop): the kernel's "running" is shown as stopped on its hart."""
        state = str(t.state)
        if state == "running":
            state = "stopped"
            if t.tid == self.stop_tid and self.stop_why:
                state = f"stopped ({self.stop_why})"
        hart = f"hart {t.hart}" if t.hart >= 0 else "no hart"
        return f"pid {t.pid} {t.proc_name}, {state}, {hart}"

    def _monitor(self, hexcmd):
        """qRcmd (gdb's monitor): the debugger's views of the machine, as O packets."""
        for line in monitor_lines(self.s, hexcmd):
            self._send("O" + _hex((line + "\n").encode()))
        return "OK"

    def _stop_reply(self, stop) -> str:
        s = self.s
        if stop.kind == "exited":
            st = s.main_status if s.main_status is not None else (stop.detail.get("status") or 0) << 8
            return f"X{st & 0x7F:02x}" if st & 0x7F else f"W{(st >> 8) & 0xFF:02x}"
        tid = stop.tid
        if s.inspect.thread(tid) is None:
            tid = self._tid()
        self.g_tid = self.c_tid = s.tid = tid
        self.stop_tid, self.stop_why = tid, {"breakpoint": "breakpoint", "watchpoint": "watchpoint",
                                             "signal": "signal", "step": "step"}.get(stop.kind, stop.kind)
        if stop.kind == "signal":
            return f"T{fault_signal(stop.detail.get('cause')):02x}thread:{tid:x};"
        if stop.kind == "breakpoint":
            return f"T05swbreak:;thread:{tid:x};"
        if stop.kind == "watchpoint":
            return f"T05watch:{stop.bps[0].watch[0]:x};thread:{tid:x};"
        return f"T05thread:{tid:x};"

    def _detach(self):
        """Remove every breakpoint; the machine runs on, unobserved (serve)."""
        s = self.s
        s.delete()
        self.zbp = {}
        s.bps.clear()
        s.sync_hooks()
        self.detached = True


def main_from_run(opts) -> int:
    """tools.run --gdb PORT: serve the program given on the command line."""
    from tools.debug import make_session
    if not opts.program:
        print("tools.run: --gdb needs a PROGRAM", file=sys.stderr)
        return 2
    if not 0 <= opts.gdb < 65536:
        print("tools.run: --gdb PORT must be 0..65535", file=sys.stderr)
        return 2
    from tools.run import UsageError
    try:
        cli = make_session(opts)
    except (UsageError, DebugError, OSError, ValueError) as e:
        print(f"tools.run: {e}", file=sys.stderr)
        return 2
    stub = Stub(cli.s, log=lambda m: print(m, file=sys.stderr, flush=True))
    try:
        stub.listen(opts.gdb)
    except OSError as e:
        print(f"tools.run: --gdb: cannot listen on 127.0.0.1:{opts.gdb}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        cli.s.out = lambda text: (sys.stdout.write(text), sys.stdout.flush())
        stub.start()
        stub.serve()
    except (UsageError, DebugError, OSError) as e:
        print(f"tools.run: {e}", file=sys.stderr)
        return 2
    s = cli.s
    if s.machine is not None and s.machine.halted:
        return s.status or 0
    return 0
