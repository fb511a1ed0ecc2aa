"""Checkpoints for reverse execution: forks of the whole debugger process, as rr does.

Guest RAM (a private mapping), unicorn's state and the kernel's greenlets all live in the
debugger's process, so fork() copies a whole machine at once, page by page as either side
writes (copy on write). The first reverse command of a CLI (its first `run` with
checkpoint_from_run, as tools/debug.py sets) splits the process in two:

- the front end, the process the user started, keeps the command loop (tools/debug.py):
  its CLI.execute now sends each command line to the worker and prints what comes back;
- the worker owns the machine and runs the commands; the reverse engine follows each of
  its runs from boot (Reverse.adopt). While the machine runs, every
  CHECKPOINT_S seconds of host time it pauses (a pause does not change the run) and forks:
  the child is a checkpoint, a frozen copy that waits on its FIFO.

To reach an earlier moment the worker picks the latest checkpoint before it and sends it
the command being run, its context (reverse.py) and the user's state (breakpoints,
displays, values, selection); then it exits. The checkpoint forks a new worker, which
unwinds the frozen command (Teleport), takes the state, runs the command again from its
start (now ahead of it: the machine runs forward to the moment) and serves the next
commands. The checkpoint stays, for later jumps.

Contracts: the front end, the only process the user's shell waits for, ends every
process this machinery made (by pid, SIGKILL) when it exits. Checkpoints ignore ^C; the
worker turns it into a pause of the machine. Writes to a disk image are not undone by a
jump (use --no-disk for programs that write files).
"""
import atexit
import os
import pickle
import select
import signal
import struct
import sys
import tempfile

from .commands import Quit
from .program import DebugError

CHECKPOINT_S = 0.25            # host seconds of running between checkpoints (0: at every pause, for tests)
MAX_CHECKPOINTS = 40           # beyond: every other one of the older half is dropped


class Teleport(BaseException):
    """Raised in a new worker, in the frozen stack of its checkpoint: back to the loop."""

    def __init__(self, msg):
        super().__init__("teleport")
        self.msg = msg


def _send(fd, obj) -> None:
    data = pickle.dumps(obj)
    _write_all(fd, struct.pack("<I", len(data)) + data)


def _write_all(fd, data) -> None:
    while data:
        data = data[os.write(fd, data):]


def _read_exact(fd, n) -> bytes:
    out = b""
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def _recv(fd):
    n = struct.unpack("<I", _read_exact(fd, 4))[0]
    return pickle.loads(_read_exact(fd, n))


# ---- the front end ----
class Front:
    def __init__(self, cli, cmd_w, out_r, worker, tmp):
        self.cli, self.cmd_w, self.out_r, self.worker, self.tmp = cli, cmd_w, out_r, worker, tmp
        self.pids = {worker}
        self.first = worker             # the first worker (a jump starts another)
        self.closed = False
        atexit.register(self.close)

    def execute(self, line: str) -> None:
        if self.closed:
            raise DebugError("The debugger's worker has ended.")
        _send(self.cmd_w, ("execute", line))
        self.wait()

    def wait(self) -> None:
        while True:
            r, _, _ = select.select([self.out_r], [], [], 1.0)
            if not r:
                try:
                    os.kill(self.worker, 0)
                except ProcessLookupError:
                    self.close()
                    raise DebugError("The debugger's worker died.") from None
                continue
            msg = _recv(self.out_r)
            kind = msg[0]
            if kind == "out":
                self.cli.write(msg[1])
            elif kind == "pid":
                self.pids.add(msg[1])
            elif kind == "worker":
                self.worker = msg[1]
                self.pids.add(msg[1])
            elif kind == "done":
                return
            elif kind == "quit":
                self.close()
                raise Quit()

    def close(self) -> None:
        """End the worker and every checkpoint (by pid)."""
        if self.closed:
            return
        self.closed = True
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        try:
            for name in os.listdir(self.tmp):
                os.unlink(os.path.join(self.tmp, name))
            os.rmdir(self.tmp)
        except OSError:
            pass


def split(cli, line) -> bool:
    """Split this process into front end and worker (see the module); in the front end,
    the worker has run `line` when this returns True. False: no fork on this host."""
    if not hasattr(os, "fork"):
        return False
    cmd_r, cmd_w = os.pipe()
    out_r, out_w = os.pipe()
    tmp = tempfile.mkdtemp(prefix="pvtos-ckpt-")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(cmd_w)
        os.close(out_r)
        Worker(cli, cmd_r, out_w, tmp).serve([line])       # never returns
    os.close(cmd_r)
    os.close(out_w)
    front = Front(cli, cmd_w, out_r, pid, tmp)
    cli.s.kill()                                           # the worker's copy is the machine now
    cli.execute = front.execute
    cli.reverse_front = front
    front.wait()
    return True


