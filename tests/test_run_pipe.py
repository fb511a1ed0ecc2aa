"""tools.run as a Unix filter: when the reader of its output goes away (`| head -1`), the
run ends quietly with status 128+SIGPIPE, as a Unix tool killed by SIGPIPE does."""
import os
import signal
import subprocess
import sys

from tests.conftest import ROOT

CHATTY = r"""
#include <stdio.h>
int main(void)
{
    for (int i = 0; i < 200000; i++)
        printf("line %d of a long output\n", i);
    return 0;
}
"""


def test_output_to_a_closed_pipe_ends_quietly(tmp_path, userland):
    from tools.cc import build
    src = tmp_path / "chatty.c"
    src.write_text(CHATTY)
    prog = build([str(src)], str(tmp_path / "chatty"), ["-O1"])
    p = subprocess.Popen([sys.executable, "-m", "tools.run", "--no-disk", "--cpus", "1", prog], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"line 0 of a long output\n"
    p.stdout.close()                                  # as head -1 does
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 128 + signal.SIGPIPE
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
