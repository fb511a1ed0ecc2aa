"""End to end: the userland programs on the booted machine."""
import re

import pytest

from tools.run import simulate


def run(program, *args, **kw):
    return simulate(program, args, **kw)


def test_hello(userland):
    r = run("hello")
    assert r.status == 0 and r.output == "hello, world\n"


def test_echo_and_flags(userland):
    assert run("echo", "a", "b c").output == "a b c\n"
    assert run("echo", "-n", "x").output == "x"


def test_exit_status_of_program_is_machine_exit_status(userland):
    r = run("sh", input="exit 7\n")
    assert r.status == 7


def test_ls_lists_bin_with_types_and_sizes(userland):
    r = run("ls", "/bin")
    names = r.output.split()
    assert {"init", "sh", "hello", "ls", "ps", "kill", "cat", "echo"} <= set(names)
    r = run("ls", "-l", "/bin")
    line = next(line for line in r.output.splitlines() if line.endswith(" hello"))
    size = len(userland["/bin/hello"])
    assert str(size) in line.split()


def test_cat_reads_stdin_and_files(userland):
    r = run("sh", input="echo one > /tmp/a\necho two >> /tmp/a\ncat /tmp/a\n")
    assert "one\ntwo\n" in r.output
    r = run("cat", input="typed line\n")
    assert r.output.count("typed line\n") == 2          # echo of the typing, then cat's copy


def test_ps_shows_pid_state_hart_name(userland):
    r = run("ps")                                     # one row per kernel thread
    lines = r.output.splitlines()
    assert lines[0] == "  PID   LWP STATE HART NAME"
    rows = [line.split() for line in lines[1:]]
    lwps = {row[-1]: row for row in rows if row[0] != "0"}
    assert lwps["init"][:3] == ["1", "1", "S"]        # a process's first LWP has lwpid == pid
    me = lwps["ps"]
    assert me[0] == me[1] and me[2] == "R" and me[3].isdigit() and 0 <= int(me[3]) < 4
    kthreads = [row for row in rows if row[0] == "0"]
    assert kthreads and all(row[-1].startswith("[") and row[-1].endswith("]") for row in kthreads)
    assert rows[-len(kthreads):] == kthreads          # after every LWP
    r = run("ps", "-p")                               # one row per process
    lines = r.output.splitlines()
    assert lines[0].split() == ["PID", "PPID", "STATE", "HART", "NAME"]
    rows = {row.split()[-1]: row.split() for row in lines[1:]}
    assert rows["init"][:2] == ["1", "0"] and rows["init"][2] == "S"
    me = rows["ps"]
    assert me[2] == "R" and me[3].isdigit() and 0 <= int(me[3]) < 4


def test_kill_terminates_a_process(userland):
    r = run("sh", input="sleep 100 &\nps\nkill -9 $!\nwait\nps\necho $?\n")
    before, after = r.output.split("$ kill -9")
    assert " sleep" in before and " sleep" not in after.split("$ ps")[1]
    assert r.machine.clock.now < 100 * 10**9          # killed, not slept out


def test_sleep_blocks_in_virtual_time_and_idles_for_free(userland):
    r = run("sleep", "2.5")
    assert r.status == 0
    assert 2.5e9 <= r.machine.clock.now < 2.6e9
    assert sum(c.instret for c in r.kernel.sched.cpus) < 100_000     # nobody spun meanwhile


def test_spinners_spread_over_all_harts(userland):
    r = run("spin", "200000", "4")
    harts = {int(line.split()[-1]) for line in r.output.splitlines()}
    assert harts == {0, 1, 2, 3}
    busy = [c.busy_time / r.machine.clock.now for c in r.kernel.sched.cpus]
    assert min(busy) > 0.8


