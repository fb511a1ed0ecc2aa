"""Static musl programs meeting what Linux's output cannot show: where this kernel is
meant to differ (one user, its own limits, seeded random bytes) and what needs its
console or its kernel threads (tests/linux holds the programs whose output is Linux's)."""
import pytest

from tools.cc import build
from tools.run import simulate

SOURCE = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *e(long r) { return r < 0 ? strerror(errno) : "ok"; }
static void *idle(void *arg) { (void)arg; pause(); return NULL; }

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "ids")) {
        printf("setuid(1000): %s\n", e(setuid(1000)));
        printf("setgid(5): %s\n", e(setgid(5)));
        printf("setresuid(0, -1, 0): %s\n", e(setresuid(0, -1, 0)));
        gid_t g[3] = {7, 3, 7}, out[3];
        setgroups(3, g);
        int n = getgroups(3, out);
        printf("groups: %d %d %d\n", n, out[0], out[1]);
    } else if (!strcmp(what, "limits")) {
        struct rlimit r;
        getrlimit(RLIMIT_NOFILE, &r);
        printf("NOFILE %ld %ld\n", (long)r.rlim_cur, (long)r.rlim_max);
        getrlimit(RLIMIT_STACK, &r);
        printf("STACK %ld %ld\n", (long)r.rlim_cur, (long)r.rlim_max);
        r.rlim_cur = r.rlim_max = 64;
        printf("NOFILE 64: %s\n", e(setrlimit(RLIMIT_NOFILE, &r)));
        int p[2];
        pipe(p);
        printf("F_SETPIPE_SZ 2 MiB: %s\n", e(fcntl(p[0], F_SETPIPE_SZ, 2 << 20)));
        printf("F_SETPIPE_SZ 1 MiB: %d\n", fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
        struct pollfd fds[33] = {{0}};
        printf("poll 33 fds: %s\n", e(poll(fds, 33, 0)));
        static char big[3 << 20];
        printf("getrandom 3 MiB: %zd\n", getrandom(big, sizeof big, 0));
    } else if (!strcmp(what, "random")) {
        unsigned char b[8];
        int fd = open("/dev/urandom", O_RDONLY);
        read(fd, b, 8);
        for (int i = 0; i < 8; i++)
            printf("%02x", b[i]);
        getrandom(b, 8, 0);
        for (int i = 0; i < 8; i++)
            printf("%02x", b[i]);
        printf("\n");
    } else if (!strcmp(what, "console")) {
        struct pollfd in = {0, POLLIN, 0};
        int r = poll(&in, 1, -1);
        char line[32] = {0};
        read(0, line, sizeof line - 1);
        printf("poll %d revents %#x, read %s", r, in.revents, line);
        in.revents = 0;
        printf("poll again, nothing typed yet: %d\n", poll(&in, 1, 100));
    } else if (!strcmp(what, "proc")) {
        pthread_t t;
        pthread_create(&t, NULL, idle, NULL);
        DIR *d = opendir("/proc/self/task");
        int n = 0;
        while (readdir(d))
            n++;
        printf("task entries (with . and ..): %d\n", n);
        char buf[256] = {0};
        int fd = open("/proc/2/stat", O_RDONLY);
        read(fd, buf, sizeof buf - 1);
        char name[32];
        char state;
        sscanf(buf, "%*d %31s %c", name, &state);
        printf("pid 2: %s %c\n", name, state);
        fd = open("/proc/self/status", O_RDONLY);
        memset(buf, 0, sizeof buf);
        read(fd, buf, sizeof buf - 1);
        printf("%s", strstr(buf, "Threads:") ? "status has Threads\n" : buf);
        char exe[64] = {0};
        readlink("/proc/self/fd/1", exe, sizeof exe - 1);
        printf("fd 1 is %s\n", exe);
        exit(0);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def prog(tmp_path_factory, userland):
    d = tmp_path_factory.mktemp("limits")
    (d / "limits.c").write_text(SOURCE)
    return build([str(d / "limits.c")], str(d / "limits"), ["--musl"])


def run(prog, *args, **kw):
    r = simulate(prog, list(args), cpus=kw.pop("cpus", 1), **kw)
    assert r.status == 0, r.log
    return r.output


def test_one_user_root_cannot_become_another(prog):
    """Linux lets root become any user; this kernel has only root, so another id is EPERM."""
    assert run(prog, "ids") == ("setuid(1000): Operation not permitted\nsetgid(5): Operation not permitted\n"
                                "setresuid(0, -1, 0): ok\ngroups: 2 3 7\n")


def test_the_kernel_s_own_limits(prog):
    out = run(prog, "limits")
    assert out == ("NOFILE 32 32\nSTACK 8388608 8388608\nNOFILE 64: Operation not permitted\n"
                   "F_SETPIPE_SZ 2 MiB: Operation not permitted\nF_SETPIPE_SZ 1 MiB: 1048576\n"
                   "poll 33 fds: Invalid argument\ngetrandom 3 MiB: 1048576\n")


def test_random_bytes_follow_the_seed(prog):
    a, b, c = (run(prog, "random", seed=s) for s in (1, 1, 2))
    assert a == b and a != c and len(a) == 33


def test_poll_waits_for_console_input(prog):
    out = run(prog, "console", input="typed\n")             # (echoed by the terminal)
    assert out == "typed\npoll 1 revents 0x1, read typed\npoll again, nothing typed yet: 1\n"   # then ^D: EOF


def test_proc_shows_threads_and_kernel_threads(prog):
    out = run(prog, "proc", cpus=2)
    assert out == ("task entries (with . and ..): 4\npid 2: (kreaper) I\nstatus has Threads\n"
                   "fd 1 is /dev/console\n")
