"""The shell and the console line discipline, driven by scripted input."""
import os

import pytest

from tests.conftest import ROOT
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
    r = sh("cp /bin/hello /tmp/x\necho junk > /tmp/x\n/tmp/x\necho $?\n")     # cp keeps the x bits
    assert "bad ELF magic" in r.log
    assert "\n126\n" in r.output or "Exec format error" in r.output


# ---- line editing at the prompt (the shell switches the tty to non-canonical mode) ----
LEFT, RIGHT, UP, DOWN, HOME, END, DEL = "\x1b[D", "\x1b[C", "\x1b[A", "\x1b[B", "\x1b[H", "\x1b[F", "\x1b[3~"


def printed(r):
    """What the commands printed: the output's lines less the prompt lines (which hold the
    editor's redrawing)."""
    return [line for line in r.output.split("\n")[:-1] if not line.startswith("$ ")]


def test_left_right_home_end_edit_inside_the_line(userland):
    r = sh(f"echo hello wold{LEFT * 2}r\n"
           f"cho xy{HOME}e{END}z\n"
           f"echo abXc{LEFT}\x7f\n"
           f"echo 12x4{LEFT * 2}{DEL}3{RIGHT}5\n"
           "echo ab\x02\x02_\x06\x06!\n")                  # ^B, ^F
    assert printed(r) == ["hello world", "xyz", "abc", "12345", "_ab!"]
    assert "not found" not in r.output


def test_kill_keys_and_word_movement(userland):
    r = sh("junk junk\x15echo kept\n"                      # ^U: the line before the cursor
           "echo aa bb cc\x1bb\x1bb\x0b\n"                 # Alt-b twice, ^K: to the end
           "echo one two\x17three\n")                     # ^W: the word before
    assert printed(r) == ["kept", "aa", "one three"]


def test_history_up_and_down(userland):
    r = sh(f"echo a\necho b\necho c\n{UP * 3}{DOWN}\n"
           f"echo par{UP}{DOWN}tial\n"                     # Down comes back to the line being typed
           f"{UP * 9}\n"                                   # past the oldest: stays there
           "history\n")
    out = printed(r)
    assert out[:6] == ["a", "b", "c", "b", "partial", "a"]
    assert out[6:] == ["    1  echo a", "    2  echo b", "    3  echo c", "    4  echo b", "    5  echo partial",
                       "    6  echo a", "    7  history"]


def test_tab_completes_commands_builtins_and_files(userland):
    r = sh("ech\t tabbed\n"
           "hist\t\n"
           "echo payload > /tmp/unique_name\n"
           "cat /tmp/uniq\t\n"
           "cd /tmp\ncat uniq\t\n"
           "cd /\ncat tm\tunique\t\n")
    out = printed(r)
    assert out[0] == "tabbed"
    assert out[1:3] == ["    1  echo  tabbed", "    2  history "]        # completed with its space
    assert out[3:] == ["payload", "payload", "payload"]
    assert "not found" not in r.output


def test_tab_lists_the_choices_when_ambiguous(userland):
    r = sh("s1\t\x15echo done\n")
    listing = [line for line in printed(r) if "s1_procmem" in line]
    assert len(listing) == 1 and "s10_block" in listing[0] and "sh" not in listing[0].split()
    assert printed(r)[-1] == "done"


def test_ctrl_c_at_the_prompt_discards_the_line(userland):
    r = sh("echo lost\x03echo $?\n")
    assert printed(r) == ["130"]
    assert "^C" in r.output


def test_last_line_without_newline_still_runs(userland):
    r = sh("echo a\necho last")
    assert printed(r) == ["a", "last"] and r.status == 0


def test_programs_get_a_canonical_terminal_back(userland):
    """cat reads in canonical mode: the tty edits its line (^W, ^U, backspace) and shows
    control characters as ^X; the typed ESC [ A reaches cat as bytes."""
    r = sh(f"cat\nabc def\x17xyz\njunk\x15ok\nab\x7fc\n{UP}\n\x04echo after\n")
    out = printed(r)                                       # what the tty echoed, what cat printed
    assert out[1::2][:4] == ["abc xyz", "ok", "ac", "\x1b[A"]
    assert out[0].startswith("abc def\b \b") and out[6] == "^[[A"
    assert printed(r)[-1] == "after"


