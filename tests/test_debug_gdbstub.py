"""The GDB remote stub (tools/gdbstub.py, tools.run --gdb): raw protocol checks, and the
real client, Debian's gdb-multiarch, in batch mode."""
import os
import re
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def prog(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("stub")
    return build([os.path.join(ROOT, "tests", "guest", "dbgthreads.c")], str(d / "dbgthreads"), ["-O0"])


class Server:
    def __init__(self, prog, *args):
        # --costs xv6: the interleaving the tests expect (which LWP reaches bump first) is xv6's
        self.p = subprocess.Popen([sys.executable, "-m", "tools.run", "--no-disk", "--cpus", "2", "--costs", "xv6",
                                   "--gdb", "0", prog] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert m, line + self.p.stderr.read()
        self.port = int(m.group(1))

    def finish(self):
        try:
            out, err = self.p.communicate(timeout=60)
        finally:
            if self.p.poll() is None:
                self.p.kill()
        return out, err


class Raw:
    """A minimal client speaking the protocol by hand."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def send_raw(self, data: bytes):
        self.s.sendall(data)

    def cmd(self, payload: str) -> str:
        raw = payload.encode()
        self.s.sendall(b"$" + raw + b"#" + f"{sum(raw) & 0xFF:02x}".encode())
        return self.reply()

    def reply(self) -> str:
        while True:
            while b"#" not in self.buf or len(self.buf) < self.buf.index(b"#") + 3:
                self.buf += self.s.recv(4096)
            self.buf = self.buf.lstrip(b"+-")
            if not self.buf.startswith(b"$"):
                continue
            end = self.buf.index(b"#")
            payload, self.buf = self.buf[1:end], self.buf[end + 3:]
            self.s.sendall(b"+")
            return payload.decode("latin-1")


def test_protocol_by_hand(prog):
    srv = Server(prog)
    c = Raw(srv.port)
    assert "qXfer:features:read+" in c.cmd("qSupported:multiprocess+;swbreak+")
    xml = c.cmd("qXfer:features:read:target.xml:0,ffff")
    assert xml.startswith("l") and "<architecture>riscv:rv64</architecture>" in xml and 'name="priv"' in xml
    stop = c.cmd("?")
    tid = int(re.match(r"T05thread:([0-9a-f]+);", stop).group(1), 16)
    assert c.cmd("qC") == f"QC{tid:x}"
    regs = c.cmd("g")
    assert len(regs) == 65 * 16
    pc = int.from_bytes(bytes.fromhex(regs[32 * 16:33 * 16]), "little")
    assert pc == 0x10000                                   # stopped at _start, right after exec
    assert c.cmd(f"m{pc:x},4") != "E14" and c.cmd("m0,4") == "E14"
    assert c.cmd("p20") == regs[32 * 16:33 * 16]
    # malformed packets: an error reply, and the session goes on
    assert c.cmd("mzz,4").startswith("E")
    assert c.cmd("Z0,nothex,2").startswith("E")
    assert c.cmd("Hx") .startswith("E")
    c.send_raw(b"$g#00")                                     # bad checksum: NAK, then resend works
    assert c.s.recv(1) == b"-"
    assert c.cmd("vMustReplyEmpty") == "" and c.cmd("qNoSuchThing") == ""
    # one instruction, then a breakpoint by address
    assert c.cmd(f"vCont;s:{tid:x}").startswith("T05")
    assert int.from_bytes(bytes.fromhex(c.cmd("p20")), "little") != pc
    from tools.debugger.program import Program
    bump = Program(prog).function("bump").low
    assert c.cmd(f"Z0,{bump:x},2") == "OK"
    stop = c.cmd("vCont;c")
    assert stop.startswith("T05swbreak:;thread:")
    hit = int(re.search(r"thread:([0-9a-f]+)", stop).group(1), 16)
    threads = c.cmd("qfThreadInfo")
    assert threads.startswith("m") and len(threads[1:].split(",")) == 3 and c.cmd("qsThreadInfo") == "l"
    extra = bytes.fromhex(c.cmd(f"qThreadExtraInfo,{hit:x}")).decode()
    assert re.match(r"pid \d+ dbgthreads, stopped \(breakpoint\), hart \d", extra)
    assert c.cmd(f"z0,{bump:x},2") == "OK"
    assert c.cmd("c") == "W00"
    c.send_raw(b"$k#6b")
    out, err = srv.finish()
    assert "shared 33" in out and "Traceback" not in err


@pytest.mark.needs("gdb-multiarch")
def test_real_gdb_attaches_breaks_reads_steps_and_lists_threads(prog):
    srv = Server(prog)
    cmds = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}", "info threads",
            "break bump", "continue", "bt", "info registers pc a0", "print by", "print shared", "stepi",
            "x/i $pc", "next", "info threads", "watch shared", "delete 1", "continue", "print shared",
            "delete", "continue"]
    p = subprocess.run(["gdb-multiarch", "-nx", "--batch"] + [a for c in cmds for a in ("-ex", c)] + [prog],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    out, err = srv.finish()
    text = p.stdout
    assert "_start () at" in text
    assert re.search(r"\* 1 +Thread \d+ \(pid \d+ dbgthreads, stopped \(exec\), hart \d\)", text)
    assert re.search(r"hit Breakpoint 1, bump \(by=10\) at \S*tests/guest/dbgthreads.c:19", text)
    assert re.search(r"#1  0x[0-9a-f]+ in worker \(arg=0xa\) at \S*tests/guest/dbgthreads.c:26", text)
    assert re.search(r"a0\s+0xa\s+10", text) and "$1 = 10" in text and "$2 = 0" in text
    assert re.search(r"=> 0x[0-9a-f]+ <bump\+\d+>:", text)
    assert len(re.findall(r"Thread \d+ \(pid \d+ dbgthreads, \w+(?: \(\w+\))?, (?:hart \d|no hart)\)", text)) >= 4
    assert "Hardware watchpoint 2: shared" in text and re.search(r"Old value = (\d+)\nNew value = (\d+)", text)
    assert "[Inferior 1 (Remote target) exited normally]" in text
    assert "shared 33" in out and "Traceback" not in err


@pytest.fixture(scope="module")
def spin(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("stubspin")
    return build([os.path.join(ROOT, "tests", "guest", "dbgmore.c")], str(d / "dbgmore"), ["-O0"])


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_port_in_use_is_reported_before_boot(spin):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        p = subprocess.run([sys.executable, "-m", "tools.run", "--no-disk", "--gdb", str(port), spin],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        taken.close()
    assert p.returncode == 2 and f"127.0.0.1:{port}" in p.stderr and "in use" in p.stderr
    assert p.stdout == "" and "Traceback" not in p.stderr          # nothing booted


def test_interrupt_in_the_same_read_as_continue_then_quit_and_reconnect(spin):
    """^C sent with vCont;c in one write stops the machine; the client vanishing while the
    machine runs leaves it stopped (no CPU spent) and the port listening; monitor works."""
    srv = Server(spin, "spin")
    try:
        c = Raw(srv.port)
        c.cmd("QStartNoAckMode")
        c.s.sendall(b"$vCont;c#a8\x03")
        assert c.reply().startswith("T02thread:")
        c.s.sendall(b"$vCont;c#a8")                 # running the endless loop, then gone
        c.s.close()
        import time
        time.sleep(1.0)
        t0 = _cpu_seconds(srv.p.pid)
        time.sleep(2.0)
        assert _cpu_seconds(srv.p.pid) - t0 < 0.5    # stopped, waiting in accept
        c = Raw(srv.port)
        assert c.cmd("?").startswith("T")
        for what in ("harts", "procs", "threads", "clock"):
            out = []
            c.s.sendall(b"$qRcmd," + f"info {what}".encode().hex().encode() + b"#"
                        + f"{sum(b'qRcmd,' + f'info {what}'.encode().hex().encode()) & 0xFF:02x}".encode())
            while True:
                r = c.reply()
                if r == "OK" or not r.startswith("O"):
                    break
                out.append(bytes.fromhex(r[1:]).decode())
            assert r == "OK" and out, what
            text = "".join(out)
            assert {"harts": "Hart  Mode", "procs": "dbgmore", "threads": "\"dbgmore\"",
                    "clock": "virtual time"}[what] in text, text
        c.send_raw(b"$k#6b")
    except BaseException:
        srv.p.kill()
        raise
    finally:
        out, err = srv.finish()
    assert "client gone; listening again" in err and "Traceback" not in err


def _gdb_in_a_terminal(prog, cmds, interrupt_after):
    """gdb-multiarch in batch mode on a pseudo-terminal (gdb sends ^C to the target only
    when it has a terminal), typing ^C once interrupt_after seconds have passed; its output."""
    import fcntl
    import pty
    import select
    import signal
    import termios
    import time
    master, slave = pty.openpty()

    def own_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    g = subprocess.Popen(["gdb-multiarch", "-nx", "--batch"] + [a for c in cmds for a in ("-ex", c)] + [prog],
                         cwd=ROOT, stdin=slave, stdout=slave, stderr=slave, preexec_fn=own_terminal)
    os.close(slave)
    out, typed, start = b"", False, time.monotonic()
    try:
        while time.monotonic() - start < 120:
            if not typed and time.monotonic() - start > interrupt_after:
                os.write(master, b"\x03")
                typed = True
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    data = os.read(master, 4096)
                except OSError:           # gdb has exited: the terminal is gone
                    break
                if not data:
                    break
                out += data
    finally:
        os.close(master)
        if g.poll() is None:
            g.kill()
        g.wait()
    return out.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.slow
@pytest.mark.needs("gdb-multiarch")
def test_real_gdb_interrupts_a_next_over_an_endless_loop_and_reconnects(spin):
    """gdb steps RISC-V by planting breakpoints and continuing: ^C during such a `next` must
    stop it. Then gdb disconnects, a second gdb connects to the same port, finds the
    program where it was, uses monitor, detaches; a third one stops the detached run."""
    import time
    srv = Server(spin, "spin")
    first = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}",
             "break dbgmore.c:38", "continue", "delete", "next", "bt", "print counter > 0", "disconnect"]
    second = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}", "bt",
              "info threads", "monitor help", "monitor info harts", "monitor info clock", "detach"]
    third = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}", "print counter > 1000",
             "kill"]

    def gdb_run(cmds):
        return subprocess.run(["gdb-multiarch", "-nx", "--batch"] + [a for c in cmds for a in ("-ex", c)] + [spin],
                              cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120).stdout
    try:
        one = _gdb_in_a_terminal(spin, first, 8)
        two = gdb_run(second)
        time.sleep(1.0)
        three = gdb_run(third)
    except BaseException:
        srv.p.kill()
        raise
    finally:
        out, err = srv.finish()
    assert "Breakpoint 1, main (argc=2" in one
    assert "Program received signal SIGINT, Interrupt." in one, one
    assert re.search(r"#[01]  .*main \(argc=2, argv=0x[0-9a-f]+\) at \S*dbgmore.c:38", one), one
    assert "$1 = 1" in one
    assert re.search(r"#[01]  .*main \(argc=2, argv=0x[0-9a-f]+\) at \S*dbgmore.c:38", two), two
    assert "stopped (interrupted)" in two and "Hart  Mode" in two and "virtual time" in two
    assert "[Inferior 1 (Remote target) detached]" in two
    assert "$1 = 1" in three, three
    assert err.count("gdb stub: client 127.0.0.1:") == 3 and "Traceback" not in err


@pytest.mark.needs("gdb-multiarch")
def test_real_gdb_thread_backtraces_end_at_the_thread_start(userland):
    """libc's threads start at __thread_start, whose call frame information has no return
    address (as Linux's clone): a thread that has not run yet, or one stopped at a
    breakpoint, unwinds to it and no further (no `0x0 in ?? ()`); the stopped thread is
    shown stopped at a breakpoint, not running."""
    prog = os.path.join(ROOT, "build", "bin", "race")
    srv = Server(prog)
    cmds = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}", "break worker",
            "continue", "info threads", "thread apply all bt", "kill"]
    try:
        text = subprocess.run(["gdb-multiarch", "-nx", "--batch"] + [a for c in cmds for a in ("-ex", c)] + [prog],
                              cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120).stdout
    except BaseException:
        srv.p.kill()
        raise
    finally:
        srv.finish()
    assert re.search(r"Thread \d+ \(pid \d+ race, stopped \(breakpoint\), hart \d\) +worker", text), text
    assert re.search(r"Thread \d+ \(pid \d+ race, runnable, no hart\) +0x[0-9a-f]+ in __thread_start \(\)", text)
    assert re.search(r"#1  0x[0-9a-f]+ in __thread_main .*\n#2  0x[0-9a-f]+ in __thread_start \(\)\n\n", text)
    assert "in ?? ()" not in text and "Backtrace stopped" not in text
