"""The debugger (tools/debug.py, tools/debugger/): batch scripts drive every command on the
sample programs tests/guest/dbgdemo.c, dbgthreads.c and dbguthreads.c, with asserted output."""
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tools.debugger import CLI, Session, views
from tools.run import simulate


@pytest.fixture(scope="module")
def progs(tmp_path_factory, userland):
    from tools.cc import build
    d = tmp_path_factory.mktemp("dbg")
    sources = {name: os.path.join(ROOT, "tests", "guest", name + ".c") for name in ("dbgdemo", "dbgthreads", "dbguthreads")}
    sources["satest"] = os.path.join(ROOT, "userland", "bin", "s13_upcalls.c")    # the S13 demo
    return {name: build([src], str(d / name), ["-O0"]) for name, src in sources.items()}


def gdb(prog, script, *args, **kw):
    """Run a batch script (one command a line) in-process; the transcript without the
    kernel's boot log."""
    out = []
    cli = CLI(Session(prog, args, **kw), write=out.append)
    for line in script.strip().splitlines():
        cli.execute(line)
    text = "\n".join(line for line in out if not re.match(r"\[ *\d+\.\d{6}\] ", line))
    return text, cli


def test_breakpoints_backtrace_and_values(progs):
    text, cli = gdb(progs["dbgdemo"], """
        break square
        tbreak dbgdemo.c:48
        info breakpoints
        run
        print tp
        print *tp
        continue
        bt
        print x
        print y
        info args
        print table
        print origin
        print origin.y * 2
        print greeting
        print &table[1]
        print/x flags
        print flags
        print $pc
        print $1
        print sizeof(origin)
        print (char)65
        up
        info locals
        frame 2
        print local
        down 2
        info frame
    """)
    assert "Breakpoint 1 at 0x" in text and "file tests/guest/dbgdemo.c, line 18." in text
    assert "Temporary breakpoint 2 at 0x" in text and "line 48." in text
    assert re.search(r"2 +breakpoint +del +y +0x[0-9a-f]+ in main at tests/guest/dbgdemo.c:48", text)
    assert "Temporary breakpoint 2, main (argc=1, argv=0x" in text
    assert re.search(r"\$1 = \(long \*\) 0x[0-9a-f]+ <table\+8>", text)
    assert "$2 = 20" in text
    assert "Breakpoint 1, square (x=1) at tests/guest/dbgdemo.c:18\n18\t    int y = x * x;" in text
    assert re.search(r"#0  square \(x=1\) at tests/guest/dbgdemo.c:18\n"
                     r"#1  0x[0-9a-f]{16} in sum_to \(n=3\) at tests/guest/dbgdemo.c:26\n"
                     r"#2  0x[0-9a-f]{16} in main \(argc=1, argv=0x[0-9a-f]+\) at tests/guest/dbgdemo.c:48", text)
    assert "$3 = 1\n" in text and "x = 1\n" in text
    assert "$5 = {10, 20, 30, 40}" in text and "$6 = {x = 3, y = -4}" in text and "$7 = -8" in text
    assert re.search(r'\$8 = 0x[0-9a-f]+ "hello"', text)
    assert "$10 = 0x81" in text and "$11 = 129 '\\201'" in text
    assert re.search(r"\$12 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <square\+\d+>", text)
    assert re.search(r"\$13 = \(long \*\) 0x[0-9a-f]+ <table\+8>", text) and "$14 = 16" in text and "$15 = 65 'A'" in text
    assert re.search(r"#1  0x[0-9a-f]+ in sum_to \(n=3\).*\n26\t", text)
    assert "total = 0" in text and "i = 1" in text
    assert "$16 = 5" in text                               # main's local, two frames up
    assert "Stack level 0, frame at 0x" in text and "Saved registers:" in text


def test_conditions_ignore_disable_delete(progs):
    text, cli = gdb(progs["dbgdemo"], """
        break square if x == 2
        run
        delete 1
        break fact
        condition 2 n == 2
        continue
        bt
        info breakpoints
        disable 2
        break nowhere
        break 9999
        delete
        info breakpoints
        continue
    """)
    assert "Breakpoint 1, square (x=2)" in text
    assert "Breakpoint 2, fact (n=2)" in text
    assert len(re.findall(r"in fact \(n=[34]\)", text)) == 2
    assert "\tstop only if n == 2\n\tbreakpoint already hit 1 time" in text
    assert 'Function "nowhere" not defined.' in text
    assert 'Line 9999 is out of range for "dbgdemo.c".' in text
    assert "No breakpoints or watchpoints." in text
    assert "counter 38 local 32" in text and "[Inferior 1 (process 4) exited normally]" in text


