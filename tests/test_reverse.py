"""Reverse execution (tools/debugger/reverse.py, checkpoints.py), by re-running from boot
and from fork checkpoints: reverse-stepi undone by stepi gives the same state back; watch +
reverse-continue on race lands on the last store to the counter, by the thread and on the
hart a forward run sees; reverse-next/-step/-finish by source line; gdb-multiarch's
reverse-stepi and reverse-continue through the GDB stub."""
import os
import re
import subprocess

import pytest

from tests.conftest import ROOT
from tests.test_debug_gdbstub import Server
from tools.debugger import CLI, Session


@pytest.fixture
def session(monkeypatch):
    from tools.debugger import checkpoints
    monkeypatch.setattr(checkpoints, "CHECKPOINT_S", 0.005)     # many checkpoints: jumps even in short runs
    made = []

    def make(prog, *args, mode="fork", cpus=2):
        out = []
        cli = CLI(Session(prog, args, cpus=cpus), write=out.append)
        cli.reverse_mode = "fork" if mode == "fork-run" else mode
        cli.checkpoint_from_run = mode == "fork-run"            # as tools/debug.py
        made.append(cli)

        def run(line):
            out.clear()
            cli.execute(line)
            return "\n".join(x for x in out if not re.match(r"\[ *\d+\.\d{6}\] ", x))
        return cli, run
    yield make
    for cli in made:
        front = getattr(cli, "reverse_front", None)
        if front is not None:
            front.close()
        cli.s.kill()


def snapshot(run):
    """Registers, the counter and the moment, as the commands print them."""
    return run("info registers"), run("print counter"), run("info time").splitlines()[0]


@pytest.mark.parametrize("mode", ["replay", "fork", "fork-run"])
def test_reverse_stepi_then_stepi_returns_to_the_same_state(userland, session, mode):
    cli, run = session("lost_update", "300", mode=mode)
    for line in ("break lost_update.c:21", "run", "delete 1", "stepi 40"):
        run(line)
    before = snapshot(run)
    assert "pc " in before[0] and before[1].startswith("$") and before[2].startswith("moment @")
    for n in (1, 7, 25):
        text = run(f"reverse-stepi {n}")
        assert "No more" not in text and "not being run" not in text, text
        back = snapshot(run)
        assert back[0] != before[0] and back[2] != before[2]
        run(f"stepi {n}")
        after = snapshot(run)
        assert [after[0], after[1].split("=")[1], after[2]] == [before[0], before[1].split("=")[1], before[2]]
    if mode != "replay":                           # checkpoints were made, and jumped into
        front = cli.reverse_front
        assert len(front.pids) >= 3 and front.worker != front.first


def _last_store_forward(n):
    """(tid, hart, value) of the last store to counter before race's first printf, by
    stopping at every store in a forward run."""
    out = []
    cli = CLI(Session("race", [str(n)], cpus=2), write=out.append)
    for line in ("break race.c:58", "break race.c:57", "run", "watch counter"):
        cli.execute(line)
    last = None
    try:
        while True:
            out.clear()
            cli.execute("continue")
            text = "\n".join(out)
            if "Breakpoint 1," in text:
                return last
            m = re.search(r"Thread (\d+) hit Hardware watchpoint", text)
            assert m, text
            tid = int(m.group(1))
            last = (tid, cli.s.inspect.thread(tid).hart, re.search(r"New value = (\d+)", text).group(1))
    finally:
        cli.s.kill()


def checkpoints_at(monkeypatch, kinds):
    """Checkpoints at the kernel events of these kinds (besides the host-time ones): a
    placement that does not depend on the host's speed."""
    from tools.debugger import checkpoints, reverse
    monkeypatch.setattr(checkpoints, "CHECKPOINT_S", 100.0)
    follow = reverse.Reverse._on_event

    def on_event(self, ev):
        follow(self, ev)
        if self.timeline is not None and ev.kind in kinds and self.s.running:
            self.timeline._alarm()                  # what SIGALRM does: pause, then fork
    monkeypatch.setattr(reverse.Reverse, "_on_event", on_event)


@pytest.mark.parametrize("mode", ["replay", "fork", "fork-run", "fork-at-off", "fork-at-switch"])
def test_watch_and_reverse_continue_land_on_the_last_store(userland, session, monkeypatch, mode):
    """fork-at-off: a checkpoint as each thread leaves its hart. One taken after thread 7's
    last store on hart 0, while hart 1 (main's) still waited, made reverse-continue skip
    thread 7's stores when a stretch ended at a moment of main's hart alone."""
    if mode.startswith("fork-at-"):
        checkpoints_at(monkeypatch, {mode[len("fork-at-"):]})
    want = _last_store_forward(20)
    cli, run = session("race", "20", mode=mode if mode == "fork-run" else mode.split("-")[0])
    for line in ("break race.c:58", "run", "watch counter"):
        run(line)
    text = run("reverse-continue")
    m = re.search(r"Thread (\d+) hit Hardware watchpoint 2: counter", text)
    assert m, text
    hart = int(re.search(r"moment @(\d+):", run("info time")).group(1))
    assert (int(m.group(1)), hart, re.search(r"New value = (\d+)", text).group(1)) == want
    assert run("print counter").endswith(f"= {want[2]}")
    old = re.search(r"Old value = (\d+)", text).group(1)
    text = run("reverse-continue")                 # the change before: to the value the last one found
    assert f"New value = {old}" in text, text


