"""Unmodified static Linux programs (tests/linux/, docs/linux.md): each is built at test
time with zig's riscv64-linux-musl target (`tools.cc --musl`, the same command a student
types), run under the kernel, and its console output compared with NAME.out beside it,
the output Linux gives (checked on Linux, and under qemu-riscv64 by the qemu tests below).

A case that fails today is marked xfail(strict=True) with the missing feature as its reason:
when the kernel learns the feature the case passes, strict turns that into a failure, and
the mark must go. The threaded programs run on 2 and 4 harts."""
import os
import shutil
import subprocess
from typing import NamedTuple

import pytest

from tools.cc import build
from tools.run import simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "tests", "linux")
OUT = os.path.join(ROOT, "build", "linux")
NS = 10**9


class Case(NamedTuple):
    args: tuple = ()
    threaded: bool = False         # runs on 2 and 4 harts
    xfail: str = None              # why the kernel fails it today
    qemu: str = None               # why qemu-riscv64 cannot check NAME.out (qemu's limitation)
    max_time: int = 5 * NS         # virtual time before a hung program is stopped


CASES = {
    "stdio": Case(),
    "malloc": Case(),
    "files": Case(),
    "fsmeta": Case(),
    "fslinks": Case(),
    "calls": Case(),
    "fork": Case(),
    "exec": Case(qemu="qemu-user cannot exec a riscv64 child without binfmt_misc (ENOEXEC), and its "
                      "vfork is a fork"),
    "pipes": Case(),
    "signals": Case(),
    "siginfo": Case(),
    "sigwait": Case(qemu="qemu-user delivers queued real-time signals highest first"),
    "timers": Case(max_time=10 * NS),
    "posixtimer": Case(threaded=True),
    "time": Case(),
    "poll": Case(),
    "mmap_anon": Case(qemu="qemu 7.2 ignores MAP_FIXED_NOREPLACE"),
    "mmap_shared": Case(),
    "mmap_file": Case(),
    "mremap": Case(),
    "pth_mutex": Case(threaded=True),
    "pth_cond": Case(threaded=True),
    "pth_rwlock": Case(threaded=True),
    "pth_barrier": Case(threaded=True),
    "pth_tls": Case(threaded=True),
    "pth_detach": Case(threaded=True),
    "pth_cancel": Case(threaded=True),
    "pth_signal": Case(threaded=True),
    "pth8": Case(threaded=True),
    "cpp_iostream": Case(),
    "cpp_thread": Case(threaded=True),
    "cpp_except": Case(threaded=True),
    "env": Case(args=("one", "two words", "")),
    "sysinfo": Case(),
    "devices": Case(),
    "edges": Case(qemu="qemu-user's readv and writev move the bytes before a bad segment (Linux's pipes: EFAULT)"),
    "waitid": Case(qemu="qemu-user leaves si_status unwritten when WNOHANG finds nothing (Linux zeroes it)"),
    "scripts": Case(qemu="qemu-user cannot exec a riscv64 child without binfmt_misc (ENOEXEC)"),
    "procfs": Case(qemu="qemu-user's /proc/self/stat and /proc/self/status describe qemu"),
}


def source(name):
    for ext in (".c", ".cc"):
        path = os.path.join(SRC, name + ext)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(name)


def expected(name):
    with open(os.path.join(SRC, name + ".out")) as f:
        return f.read()


def binary(name):
    """build/linux/NAME, rebuilt when its source, linux.h or the compiler driver changed."""
    src, out = source(name), os.path.join(OUT, name)
    deps = [src, os.path.join(SRC, "linux.h"), os.path.join(ROOT, "tools", "cc.py")]
    if not os.path.exists(out) or os.path.getmtime(out) < max(os.path.getmtime(d) for d in deps):
        build([src], out, ["--musl", "-O2", "-I", SRC])
    return out