def test_killed_program_exit_status_is_128_plus_signal(userland, tmp_path):
    from tools.cc import build
    src = tmp_path / "crash.c"
    src.write_text("int main(void) { *(volatile int *)8 = 1; return 0; }\n")
    out = build([str(src)], str(tmp_path / "crash"))
    r = run(out)
    assert r.status == 128 + 11
    assert re.search(r"pid \d+ \(crash\): killed by SIGSEGV \(store page fault\) "
                     r"at pc 0x[0-9a-f]+ <main\+0x[0-9a-f]+>, address 0x8", r.log)


def test_illegal_instruction_and_ebreak_signals(userland, tmp_path):
    from tools.cc import build
    for name, body, sig, signame in [("ill", '__asm__ volatile(".word 0");', 4, "SIGILL"),
                                     ("brk", '__asm__ volatile("ebreak");', 5, "SIGTRAP")]:
        src = tmp_path / f"{name}.c"
        src.write_text(f"int main(void) {{ {body} return 0; }}\n")
        r = run(build([str(src)], str(tmp_path / name)))
        assert r.status == 128 + sig
        assert f"killed by {signame}" in r.log


def test_unknown_syscall_is_enosys_with_log(userland, tmp_path):
    from tools.cc import build
    src = tmp_path / "nosys.c"
    src.write_text('#include <stdio.h>\nlong __sc(long n){register long a7 __asm__("a7")=n;'
                   'register long a0 __asm__("a0");__asm__ volatile("ecall":"=r"(a0):"r"(a7));return a0;}\n'
                   'int main(void){ printf("%ld\\n", __sc(999)); return 0; }\n')
    r = run(build([str(src)], str(tmp_path / "nosys")))
    assert r.output == "-38\n" and "unknown syscall 999" in r.log


def test_S1_processes_do_not_share_memory(userland):
    r = run("s1_procmem")
    assert r.status == 0
    assert "S1 OK" in r.output
    child = re.search(r"child +\d+: global=2 at (0x[0-9a-f]+), heap=2 at (0x[0-9a-f]+)", r.output)
    parent = re.findall(r"parent +\d+: global=1 at (0x[0-9a-f]+), heap=1 at (0x[0-9a-f]+)", r.output)
    assert child and parent and parent[-1] == child.groups()       # same addresses, other values


def test_S2_crash_in_one_process_does_not_affect_others(userland):
    r = run("s2_crash")
    assert r.status == 0 and "S2 OK" in r.output
    assert r.output.count(" exited 0") == 2 and "killed by signal 11" in r.output
    assert re.search(r"killed by SIGSEGV .* at pc 0x[0-9a-f]+ <main\+0x[0-9a-f]+>, address 0x10\b", r.log)


@pytest.mark.slow
def test_usertests_all_pass(userland):
    r = run("usertests")
    assert r.status == 0, r.output + r.log
    assert "ALL TESTS PASSED" in r.output and "FAILED" not in r.output
    start, end = re.search(r"free frames: start (\d+), end (\d+)", r.output).groups()
    assert start == end
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


def test_frames_all_returned_after_every_program(userland):
    for prog in ("hello", "s1_procmem", "s2_crash"):
        r = run(prog)
        assert r.kernel.kalloc.nfree == r.kernel.free_at_boot, prog


def test_popen_reads_and_writes_through_sh(userland, tmp_path):
    from tools.cc import build
    src = tmp_path / "po.c"
    src.write_text('#include <stdio.h>\n#include <sys/wait.h>\nint main(void){ char b[64]={0};\n'
                   ' FILE *f = popen("echo from-child", "r"); fread(b, 1, 63, f); int st = pclose(f);\n'
                   ' FILE *w = popen("cat", "w"); fputs("to-child\\n", w); int st2 = pclose(w);\n'
                   ' FILE *x = popen("nosuch", "r"); int st3 = pclose(x);\n'
                   ' printf("[%s] %d %d %d\\n", b, WEXITSTATUS(st), WEXITSTATUS(st2), WEXITSTATUS(st3));'
                   ' return 0; }\n')
    r = run(build([str(src)], str(tmp_path / "po")))
    assert "to-child\n" in r.output and "[from-child\n] 0 0 127" in r.output, r.output
