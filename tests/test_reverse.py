"""Reverse execution (tools/debugger/reverse.py): reverse-stepi undone by stepi gives the
same state back; watch + reverse-continue on race lands on the last store to the counter,
by the thread and on the hart a forward run sees; gdb-multiarch's reverse-stepi and
reverse-continue through the GDB stub."""
import re
import subprocess

import pytest

from tests.conftest import ROOT
from tests.test_debug_gdbstub import Server
from tools.debugger import CLI, Session


def session(prog, *args):
    out = []
    cli = CLI(Session(prog, args, cpus=2), write=out.append)
    return cli, out


def test_reverse_stepi_then_stepi_returns_to_the_same_state(userland):
    cli, out = session("lost_update", "300")
    for line in ("break lost_update.c:21", "run", "delete 1", "stepi 40"):
        cli.execute(line)
    s = cli.s
    t = s.thread()
    before = (s.regs(t), s.inspect.hart(t.hart).time, s.inspect.hart(t.hart).instret)
    cli.execute("print counter")
    mem_before = out[-1]
    for n in (1, 7):
        cli.execute(f"reverse-stepi {n}")
        t2 = s.thread()
        assert t2.tid == t.tid and s.inspect.hart(t2.hart).instret < before[2]
        cli.execute(f"stepi {n}")
        t2 = s.thread()
        after = (s.regs(t2), s.inspect.hart(t2.hart).time, s.inspect.hart(t2.hart).instret)
        assert after == before
        cli.execute("print counter")
        assert out[-1].split("=")[1] == mem_before.split("=")[1]


def _last_store_forward(n):
    """(tid, hart, value) of the last store to counter before race's first printf, by
    stopping at every store in a forward run."""
    cli, out = session("race", str(n))
    for line in ("break race.c:58", "run", "delete 1"):
        cli.execute(line)
    end = cli.s.inspect.hart(cli.s.hart).instret
    cli2, out2 = session("race", str(n))
    for line in ("break race.c:58", "break race.c:57", "run", "watch counter"):
        cli2.execute(line)
    last = None
    while True:
        out2.clear()
        cli2.execute("continue")
        text = "\n".join(out2)
        if "Breakpoint 1," in text:
            return last
        m = re.search(r"Thread (\d+) hit Hardware watchpoint", text)
        assert m, text
        s = cli2.s
        last = (int(m.group(1)), s.inspect.thread(int(m.group(1))).hart, re.search(r"New value = (\d+)", text).group(1))


def test_watch_and_reverse_continue_land_on_the_last_store(userland):
    want = _last_store_forward(20)
    cli, out = session("race", "20")
    for line in ("break race.c:58", "run", "watch counter"):
        cli.execute(line)
    out.clear()
    cli.execute("reverse-continue")
    text = "\n".join(out)
    m = re.search(r"Thread (\d+) hit Hardware watchpoint 2: counter", text)
    assert m, text
    tid = int(m.group(1))
    s = cli.s
    assert (tid, s.inspect.thread(tid).hart, re.search(r"New value = (\d+)", text).group(1)) == want
    cli.execute("print counter")
    assert out[-1].endswith(f"= {want[2]}")


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


@pytest.fixture(scope="module")
def dbgdemo(tmp_path_factory, userland):
    import os
    from tools.cc import build
    d = tmp_path_factory.mktemp("rev")
    return build([os.path.join(ROOT, "tests", "guest", "dbgdemo.c")], str(d / "dbgdemo"), ["-O0"])


def test_reverse_next_step_and_finish_by_source_line(dbgdemo):
    cli, out = session(dbgdemo)
    for line in ("break sum_to", "run", "next", "next", "next", "next"):
        cli.execute(line)
    assert out[-1].startswith("26\t")             # second time round the loop
    s = cli.s

    def where():
        t = s.thread()
        row = s.prog.line_at(s.frames(t)[0]["pc"])
        return s.prog.function_at(s.frames(t)[0]["pc"]).name, row.line

    cli.execute("reverse-next")
    assert where() == ("sum_to", 25)
    cli.execute("reverse-next")                   # over square(1): line 26 of the first round
    assert where() == ("sum_to", 26)
    cli.execute("print i")
    assert out[-1].endswith("= 1")
    cli.execute("next")
    cli.execute("next")
    cli.execute("reverse-step")                   # the loop's increment
    assert where() == ("sum_to", 25)
    cli.execute("reverse-step")                   # line 26 after square(1) returned
    assert where() == ("sum_to", 26)
    cli.execute("reverse-step")                   # into square(1), backwards: its last line
    assert where() == ("square", 19)
    cli.execute("reverse-finish")                 # back to the call in sum_to
    assert where() == ("sum_to", 26)
    cli.execute("print total")
    assert out[-1].endswith("= 0")