# ---- the worker ----
class Worker:
    def __init__(self, cli, cmd_r, out_w, tmp):
        self.cli, self.cmd_r, self.out_w, self.tmp = cli, cmd_r, out_w, tmp
        self.s = cli.s
        self.table = []                 # checkpoints: dicts id, pid, fifo, vec, key
        self.next_id = 0
        self.at = None                  # id of the checkpoint this worker started at, until it runs
        self.tick = False
        self.eng = None

    # ---- the loop ----
    def serve(self, first):
        from .reverse import Reverse
        cli, s = self.cli, self.s
        cli.write = lambda text: _send(self.out_w, ("out", text))
        if getattr(s, "reverse", None) is None:
            s.reverse = Reverse(s)
        self.eng = s.reverse
        self.eng.timeline = self
        boot = s.boot

        def boot_followed():
            boot()
            self.eng.adopt()            # every run of the worker is followed from its boot
        s.boot = boot_followed
        self._wrap()
        signal.signal(signal.SIGINT, lambda *_: s.interrupt())
        signal.signal(signal.SIGALRM, self._alarm)
        pending = list(first)
        while True:
            try:
                while True:
                    line = pending.pop(0) if pending else self._next()
                    self._run(line)
            except Teleport as t:
                pending = [self._arrive(t.msg)]

    def _next(self):
        try:
            msg = _recv(self.cmd_r)
        except EOFError:
            os._exit(0)
        return msg[1]

    def _run(self, line) -> None:
        try:
            self.cli.execute(line)
        except Quit:
            self._end()
            _send(self.out_w, ("quit",))
            os._exit(0)
        _send(self.out_w, ("done",))

    def _end(self) -> None:
        for c in self.table:
            try:
                os.kill(c["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass

    # ---- checkpoints while the machine runs ----
    def _key(self):
        s = self.s
        return (s.program, tuple(s.args), tuple(sorted((k, str(v)) for k, v in s.opts.items())))

    def _wrap(self) -> None:
        s, resume = self.s, self.s.resume

        def resume_with_checkpoints():
            while True:
                self.at = None
                signal.setitimer(signal.ITIMER_REAL, CHECKPOINT_S)
                try:
                    reasons = resume()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                ticked, self.tick = self.tick or CHECKPOINT_S == 0, False
                if ticked and s.running and self.eng.system is s.system:
                    self._checkpoint()
                if reasons or not ticked or not s.running:
                    return reasons
        s.resume = resume_with_checkpoints

    def _alarm(self, *_):
        """SIGALRM while the machine runs: pause it (flags only) for a checkpoint."""
        if self.s.running:
            self.tick = True
            self.s.machine.request_stop()

    def _checkpoint(self) -> None:
        vec = tuple(h.instret for h in self.s.inspect.harts())
        if any(c["vec"] == vec and c["key"] == self._key() for c in self.table):
            return
        cid = self.next_id
        self.next_id += 1
        fifo = os.path.join(self.tmp, f"ck{os.getpid()}-{cid}")
        os.mkfifo(fifo)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._wait(fifo)                                # a checkpoint: never returns but by Teleport
        self.table.append({"id": (os.getpid(), cid), "pid": pid, "fifo": fifo, "vec": vec, "key": self._key()})
        _send(self.out_w, ("pid", pid))
        self._thin()

    def _thin(self) -> None:
        if len(self.table) <= MAX_CHECKPOINTS:
            return
        old = self.table[:len(self.table) // 2]
        drop = old[1::2]
        for c in drop:
            try:
                os.kill(c["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.table = [c for c in self.table if c not in drop]

    def _wait(self, fifo):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)       # new workers are reaped by the kernel
        while True:
            with open(fifo, "rb") as f:
                data = f.read()
            if not data:
                continue
            msg = pickle.loads(data)
            if msg.get("quit"):
                os._exit(0)
            if os.fork() == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                raise Teleport(msg)

    # ---- jumping ----
    def before(self, m):
        """The id of the latest checkpoint of this run before moment m, or None."""
        best = None
        for c in self.table:
            if c["key"] == self._key() and c["vec"][m.hart] < m.n:
                if best is None or sum(c["vec"]) > sum(best["vec"]):
                    best = c
        return best["id"] if best else None

    def before_all(self, vec):
        """The id of the latest checkpoint of this run before the first moment at which
        every hart h has retired vec[h] user instructions, or None."""
        best = None
        for c in self.table:
            if c["key"] == self._key() and c["vec"] != vec and all(a <= b for a, b in zip(c["vec"], vec)):
                if best is None or sum(c["vec"]) > sum(best["vec"]):
                    best = c
        return best["id"] if best else None

    def counts(self, cid) -> tuple:
        """User instructions each hart had retired at checkpoint cid."""
        return next(c for c in self.table if c["id"] == cid)["vec"]

    def jump(self, m) -> None:
        """Continue in the latest checkpoint before m (this process ends); return if none."""
        cid = self.before(m)
        if cid is not None:
            self.jump_to(cid)

    def jump_to(self, cid) -> None:
        c = next(c for c in self.table if c["id"] == cid)
        s, cli = self.s, self.cli
        state = {"cli": {k: getattr(cli, k) for k in ("displays", "_dnum", "last_x", "last_list", "last_command")},
                 "s": {k: getattr(s, k) for k in ("bps", "_num", "history", "convenience", "tid", "frame_no", "hart")}}
        try:
            pickle.dumps(state)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            state["s"]["history"] = []
        msg = {"line": self.eng.line, "ctx": self.eng.ctx, "state": state, "table": self.table,
               "next_id": self.next_id, "at": cid}
        data = pickle.dumps(msg)
        with open(c["fifo"], "wb") as f:
            f.write(data)
        os._exit(0)

    def _arrive(self, msg):
        """In a new worker: take the state the last worker sent, return the line to run."""
        s, cli = self.s, self.cli
        self.table, self.next_id, self.at = msg["table"], msg["next_id"], msg["at"]
        for k, v in msg["state"]["cli"].items():
            setattr(cli, k, v)
        for k, v in msg["state"]["s"].items():
            setattr(s, k, v)
        st = s.stepper
        st.tid, st.count, st.range, st.armed, st.internal, st.events = None, None, None, None, {}, []
        for h in s.machine.harts:
            h.set_step(None, None)
            h.debug_stop = None
        s.interrupted, s.caught, s.notices = False, [], []
        self.eng.ctx, self.eng.resumed, self.eng.quiet = msg["ctx"], True, False
        self.tick = False
        s.sync_hooks()
        _send(self.out_w, ("worker", os.getpid()))
        return msg["line"]
