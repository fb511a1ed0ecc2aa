"""The debugger as a gdb user meets it (issue 17): expressions that compute only the
operator asked for, line-0 code stepped as part of its line, real symbols and section
names, watchpoints before and across `run`, a child's crash reported as the child's, checks
made when a catchpoint or condition is set, help, casts, ++, $_siginfo, and a fuzz test:
no command line or expression ends in a Python traceback. Sample program:
tests/guest/dbgmore.c (its line numbers are part of the tests)."""
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from kernel.inspect import UPCALL_TYPES
from tools.debugger import CLI, Session


@pytest.fixture(scope="module")
def progs(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("dbgmore")
    return {name: build([os.path.join(ROOT, "tests", "guest", name + ".c")], str(d / name), ["-O0"])
            for name in ("dbgmore", "dbgdemo")}


def gdb(prog, script, *args, cli=None):
    out = []
    if cli is None:
        cli = CLI(Session(prog, args, cpus=2), write=out.append)
    else:
        cli.write = out.append
    for line in script.strip().splitlines():
        cli.execute(line.strip())
    return "\n".join(line for line in out if not re.match(r"\[ *\d+\.\d{6}\] ", line)), cli


def test_expressions_compute_only_the_operator_asked_for(progs):
    text, _ = gdb(progs["dbgmore"], """
        p 3 * -1
        p 7 - -2
        p -7 / 2
        p -7 % 2
        p 9223372036854775807 / 3
        p 1 << -1
        p 0 && 1/0
        p 1 || *(int *)0
        p 1 << 70
        p 1 ? 2 : 3
    """)
    assert "$1 = -3\n$2 = 9\n$3 = -3\n$4 = -1\n$5 = 3074457345618258602\n" in text
    assert "right operand of << is negative (-1)" in text
    assert "$6 = 0\n$7 = 1\n$8 = 0" in text
    assert "Traceback" not in text and "Internal error" not in text


def test_next_steps_through_line_zero_code(progs):
    text, _ = gdb(progs["dbgmore"], """
        break main
        run
        next
        next
        bt
        list
        step
        next
        next
    """)
    assert "Cannot find bounds" not in text and "No symbol table" not in text
    assert "\n25\t    counter = pick(3, 7);\n26\t    counter++;\n#0  main (argc=1, argv=0x" in text
    assert re.search(r"#0  main \(argc=1, argv=0x[0-9a-f]+\) at tests/guest/dbgmore.c:26\n21\t", text)
    assert "\n27\t    box.hits += counter;\n28\t" in text


def test_symbols_name_real_symbols_and_sections(progs):
    text, _ = gdb(progs["dbgdemo"], """
        info symbol &counter
        info symbol &table[1]
        info symbol main
        x/dw &counter
        x/2dg table
        break main
        run
        p &counter
        x/dw &counter
    """)
    assert "counter in section .bss\ntable + 8 in section .data\nmain in section .text" in text
    assert re.search(r"0x[0-9a-f]+ <counter>:\t0\n0x[0-9a-f]+ <table>:\t10\t20\n", text)   # before run: the file's data
    assert re.search(r"\$1 = \(int \*\) 0x[0-9a-f]+ <counter>", text)
    assert re.search(r"0x[0-9a-f]+ <counter>:\t0", text)
    assert "MergedGlobals" not in text


def test_watchpoints_before_and_across_run_with_a_condition(progs):
    text, cli = gdb(progs["dbgmore"], """
        watch counter
        run
        continue
        run
        watch box.hits if box.hits > 5
        delete 1
        continue
    """)
    first = "Old value = 0\nNew value = 7\n"
    assert "Hardware watchpoint 1: counter" in text
    assert text.count(first) == 2 and "Old value = 7\nNew value = 8\n" in text
    assert "Old value = 8\nNew value = 7" not in text         # not the last run's value
    assert "Hardware watchpoint 2: box\n" not in text and "Hardware watchpoint 2: box.hits" in text
    assert "Old value = 2\nNew value = 10\n" in text and "27\t    box.hits += counter;" in text


def test_a_childs_crash_is_the_childs_and_the_end_is_reported_once(progs):
    text, _ = gdb(progs["dbgmore"], """
        run crash
        p $_siginfo
        p $_siginfo._sifields._sigfault.si_addr
        continue
    """)
    assert "Thread 5 received signal SIGSEGV, Segmentation fault." in text
    assert "$1 = {si_signo = 11, si_errno = 0, si_code = 1, _sifields = {_sigfault = {si_addr = 0x18}}}" in text
    assert "$2 = (void *) 0x18" in text
    assert "[Inferior process 5 terminated with signal SIGSEGV, Segmentation fault]" in text
    assert "Program terminated" not in text and text.count("exited normally]") == 1
    assert "child 5 signal 11" in text


def test_checked_when_set_help_casts_increments(progs):
    text, _ = gdb(progs["dbgmore"], """
        catch upcall BLOKED
        catch upcall blocked
        break pick if a ==
        break pick if nosuch == 1
        break pick if a == 3 && b / 0
        condition 2 b ==
        info breakpoints
        help break
        help n
        help frobnicate
        p $_siginfo
        run
        p counter++
        p counter
        p --counter
        p *(struct shared *)obj
        p ((struct shared *)obj)->total
        p (enum nosuch)1
    """)
    assert "Unknown upcall type 'BLOKED'" in text and "Catchpoint 1 (upcall BLOCKED)" in text
    assert "A syntax error in expression, near `'." in text and 'No symbol "nosuch" in current context.' in text
    assert "Breakpoint 2 at 0x" in text and "Breakpoint 3" not in text
    assert "stop only if a == 3 && b / 0" in text
    assert "Set a breakpoint at LOCATION" in text and "Usage: next [N]" in text
    assert 'Undefined command: "frobnicate".  Try "help".' in text
    assert "Unable to read siginfo" in text
    assert "Error in testing condition for breakpoint 2:\nDivision by zero" in text
    assert "Breakpoint 2, pick (a=3, b=7)" in text
    assert "$1 = 0\n$2 = 1\n$3 = 0\n$4 = {hits = 2, total = 40}\n$5 = 40\nNo enum type named nosuch." in text


def test_completion_of_upcall_types_and_help_topics(progs):
    cli = CLI(Session(progs["dbgmore"], (), cpus=1), write=lambda line: None)
    assert cli.complete("", "catch upcall ") == list(UPCALL_TYPES) and "BLOCKED" in UPCALL_TYPES
    assert cli.complete("un", "catch upcall un") == ["UNBLOCKED"]
    assert cli.complete("wa", "help wa") == ["watch"]


def test_debug_command_line_gdb_and_timeline(progs):
    p = subprocess.run([sys.executable, "-m", "tools.debug", "--timeline", "x.html", "--batch", "hello"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 2 and "--timeline is an option of tools.run" in p.stderr
    usage = subprocess.run([sys.executable, "-m", "tools.debug", "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True, timeout=60).stdout
    assert "--timeline" not in usage and "--gdb PORT" in usage
    srv = subprocess.Popen([sys.executable, "-m", "tools.debug", "--no-disk", "--cpus", "1", "--gdb", "0",
                            progs["dbgmore"]], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert m, line
        import socket
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=30) as c:
            c.sendall(b"$?#3f")
            reply = b""
            while b"#" not in reply:
                reply += c.recv(100)
            assert b"$T05thread:" in reply
            c.sendall(b"+$k#6b")
    finally:
        srv.kill()
        srv.wait()


EXPRS = st.recursive(
    st.sampled_from(["counter", "box", "obj", "argc", "argv", "1", "-1", "0", "70", "'a'", "$pc", "$sp", "$",
                     "$_siginfo", "mode", "box.hits", "nosuch", "9223372036854775807", "0x18"]),
    lambda e: st.one_of(
        st.tuples(e, st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "&&", "||", "==",
                                      "<", ">=", "=", ",", "?", ":"]), e).map(" ".join),
        st.tuples(st.sampled_from(["-", "!", "~", "*", "&", "++", "--", "sizeof ", "(char)", "(long *)",
                                   "(struct shared *)", "(struct nosuch *)", "("]), e).map("".join),
        st.tuples(e, st.sampled_from(["[0]", "[-1]", ".hits", "->total", "++", "--", ")", "[", "->"])).map("".join)),
    max_leaves=6)
COMMANDS = st.one_of(
    EXPRS.map(lambda e: "print " + e), EXPRS.map(lambda e: "x/2x " + e), EXPRS.map(lambda e: "output " + e),
    EXPRS.map(lambda e: "break pick if " + e), EXPRS.map(lambda e: "watch " + e), EXPRS.map(lambda e: "display " + e),
    EXPRS.map(lambda e: "info symbol " + e), EXPRS.map(lambda e: "list " + e), EXPRS.map(lambda e: "until " + e),
    st.tuples(st.sampled_from(["b", "tb", "frame", "up", "down", "finish", "info", "i r", "catch", "catch syscall",
                               "catch upcall", "delete", "enable", "disable", "condition", "ignore", "x", "x/s",
                               "disas", "help", "set var", "thread", "hart", "bt", "next", "step", "stepi",
                               "info vm", "info line", "advance", "p/", "display/i"]),
              st.text(alphabet="0123456789abxyz *&$-+()[]:,./\\'\"if", max_size=12)).map(" ".join))


@pytest.mark.slow
def test_fuzz_no_command_line_raises_a_traceback(progs):
    """Random command lines and expressions, on a program stopped at a breakpoint and
    before it runs: every answer is a gdb-style line, never an internal error."""
    out = []
    cli = CLI(Session(progs["dbgmore"], (), cpus=1), write=out.append)
    cli.execute("break pick")
    cli.execute("run")
    stopped = "Breakpoint 1, pick" in "\n".join(out)
    assert stopped

    @settings(max_examples=500, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(COMMANDS)
    def one(line):
        del out[:]
        cli.execute(line)
        text = "\n".join(str(x) for x in out)
        assert "Internal error" not in text and "Traceback" not in text, (line, text)
        if len(cli.s.bps) > 4:
            cli.execute("delete")
            cli.execute("break pick")
        if not cli.s.alive(cli.s.tid):
            cli.execute("run")
    one()