def test_step_next_finish_until(progs):
    text, cli = gdb(progs["dbgdemo"], """
        break sum_to
        run
        next
        next
        step
        bt 1
        finish
        next
        until
        until
        next
        step
        step
    """)
    lines = text.splitlines()
    i = lines.index("Breakpoint 1, sum_to (n=3) at tests/guest/dbgdemo.c:24")
    assert lines[i + 2].startswith("25\t") and lines[i + 3].startswith("26\t")
    assert lines[i + 4] == "square (x=1) at tests/guest/dbgdemo.c:18"          # stepped into
    assert "Run till exit from #0  square (x=1) at tests/guest/dbgdemo.c:18" in text
    assert "Value returned is $1 = 1" in text
    assert "(More stack frames follow...)" in text
    assert "25\t    for (int i = 1; i <= n; i++)\n26\t        total += square(i);\n27\t    return total;" in text
    assert re.search(r"main \(argc=1, argv=0x[0-9a-f]+\) at tests/guest/dbgdemo.c:48", text)
    assert "fact (n=4) at tests/guest/dbgdemo.c:32" in text   # step into fact from line 49


def test_stepping_across_a_syscall_and_a_page_fault(progs):
    text, cli = gdb(progs["dbgdemo"], """
        break 40
        run
        stepi 4
        x/i $pc
        info vm p+4096
        stepi
        info vm p+4096
        next
        next
        next
        break __sys_write
        continue
        x/i $pc
        stepi
        info registers a0 a7
    """)
    assert re.search(r"=?> ?0x[0-9a-f]+ <touch\+\d+>:\tsb\ta0, 0\(a1\)|0x[0-9a-f]+ <touch\+\d+>:\tsb\ta0, 0\(a1\)", text)
    before, after = text.split("store page fault", 1)
    assert "not mapped; in region 0x3fff6fd000-0x3fff6ff000 (mmap): the first access will fault it in" in before
    assert "page fault at 0x3fff6fe000 (write): resolved by the kernel]" in after
    assert "41\t    return p;" in after                          # the store is done: next line
    assert re.search(r"level 0: .* VRW-U-AD\n  -> physical address 0x[0-9a-f]+", after)
    assert "call to syscall write]" in after                      # next over write(): the kernel's part shown
    assert "hi\n" in after
    assert "Breakpoint 2, __sys_write () at userland/libc/syscalls.S" in after
    assert re.search(r"<__sys_write\+\d+>:\tecall", after)
    assert re.search(r"a0 +0x14 +20\na7 +0x40 +64", after)          # printf's write: 20 bytes; call 64


def test_watchpoint_and_display(progs):
    text, cli = gdb(progs["dbgdemo"], """
        break main
        run
        watch counter
        display counter
        display/x local
        continue
        continue
        info display
        undisplay 1
        set var counter = 99
        print counter
        print counter = counter + 1
        continue
    """)
    assert "Hardware watchpoint 2: counter" in text
    assert "Old value = 0\nNew value = 14" in text and "Old value = 14\nNew value = 38" in text
    assert "1: counter = 14" in text and "2: /x local = 0x5" in text
    assert "$1 = 99" in text and "$2 = 100" in text
    assert "counter 100 local 32" in text                        # the program sees the change


def test_memory_disassembly_source_and_symbols(progs):
    text, cli = gdb(progs["dbgdemo"], """
        list square
        list
        print table[1] + table[2]
        break square
        run
        x/4xg table
        x/2dw &origin
        x/s greeting
        x/3xb &flags
        x/2i $pc
        disassemble
        info registers
        info registers sp ra
        info symbol square
        info symbol &counter
        info symbols ^sum_
        info functions ^fact$
        info variables ^greeting$
        info line square
        info source
    """)
    assert "16\tint square(int x)\n17\t{\n18\t    int y = x * x;" in text
    assert "$1 = 50" in text                                    # read from the ELF before run
    assert re.search(r"0x[0-9a-f]+ <table>:\t0x000000000000000a\t0x0000000000000014\n"
                     r"0x[0-9a-f]+ <table\+16>:\t0x000000000000001e\t0x0000000000000028", text)
    assert re.search(r"<origin>:\t3\t0", text) and re.search(r':\t"hello"', text)
    assert re.search(r"<flags>:\t0x81\t", text)
    assert "Dump of assembler code for function square:" in text and "End of assembler dump." in text
    assert re.search(r"=> 0x[0-9a-f]{16} <\+\d+>:\t", text)
    assert re.search(r"^pc +0x[0-9a-f]+ +0x[0-9a-f]+ <square\+\d+>$", text, re.M)
    assert re.search(r"^priv +0x0 +user \(LWP 4\)$", text, re.M)
    assert re.search(r"^ra +0x[0-9a-f]+ +0x[0-9a-f]+ <sum_to\+\d+>$", text, re.M)
    assert "square in section .text" in text and "counter in section .bss" in text
    assert re.search(r"0x[0-9a-f]{16} +\d+ function sum_to", text)
    assert re.search(r"0x[0-9a-f]{16}  fact", text) and "const char * greeting;" in text
    assert 'Line 18 of "tests/guest/dbgdemo.c" starts at address' in text
    assert "Current source file is tests/guest/dbgdemo.c" in text