def test_cc_musl_command_line(userland, tmp_path, capsys):
    """`tools.cc --musl` as a student types it: a static riscv64 Linux executable, -lNAME
    accepted (musl has libm and libpthread inside libc), errors as one line and status 2."""
    from tools import cc
    src = tmp_path / "p.c"
    src.write_text("#include <math.h>\n#include <stdio.h>\n"
                   "int main(void) { printf(\"%.0f\\n\", sqrt(49.0)); return 0; }\n")
    out = tmp_path / "p"
    assert cc.main(["--musl", "-O2", "-o", str(out), str(src), "-lm", "-lpthread"]) == 0
    assert simulate(str(out), cpus=1).output == "7\n"
    assert cc.main(["-lm", "-o", str(out), str(src)]) == 2
    assert cc.main(["--musl", "-o", str(out), str(tmp_path / "missing.c")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["cc: -lm: libraries only with --musl", f"cc: {tmp_path / 'missing.c'}: no such file"]


def test_every_program_has_a_case_and_an_expected_output():
    names = {os.path.splitext(f)[0] for f in os.listdir(SRC) if f.endswith((".c", ".cc"))}
    assert names == set(CASES)
    for name in names:
        assert expected(name).endswith("\n"), name


def params():
    for name, case in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        for cpus in ((2, 4) if case.threaded else (2,)):
            yield pytest.param(name, cpus, marks=marks, id=f"{name}-{cpus}harts")


@pytest.mark.parametrize("name,cpus", list(params()))
def test_linux_program(userland, name, cpus):
    case = CASES[name]
    r = simulate(binary(name), case.args, cpus=cpus, max_time=case.max_time)
    assert (r.status, r.output) == (0, expected(name)), r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot, "frames leaked"


@pytest.mark.parametrize("cpus,seeds", [
    (2, range(1, 3)), (4, range(1, 3)),
    pytest.param(2, range(10), marks=pytest.mark.slow), pytest.param(4, range(10), marks=pytest.mark.slow)])
def test_pth8_same_result_over_seeds(userland, cpus, seeds):
    """The issue's acceptance: 8 musl pthreads, condition-variable broadcast and a barrier
    give Linux's result whatever the interleaving (10 seeds; 2 in the quick set)."""
    outputs = set()
    for seed in seeds:
        r = simulate(binary("pth8"), cpus=cpus, seed=seed, max_time=CASES["pth8"].max_time)
        assert r.status == 0, f"seed {seed}: {r.log}"
        outputs.add(r.output)
    assert outputs == {expected("pth8")}


VFORK_ORPHAN = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static int fds[2];
static char message[32];
static void *ender(void *arg) { usleep(10000); _exit(3); }   /* exit_group while main is in vfork */
int main(void) {
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        pthread_create(&t, NULL, ender, NULL);
        if (vfork() == 0) {
            usleep(50000);                   /* its parent's process has ended by now */
            strcpy(message, "child still runs");
            write(fds[1], message, strlen(message));
            _exit(0);
        }
        for (;;)
            pause();
    }
    close(fds[1]);
    char buf[32] = {0}, more;
    read(fds[0], buf, sizeof buf - 1);
    read(fds[0], &more, 1);                  /* end of file: the vfork child has exited */
    int status;
    waitpid(pid, &status, 0);
    printf("%s; the parent exited %d\n", buf, WEXITSTATUS(status));
    return 0;
}
"""


def test_vfork_child_outlives_its_parents_process(userland, tmp_path):
    """Another LWP ends the process whose LWP sleeps in vfork: the child keeps running on
    the address space it borrowed (its stores land there), and frees it when it exits."""
    src, out = tmp_path / "vforkorphan.c", tmp_path / "vforkorphan"
    src.write_text(VFORK_ORPHAN)
    build([str(src)], str(out), ["--musl", "-O2"])
    r = simulate(str(out), cpus=2, max_time=NS)
    assert (r.status, r.output) == (0, "child still runs; the parent exited 3\n"), r.output + r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


VFORK_KILLED = r"""
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static int fds[2];
static long ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000 + t.tv_nsec / 1000000; }
int main(void) {
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, SIG_IGN);
        if (vfork() == 0) {
            usleep(50000);
            write(fds[1], "done", 4);
            _exit(0);
        }
        _exit(1);
    }
    close(fds[1]);
    usleep(10000);                           /* the child sleeps in vfork by now */
    long t0 = ms();
    kill(pid, SIGUSR1);                      /* ignored: it keeps waiting */
    kill(pid, SIGKILL);                      /* killable: it dies at once */
    int status;
    waitpid(pid, &status, 0);
    long waited = ms() - t0;
    char buf[8] = {0}, more;
    read(fds[0], buf, 4);
    read(fds[0], &more, 1);                  /* end of file: the vfork child has exited */
    printf("killed by %d after %s ms; the vfork child went on: %s\n", WTERMSIG(status),
           waited < 20 ? "< 20" : ">= 20", buf);
    return 0;
}
"""


def test_vfork_parent_is_killable(userland, tmp_path):
    """A parent asleep in vfork dies at once of SIGKILL (Linux's killable wait; an ignored
    signal leaves it waiting), and its child goes on with the memory it borrowed."""
    src, out = tmp_path / "vforkkilled.c", tmp_path / "vforkkilled"
    src.write_text(VFORK_KILLED)
    build([str(src)], str(out), ["--musl", "-O2"])
    r = simulate(str(out), cpus=2, max_time=NS)
    assert (r.status, r.output) == (0, "killed by 9 after < 20 ms; the vfork child went on: done\n"), r.output + r.log
    assert r.kernel.kalloc.nfree == r.kernel.free_at_boot


@pytest.mark.parametrize("args", [("200000",), ("block", "200000")])
def test_lecture_demo_s20_over_musl_pthreads(userland, args):
    """userland/bin/s20_parallel.c built against musl: the lecture's S20 demo over the
    standard library's pthreads shows the same 1:1 parallelism (a speedup near 4 on 4
    harts) and independent blocking as over thread.h."""
    src, out = os.path.join(ROOT, "userland", "bin", "s20_parallel.c"), os.path.join(OUT, "s20_parallel")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        build([src], out, ["--musl", "-O2"])
    r = simulate(out, args, cpus=4)
    assert r.status == 0 and "S20 OK" in r.output, r.output + r.log
    assert "clone" not in r.log and r.kernel.kalloc.nfree == r.kernel.free_at_boot


QEMU = shutil.which("qemu-riscv64")


@pytest.mark.slow
@pytest.mark.skipif(QEMU is None, reason="qemu-riscv64 is not installed")
@pytest.mark.parametrize("name", list(CASES))
def test_expected_output_is_what_qemu_linux_gives(name, tmp_path):
    """NAME.out is Linux's behaviour: qemu-riscv64 (Linux's system calls, riscv64 code)
    prints it too, except where qemu-user itself falls short (the reason says how)."""
    case = CASES[name]
    if case.qemu:
        pytest.skip(case.qemu)
    p = subprocess.run([QEMU, binary(name), *case.args], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert (p.returncode, p.stdout.decode()) == (0, expected(name))