@pytest.fixture(scope="module")
def dbgdemo(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("rev")
    return build([os.path.join(ROOT, "tests", "guest", "dbgdemo.c")], str(d / "dbgdemo"), ["-O0"])


def test_reverse_next_step_and_finish_by_source_line(dbgdemo, session):
    cli, run = session(dbgdemo)

    def where():
        m = re.search(r"#0\s+(?:0x[0-9a-f]+ in )?(\w+) \(.*\) at \S+:(\d+)", run("bt 1"))
        return m.group(1), int(m.group(2))

    for line in ("break sum_to", "run", "next", "next", "next", "next"):
        run(line)
    assert where() == ("sum_to", 26)              # second time round the loop
    run("reverse-next")
    assert where() == ("sum_to", 25)
    run("reverse-next")                           # over square(1): line 26 of the first round
    assert where() == ("sum_to", 26)
    assert run("print i").endswith("= 1")
    run("next")
    run("next")
    run("reverse-step")                           # the loop's increment
    assert where() == ("sum_to", 25)
    run("reverse-step")                           # line 26 after square(1) returned
    assert where() == ("sum_to", 26)
    run("reverse-step")                           # into square(1), backwards: its last line
    assert where() == ("square", 19)
    assert "Run back to call of #0" in run("reverse-finish")   # back to the call in sum_to
    assert where() == ("sum_to", 26)
    assert run("print total").endswith("= 0")


@pytest.mark.needs("gdb-multiarch")
def test_gdb_reverse_stepi_and_reverse_continue(userland):
    from tools.run import BIN_DIR
    prog = f"{BIN_DIR}/lost_update"
    srv = Server(prog)
    cmds = ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{srv.port}",
            "break worker", "continue", "stepi", "stepi", "stepi", "print $pc", "reverse-stepi", "print $pc",
            "reverse-stepi", "print $pc", "stepi", "print $pc", "reverse-continue", "print $pc", "kill"]
    p = subprocess.run(["gdb-multiarch", "-nx", "--batch"] + [a for c in cmds for a in ("-ex", c)] + [prog],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    srv.finish()
    pcs = [int(x, 16) for x in re.findall(r"\$\d+ = \(void \(\*\)\(\)\) (0x[0-9a-f]+)", p.stdout)]
    assert len(pcs) == 5, p.stdout
    after3, back1, back2, fwd1, rc = pcs
    assert back1 != after3 and back2 != back1 and fwd1 == back1
    assert "Breakpoint 1" in p.stdout.split("reverse-continue")[-1] or rc != fwd1, p.stdout


def test_reverse_continue_reports_a_change_from_the_value_at_each_checkpoint(userland, session, monkeypatch):
    """A checkpoint at every pause (CHECKPOINT_S = 0): the stop of each store, and the
    reverse-stepi's just before one. Searching back from a store, the stretch from that
    pause has no store; the one before it ends with the previous store, which must be
    compared with the value the watchpoint held at that stretch's start, not with a value
    carried over from a later moment (equal to its new value: it would be skipped)."""
    from tools.debugger import checkpoints
    monkeypatch.setattr(checkpoints, "CHECKPOINT_S", 0)
    cli, run = session("race", "20")
    for line in ("break race.c:58", "run", "watch counter"):
        run(line)
    text = run("reverse-continue 20")
    old = re.search(r"Old value = (\d+)", text).group(1)
    run("reverse-stepi")
    assert "Hardware watchpoint 2" in run("stepi")
    text = run("reverse-continue")
    assert f"New value = {old}" in text, text


@pytest.mark.slow
@pytest.mark.parametrize("every", [0, 0.0002, 0.001])
def test_reverse_continue_walks_back_store_by_store_whatever_the_checkpoints(userland, session, monkeypatch, every):
    """Checkpoints at every pause, or every fraction of a millisecond of host time: three
    reverse-continues give the last three stores of a forward run, newest first."""
    from tools.debugger import checkpoints
    monkeypatch.setattr(checkpoints, "CHECKPOINT_S", every)
    want = _last_store_forward(20)
    cli, run = session("race", "20")
    for line in ("break race.c:58", "run", "watch counter"):
        run(line)
    value = want[2]
    for _ in range(3):
        text = run("reverse-continue")
        assert f"New value = {value}" in text, text
        value = re.search(r"Old value = (\d+)", text).group(1)
    assert re.search(r"Thread (\d+) hit", text) and "moment @" in run("info time")