# ---- redirections and builtins ----
def test_stderr_redirections(userland):
    r = sh("ls /nonexist 2> /tmp/err\n"
           "echo then; cat /tmp/err\n"
           "ls /nonexist > /tmp/both 2>&1\n"
           "cat /tmp/both\n"
           "echo to-err 1>&2 2>/dev/null\n"
           "echo a>>/tmp/app; echo b >>/tmp/app; cat /tmp/app\n"
           "echo x 3>&9\n")
    out = printed(r)
    assert out[:3] == ["then", "ls: /nonexist: No such file or directory",
                       "ls: /nonexist: No such file or directory"]
    assert out[3] == "to-err"                              # 1>&2 first: stderr was the console then
    assert out[4:6] == ["a", "b"]
    assert out[6] == "sh: 9: bad file descriptor"


def test_builtins_pwd_cd_jobs_help_exit(userland):
    r = sh("pwd\ncd /bin\npwd\ncd\npwd\ncd -\ncd /nonexist\necho $?\n"
           "sleep 1 &\njobs\nwait\njobs\necho waited\n"
           "help > /tmp/help\ncat /tmp/help | wc\n"
           "pwd | cat\nexit 300\n")
    out = printed(r)
    assert out[:5] == ["/", "/bin", "/", "/bin", "sh: cd: /nonexist: No such file or directory"]
    assert out[5] == "1"
    assert out[6].startswith("[1] ") and out[7].startswith("[1]  Running") and out[7].endswith("sleep 1 &")
    assert out[8] == "waited"
    assert int(out[9].split()[0]) >= 10                    # help's lines went to the file
    assert out[10] == "/bin" and r.status == 300 & 255


def test_finished_background_job_is_reported_at_the_prompt(userland):
    r = sh("sleep 1 &\nsleep 2\nexit abc\n")
    out = printed(r)
    assert out[0].startswith("[1] ")
    assert out[1] == "[1]  Done                    sleep 1"
    assert out[2] == "sh: exit: abc: numeric argument required" and r.status == 2


# ---- termios (tests/guest/termios.c) ----
@pytest.fixture(scope="module")
def termios_prog(tmp_path_factory):
    from tools.cc import build
    out = str(tmp_path_factory.mktemp("termios") / "termios")
    return build([os.path.join(ROOT, "tests", "guest", "termios.c")], out)


def termios_run(prog, mode, input=None):
    r = simulate(prog, [mode], cpus=2, input=input)
    assert r.status == 0, r.output + r.log
    return r.output


def test_tcgets_gives_linux_defaults_in_the_36_byte_layout(userland, termios_prog):
    out = termios_run(termios_prog, "defaults").splitlines()
    assert out[0] == "iflag 400 oflag 5 cflag 2277 lflag 105073 line 0"   # ICRNL; OPOST|ONLCR; ...
    assert out[1] == "intr 3 quit 28 erase 127 kill 21 eof 4 time 0 min 1 werase 23 susp 0"
    assert out[2] == "written 36 cc19 170"                 # c_cc[19..] of musl's struct untouched


def test_termios_on_a_pipe_or_file_is_enotty(userland, termios_prog):
    out = termios_run(termios_prog, "notty").splitlines()
    assert out[0] == "pipe get -1 Not a tty set -1 Not a tty isatty 0"
    assert out[1] == "file get -1 Not a tty set -1 Not a tty isatty 0"
    assert out[2] == "when -1 Invalid argument"


def test_non_canonical_read_waits_for_vmin_and_vmin_0_polls(userland, termios_prog):
    out = termios_run(termios_prog, "vmin", input="a\nb\nc\n")
    assert "vmin5 6: 97 10 98 10 99 10\n" in out           # three typed lines, one read
    assert "poll 0:\n" in out
    assert "a\n" not in out.replace("vmin5", "")            # ECHO was off


def test_canonical_without_echo_and_raw_mode(userland, termios_prog):
    out = termios_run(termios_prog, "noecho", input="secret\n")
    assert out == "noecho 7: 115 101 99 114 101 116 10\n"  # read, not shown
    out = termios_run(termios_prog, "raw", input="x\x03\r\n")
    assert out == "raw 4: 120 3 13 10\n"                   # ^C a byte, CR untranslated, no echo


def test_termios_bad_pointer_is_efault(userland, termios_prog):
    out = termios_run(termios_prog, "badptr")
    assert out == "get -1 Bad address set -1 Bad address\n"
