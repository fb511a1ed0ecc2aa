"""The shell and the console line discipline, driven by scripted input."""
from tools.run import simulate


def sh(script, **kw):
    return simulate(None, input=script, **kw)


def test_prompt_echo_and_exit_status(userland):
    r = sh("echo hi\nexit 5\n")
    assert r.status == 5
    assert r.output.startswith("$ echo hi\nhi\n$ exit 5\n")


def test_eof_ends_the_shell_and_the_machine(userland):
    r = sh("echo x\n")
    assert r.status == 0 and r.output.endswith("$ ")


def test_pipeline_of_three(userland):
    r = sh("echo piped | cat | cat\n")
    assert "\npiped\n" in r.output


def test_redirections(userland):
    r = sh("echo first > /tmp/o\necho second >> /tmp/o\ncat < /tmp/o\n")
    assert "first\nsecond\n" in r.output


def test_background_job_and_wait(userland):
    r = sh("hello &\nwait\necho done\n")
    assert "hello, world\n" in r.output
    assert r.output.index("hello, world") < r.output.index("\ndone\n")


def test_not_found_and_status_variable(userland):
    r = sh("nosuchprog\necho $?\n")
    assert "sh: nosuchprog: not found" in r.output and "\n127\n" in r.output


def test_backspace_erases(userland):
    r = sh("echo abx\x7fc\n")
    assert "\nabc\n" in r.output


def test_ctrl_c_kills_the_foreground_job_not_the_shell(userland):
    r = sh("cat\n\x03echo alive\n")
    assert "^C" in r.output
    assert "\nalive\n" in r.output
    assert r.status == 0


def test_background_job_cannot_read_the_console(userland):
    r = sh("cat &\nwait\necho after\n")
    assert "cat: " in r.output and "\nafter\n" in r.output
    assert r.output.count("after") == 2               # typed once (echoed), printed once


def test_exec_of_garbage_file_is_enoexec_not_a_crash(userland):
    r = sh("echo junk > /tmp/x\n/tmp/x\necho $?\n")
    assert "bad ELF magic" in r.log
    assert "\n126\n" in r.output or "Exec format error" in r.output