def test_machine_views_threads_harts_and_a_context_switch(progs):
    text, cli = gdb(progs["dbgthreads"], """
        break bump
        run
        info threads
        info harts
        thread 4
        bt
        hart 0
        hart 1
        hart 7
        info procs
        info clock
        info uthreads
        info activations
        delete
        catch switch
        continue
        info harts
        hart 0
        continue
    """, cpus=2, costs="xv6")       # the interleaving below (which LWP reaches bump first) is xv6's
    assert "[New Thread 5 (LWP 5)]" in text and "[New Thread 6 (LWP 6)]" in text
    assert "Thread 6 hit Breakpoint 1, bump (by=10) at tests/guest/dbgthreads.c:19" in text
    assert re.search(r"  4 +LWP 4 \(pid 4, kthread 4\) \"dbgthreads\" sleeping +- +__sys_lwp_wait \(\)", text)
    assert re.search(r"  5 +LWP 5 \(pid 4, kthread 5\) \"dbgthreads\" runnable +- +worker ", text)  # not started yet
    assert re.search(r"\* 6 +LWP 6 \(pid 4, kthread 6\) \"dbgthreads\" running +0 +bump \(by=10\)", text)
    assert re.search(r"\* 0 +user +LWP 6 pid 4 dbgthreads +0x[0-9a-f]+ <bump\+\d+>", text)
    assert re.search(r"  1 +idle", text)
    assert "[Switching to thread 4 (LWP 4)]" in text
    assert re.search(r"#1  0x[0-9a-f]+ in __libc_start", text)
    assert "[Switching to hart 0: LWP 6 of pid 4 (dbgthreads)]" in text
    assert "[hart 1 is idle]" in text
    assert "Invalid hart 7: the machine has harts 0-1." in text
    assert re.search(r"\* 4 +1 +\w+ +3 +dbgthreads", text)        # 3 LWPs
    assert "virtual time" in text and "hart 1: local time" in text
    assert "not available: the program does not use the green-thread library" in text
    assert "No scheduler activations: no process called sa_enable." in text
    assert "Catchpoint 2 (context switch: LWP 6 leaves hart 0 (exit)), LWP 6 has exited" in text
    assert re.search(r"  0 +idle", text) and re.search(r"\* 1 +idle", text)
    assert "[hart 0 is idle]" in text
    assert re.search(r"Thread 4 hit Catchpoint 2 \(context switch: LWP 4 starts on hart 0\), "
                     r"0x[0-9a-f]+ in __sys_lwp_wait \(\)", text)


def test_catchpoints(progs):
    text, _ = gdb(progs["dbgthreads"], """
        catch exec
        catch fork
        catch syscall write
        catch signal SIGCHLD
        catch fault
        catch upcall
        catch nothing
        run
        continue
        continue
        continue
        continue
        continue
        info breakpoints
    """, "fork", cpus=2)
    assert "Catchpoint 3 (syscall 'write' [64])" in text
    assert "Catchpoint 6 (upcall)" in text
    assert 'Undefined catch command: "nothing".' in text
    assert re.search(r"Catchpoint 1 \(exec'd /bin/dbgthreads\), 0x0*10000 in _start \(\)", text)
    assert "[New inferior process 5 (fork of 4)]" in text
    assert re.search(r"Catchpoint 2 \(fork, child process 5\), 0x[0-9a-f]+ in __sys_clone \(\)", text)
    assert re.search(r"Catchpoint 5 \(page fault at 0x[0-9a-f]+ \(write\): resolved by the kernel\)", text)
    assert re.search(r"Catchpoint 4 \(signal SIGCHLD", text)


