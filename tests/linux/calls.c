/* The small calls, the details: resource limits (RLIMIT_NOFILE enforced), priorities,
 * groups and ids, prctl names, membarrier, getrandom, clocks, times, pipe capacity and
 * FIONREAD, sendfile, poll and select on devices and files, and the errno of each mistake. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit rl, saved;
    RESULT("getrlimit(99)", getrlimit(99, &rl));
    RESULT("prlimit of no such process", prlimit(999999, RLIMIT_NOFILE, NULL, &rl));
    getrlimit(RLIMIT_NOFILE, &saved);
    rl.rlim_cur = rl.rlim_max = 1 << 21;
    RESULT("RLIMIT_NOFILE above the kernel's table", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = 5, rl.rlim_max = saved.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
    printf("under a limit of 5: fds %d %d, then open %s", a, b,
           open("/dev/null", O_RDONLY) < 0 ? errname(errno) : "ok");
    printf(", dup2 to 5 %s", dup2(0, 5) < 0 ? errname(errno) : "ok");
    printf(", F_DUPFD from 5 %s\n", fcntl(0, F_DUPFD, 5) < 0 ? errname(errno) : "ok");
    close(a), close(b);
    setrlimit(RLIMIT_NOFILE, &saved);

    RESULT("setpriority 7", setpriority(PRIO_PROCESS, 0, 7));
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    printf("getpriority: %d %s\n", prio, errname(errno));
    RESULT("setpriority(99, ...)", setpriority(99, 0, 1));
    RESULT("setpriority of no such process", setpriority(PRIO_PROCESS, 999999, 1));
    printf("nice(1) adds to it: %d\n", nice(1));

    gid_t groups[4] = {0, 5}, got[4];
    RESULT("setgroups {0, 5}", setgroups(2, groups));
    printf("getgroups(0, NULL): %d\n", getgroups(0, NULL));
    RESULT("getgroups into 1 slot", getgroups(1, got));
    setgroups(0, NULL);
    printf("after setgroups(0): %d\n", getgroups(0, NULL));
    uid_t r = 9, e = 9, s = 9;
    getresuid(&r, &e, &s);
    printf("getresuid: %d %d %d\n", (int)r, (int)e, (int)s);
    RESULT("setuid(0)", setuid(0));
    RESULT("setresgid(-1, -1, -1)", setresgid(-1, -1, -1));
    printf("umask returns the old mask: %03o %03o\n", umask(077), umask(022));

    char name[32] = {0};
    prctl(PR_SET_NAME, "a-very-long-thread-name", 0, 0, 0);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    printf("PR_SET_NAME keeps 15 bytes: \"%s\"\n", name);
    RESULT("prctl(9999)", prctl(9999, 0, 0, 0, 0));

    long q = syscall(SYS_membarrier, 0, 0, 0);
    printf("membarrier QUERY has PRIVATE_EXPEDITED and its registration: %d\n", q > 0 && (q & 24) == 24);
    RESULT("PRIVATE_EXPEDITED unregistered", syscall(SYS_membarrier, 8, 0, 0));
    RESULT("REGISTER_PRIVATE_EXPEDITED", syscall(SYS_membarrier, 16, 0, 0));
    RESULT("PRIVATE_EXPEDITED registered", syscall(SYS_membarrier, 8, 0, 0));
    RESULT("membarrier bad flags", syscall(SYS_membarrier, 0, 1, 0));
    RESULT("membarrier bad command", syscall(SYS_membarrier, 1 << 20, 0, 0));

    unsigned char rnd[16];
    printf("getrandom GRND_NONBLOCK: %zd\n", getrandom(rnd, sizeof rnd, GRND_NONBLOCK));
    RESULT("getrandom GRND_RANDOM|GRND_INSECURE", getrandom(rnd, 4, GRND_RANDOM | GRND_INSECURE));

    struct timespec ts;
    RESULT("clock_getres(MONOTONIC, NULL)", clock_getres(CLOCK_MONOTONIC, NULL));
    RESULT("clock_getres(99)", clock_getres(99, &ts));
    ts.tv_sec = 0, ts.tv_nsec = 1000;
    printf("clock_nanosleep(99): %s\n", errname(clock_nanosleep(99, 0, &ts, NULL)));
    printf("clock_nanosleep(THREAD_CPUTIME): %s\n", errname(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL)));
    ts.tv_nsec = 2000000000;
    printf("clock_nanosleep tv_nsec 2e9: %s\n", errname(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL)));
    ts.tv_sec = 1, ts.tv_nsec = 0;
    printf("TIMER_ABSTIME in the past: %s\n", errname(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)));
    printf("times(NULL) is not -1: %d\n", times(NULL) != (clock_t)-1);
    struct rusage ru;
    RESULT("getrusage(99)", getrusage(99, &ru));
    RESULT("getrusage(RUSAGE_THREAD)", getrusage(RUSAGE_THREAD, &ru));

    int p[2];
    pipe(p);
    printf("F_SETPIPE_SZ 5000 gives %d", fcntl(p[1], F_SETPIPE_SZ, 5000));
    printf(", F_GETPIPE_SZ %d\n", fcntl(p[0], F_GETPIPE_SZ));
    char big[6000];
    memset(big, 'b', sizeof big);
    printf("write 6000: %zd\n", write(p[1], big, sizeof big));
    RESULT("F_SETPIPE_SZ below the data in it", fcntl(p[1], F_SETPIPE_SZ, 4096));
    int avail = 0;
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    int f = open("/dev/null", O_RDONLY);
    RESULT("F_GETPIPE_SZ on /dev/null", fcntl(f, F_GETPIPE_SZ));
    RESULT("FIONREAD on /dev/null", ioctl(f, FIONREAD, &avail));
    struct pollfd pf[2] = {{f, POLLIN | POLLOUT, 0}, {p[0], POLLIN, 0}};
    printf("poll /dev/null and a full-ish pipe: %d, revents %#x %#x\n", poll(pf, 2, 0), pf[0].revents, pf[1].revents);
    RESULT("select nfds -1", select(-1, NULL, NULL, NULL, &(struct timeval){0, 0}));
    ts.tv_sec = 0, ts.tv_nsec = 2000000000;
    RESULT("ppoll tv_nsec 2e9", ppoll(pf, 1, &ts, NULL));
    char drain[8192];
    read(p[0], drain, sizeof drain);

    char tmpl[] = "/tmp/callsXXXXXX";
    int fd = mkstemp(tmpl);
    write(fd, "0123456789", 10);
    off_t off = 2;
    printf("sendfile 5 from offset 2: %zd", sendfile(p[1], fd, &off, 5));
    printf(", offset now %ld, file offset %ld\n", (long)off, (long)lseek(fd, 0, SEEK_CUR));
    char got5[8] = {0};
    read(p[0], got5, 5);
    printf("the pipe holds \"%s\"\n", got5);
    RESULT("sendfile from a pipe", sendfile(fd, p[0], NULL, 1));
    int app = open(tmpl, O_WRONLY | O_APPEND);
    RESULT("sendfile to an O_APPEND file", sendfile(app, fd, &off, 1));
    close(app), close(fd), unlink(tmpl);

    int full = open("/dev/full", O_WRONLY);
    RESULT("write /dev/full", write(full, "x", 1));
    printf("lseek /dev/null: %ld\n", (long)lseek(f, 100, SEEK_SET));
    char z[4] = {1, 1, 1, 1};
    int zero = open("/dev/zero", O_RDONLY);
    printf("pread /dev/zero: %zd %d\n", pread(zero, z, 4, 1000), z[0] + z[1] + z[2] + z[3]);
    puts("done");
    return 0;
}