def test_fault_stops_before_the_kernel_kills(progs):
    text, _ = gdb(progs["dbgthreads"], """
        run
        bt
        print bad
        continue
        continue
    """, "crash", cpus=2)
    assert "Program received signal SIGSEGV, Segmentation fault." in text
    assert "[store page fault at pc 0x" in text and "address 0x18" in text
    assert "41\t        *bad = 1;" in text and "$1 = (volatile int *) 0x18" in text
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in text
    assert "The program no longer exists." in text and "The program is not being run." in text


def test_errors_are_one_line_messages(progs):
    text, cli = gdb(progs["dbgdemo"], """
        frobnicate
        print 1 +
        print nosuchvar
        x/4xg 0
        info registers
        step
        info nonsense
        print 1/0
        run
        continue
        bt
    """)
    for msg in ('Undefined command: "frobnicate".', "A syntax error in expression", 'No symbol "nosuchvar"',
                "The program is not being run.", 'Undefined info command: "nonsense".', "Division by zero"):
        assert msg in text
    assert "Traceback" not in text


def test_same_session_twice_and_same_machine_as_tools_run(progs):
    script = """
        break bump
        run
        continue
        stepi
        next
        watch shared
        continue
        delete
        continue
    """
    one, cli = gdb(progs["dbgthreads"], script, cpus=2)
    again, _ = gdb(progs["dbgthreads"], script, cpus=2)
    assert one == again                                              # the same session every time
    m = cli.s.machine
    twice, _ = gdb(progs["dbgthreads"], "break bump\nrun\nnext\ninfo harts\nrun\nnext\ninfo harts", cpus=2)
    first, second = twice.split("Starting program", 2)[1:]
    assert first.strip() == second.strip()                           # run twice: the same session
    r = simulate(progs["dbgthreads"], cpus=2)
    assert (m.clock.now, [h.instret for h in cli.s.inspect.harts()]) == \
           (r.machine.clock.now, [c.instret for c in r.kernel.sched.cpus])
    assert "shared 33" in r.output and "shared 33" in one


def test_command_line_batch(progs, tmp_path):
    script = tmp_path / "cmds.gdb"
    script.write_text("break square\nrun\nbt\n")
    p = subprocess.run([sys.executable, "-m", "tools.debug", "--no-disk", "--cpus", "2", "--batch", "-x", str(script),
                        "-ex", "p x", "-ex", "frobnicate", "-ex", "continue", progs["dbgdemo"]],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Breakpoint 1, square (x=1)" in p.stdout and "$1 = 1" in p.stdout
    assert 'Undefined command: "frobnicate".' in p.stdout and "Traceback" not in p.stdout + p.stderr
    p = subprocess.run([sys.executable, "-m", "tools.debug", "--no-disk", "--batch", "nosuchprog"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 2 and "nosuchprog" in p.stderr and "Traceback" not in p.stderr


def test_next_across_a_blocking_syscall_shows_the_context_switches(progs):
    text, _ = gdb(progs["dbgthreads"], """
        break 56
        run
        next
        info threads
    """, cpus=1)
    assert "Thread 4 hit Breakpoint 1, main (argc=1, argv=0x" in text
    events = re.findall(r"\[kernel, \d+ ns, hart 0: LWP 4 (.*)\]", text)
    assert events == ["call to syscall lwp_wait", "sleeps on lwp_wait", "context switch: LWP 4 leaves hart 0 (sleep)",
                      "woken from lwp_wait", "context switch: LWP 4 starts on hart 0"]
    assert "[Thread 5 (LWP 5) exited]" in text                  # the workers ran meanwhile, seen
    assert "57\t    __sys_lwp_wait(b);" in text
    assert re.search(r"\* 4 +LWP 4 .* running +0 +main \(argc=1, argv=0x[0-9a-f]+\) at tests/guest/dbgthreads.c:57", text)


def test_catch_upcall_and_info_activations(progs):
    text, _ = gdb(progs["satest"], """
        catch upcall BLOCKED
        run
        info activations
        continue
    """, cpus=2)
    assert "Catchpoint 1 (upcall BLOCKED)" in text
    assert re.search(r"hit Catchpoint 1 \(upcall BLOCKED: 1 event\(s\), 0 interrupted, activations 1\), "
                     r"0x[0-9a-f]+ in upcall ", text)
    assert re.search(r"pid \d+ \(satest\): 1 virtual processor\(s\) \(asked 1\), \d+ upcall stack\(s\) free", text)
    assert re.search(r"  - +1 +\d+ +sleeping +- +blocked in kernel", text)
    assert re.search(r"  0 +2 +\d+ +\w+ ", text)


def test_info_uthreads_lists_the_green_threads(progs):
    text, cli = gdb(progs["dbguthreads"], """
        info uthreads
        break main
        run
        info uthreads
        break pong
        continue
        info uthreads
    """, cpus=1)
    assert "The program is not being run." in text
    assert "not available: the program has not called uthread_init" in text
    assert "Breakpoint 2, pong (arg=0x2) at tests/guest/dbguthreads.c:20" in text
    table = text.split("Id  State     LWP   Control block       Where\n", 1)[1]
    assert re.search(r"  0 +BLOCKED +- +0x[0-9a-f]+  saved pc 0x[0-9a-f]+ <uthread_join\+\d+>, sp 0x[0-9a-f]+ "
                     r"in main at tests/guest/dbguthreads.c:34", table)
    assert re.search(r"  1 +RUNNABLE +- +0x[0-9a-f]+  saved pc 0x[0-9a-f]+ <ping\+\d+>, sp 0x[0-9a-f]+ "
                     r"in ping at tests/guest/dbguthreads.c:13", table)
    assert re.search(r"\* 2 +RUNNING +4 +0x[0-9a-f]+  pong \(arg=0x2\) at tests/guest/dbguthreads.c:20", table)
    us = {u.id: u for u in views.uthreads(cli.s)}                  # the API under the command
    assert {i: (u.state, u.lwp.tid if u.lwp else None) for i, u in us.items()} == \
        {0: ("BLOCKED", None), 1: ("RUNNABLE", None), 2: ("RUNNING", 4)}


def test_stepping_across_a_user_level_switch(progs):
    text, _ = gdb(progs["dbguthreads"], """
        break pong
        run
        tbreak __uswitch
        continue
        info uthreads
        stepi 55
        info threads
        stepi
        info uthreads
        info threads
        nexti
        continue
    """, cpus=1)
    assert "Temporary breakpoint 2, __uswitch () at userland/libc/uswitch.S:50" in text
    # at the switch's entry the library has already marked ping RUNNING; tp is still pong's
    assert re.search(r"  1 +RUNNING +- +0x[0-9a-f]+  saved pc 0x[0-9a-f]+ <ping\+\d+>", text)
    assert re.search(r"\* 2 +RUNNABLE +4 +0x[0-9a-f]+  __uswitch \(\) at userland/libc/uswitch.S:50", text)
    # __uswitch's ret lands in the other user thread's function, on the same LWP, with no
    # system call or kernel event on the way (claim S8)
    during = text.split("Temporary breakpoint 2, __uswitch", 1)[1].split("Continuing.", 1)[0]
    assert "ping (arg=0x1) at tests/guest/dbguthreads.c:14\n14\t    }" in during
    assert "[kernel" not in during and "Switching to" not in during and "[New Thread" not in during
    assert re.search(r"\* 4 +LWP 4 .* running +0 +ping \(arg=0x1\) at tests/guest/dbguthreads.c:14", during)
    assert re.search(r"\* 1 +RUNNING +4 +0x[0-9a-f]+  ping \(arg=0x1\) at tests/guest/dbguthreads.c:11", during)
    assert re.search(r"  2 +RUNNABLE +- +0x[0-9a-f]+  saved pc 0x[0-9a-f]+ <pong\+\d+>, sp 0x[0-9a-f]+ "
                     r"in pong at tests/guest/dbguthreads.c:23", during)
    assert "turns 2 2" in text and "exited normally" in text


def test_stepping_after_an_upcall(progs):
    text, _ = gdb(progs["satest"], """
        catch upcall BLOCKED
        run
        stepi
        bt 1
        info activations
        info uthreads
        next
        continue
    """, cpus=2)
    assert re.search(r"hit Catchpoint 1 \(upcall BLOCKED: 1 event\(s\), 0 interrupted, activations 1\), "
                     r"0x[0-9a-f]+ in upcall ", text)
    after = text.split("\n33\tstatic void upcall", 1)[1]
    assert re.match(r".*\n0x[0-9a-f]+\t33\tstatic void upcall", after)        # stepi: still in upcall
    assert re.search(r"#0  0x[0-9a-f]+ in upcall \(", after)
    assert re.search(r"  - +1 +\d+ +sleeping +- +blocked in kernel", after)   # the blocked activation
    assert "not available: the program does not use the green-thread library" in after
    assert "35\t    for (int i = 0; i < events + interrupted && log_n < 16; i++) {" in after
    assert "upcall BLOCKED id 1" in after and "exited normally" in after

