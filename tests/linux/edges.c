/* Corners a careless or hostile program hits, each as Linux answers it: readv and writev
 * on a pipe with a bad segment after a good one (EFAULT, nothing moved), readv of fewer
 * bytes than its segments hold (no wait for more),
 * a negative iovec length, lseek past the largest offset (an overflow) and with an unknown whence,
 * O_CREAT|O_DIRECTORY, tgkill with a bad tgid, getrlimit(NULL), gettimeofday and the
 * scheduling-policy queries through raw system calls, rt_sigpending's short sizes, getsid, truncate, preadv and pwritev. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

#define SHOW(what, expr) do { errno = 0; long r_ = (long)(expr); \
        printf("%s: %ld%s%s\n", what, r_, r_ < 0 ? " " : "", r_ < 0 ? errname(errno) : ""); } while (0)

int main(void)
{
    char a[8] = {0}, b[8] = {0};
    int p[2];

    /* readv: the first segment is good, the second unmapped; then one that must not wait */
    pipe(p);
    write(p[1], "hello", 5);
    struct iovec bad[2] = { { a, 2 }, { (void *)0x1000, 3 } };
    SHOW("readv good then unmapped", readv(p[0], bad, 2));
    printf("  left %ld\n", (long)read(p[0], b, sizeof b));
    write(p[1], "xy", 2);
    struct iovec two[2] = { { a, 2 }, { b, 3 } };
    SHOW("readv 2 bytes into 2+3", readv(p[0], two, 2));
    struct iovec first_bad[2] = { { (void *)0x1000, 3 }, { a, 2 } };
    write(p[1], "z", 1);
    SHOW("readv unmapped first", readv(p[0], first_bad, 2));
    SHOW("writev good then unmapped", writev(p[1], bad, 2));
    SHOW("  read it back", read(p[0], b, sizeof b));
    struct iovec neg[1] = { { a, (size_t)-1 } };
    SHOW("writev length -1", writev(p[1], neg, 1));
    SHOW("readv length -1", readv(p[0], neg, 1));
    struct iovec empty[2] = { { 0, 0 }, { (void *)0x1000, 0 } };
    SHOW("writev of empty segments", writev(p[1], empty, 2));
    SHOW("lseek on a pipe, whence 7", lseek(p[0], 0, 7));
    close(p[0]);
    close(p[1]);

    int fd = open("/tmp", O_RDONLY);
    int f = openat(fd, "edges.tmp", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "hello", 5);
    SHOW("lseek INT64_MAX past the end", lseek(f, INT64_MAX, SEEK_END));
    SHOW("  offset kept", lseek(f, 0, SEEK_CUR));
    SHOW("lseek whence 7", lseek(f, 0, 7));
    SHOW("lseek whence -1", lseek(f, 0, -1));
    close(f);
    unlinkat(fd, "edges.tmp", 0);
    SHOW("open O_CREAT|O_DIRECTORY", openat(fd, "edges.dir", O_CREAT | O_DIRECTORY | O_RDONLY, 0755));
    SHOW("  nothing created", faccessat(fd, "edges.dir", F_OK, 0));
    close(fd);

    SHOW("tgkill tgid -1", syscall(SYS_tgkill, -1, syscall(SYS_gettid), 0));
    SHOW("tgkill tgid 0", syscall(SYS_tgkill, 0, syscall(SYS_gettid), 0));
    SHOW("tgkill self", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
    SHOW("tkill self", syscall(SYS_tkill, syscall(SYS_gettid), 0));

    SHOW("getrlimit NULL", syscall(SYS_getrlimit, RLIMIT_NOFILE, 0));
    SHOW("prlimit64 NULL NULL", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, 0));

    struct timeval tv;
    struct timespec ts;
    struct { int minuteswest, dsttime; } tz = { 99, 99 };
    clock_gettime(CLOCK_REALTIME, &ts);
    SHOW("gettimeofday", syscall(SYS_gettimeofday, &tv, &tz));
    printf("  within a second of clock_gettime %d, usec < 1e6 %d, timezone %d %d\n",
           tv.tv_sec - ts.tv_sec <= 1 && tv.tv_sec >= ts.tv_sec, tv.tv_usec < 1000000, tz.minuteswest, tz.dsttime);
    SHOW("gettimeofday NULL NULL", syscall(SYS_gettimeofday, 0, 0));
    SHOW("gettimeofday unmapped", syscall(SYS_gettimeofday, (void *)0x1000, 0));

    struct sched_param sp = { 42 };
    SHOW("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
    SHOW("sched_getscheduler -1", syscall(SYS_sched_getscheduler, -1));
    SHOW("sched_getscheduler no such pid", syscall(SYS_sched_getscheduler, 999999));
    SHOW("sched_getparam", syscall(SYS_sched_getparam, 0, &sp));
    printf("  priority %d\n", sp.sched_priority);
    SHOW("sched_getparam NULL", syscall(SYS_sched_getparam, 0, 0));
    SHOW("sched_getparam unmapped", syscall(SYS_sched_getparam, 0, (void *)0x1000));
    SHOW("priority max FIFO", syscall(SYS_sched_get_priority_max, SCHED_FIFO));
    SHOW("priority min RR", syscall(SYS_sched_get_priority_min, SCHED_RR));
    SHOW("priority max OTHER", syscall(SYS_sched_get_priority_max, SCHED_OTHER));
    SHOW("priority max 42", syscall(SYS_sched_get_priority_max, 42));

    long set = -1;
    SHOW("rt_sigpending size 4", syscall(SYS_rt_sigpending, &set, 4));
    printf("  upper half untouched %d\n", set == (long)0xffffffff00000000UL);
    SHOW("rt_sigpending size 16", syscall(SYS_rt_sigpending, &set, 16));

    SHOW("getsid(0) is a session", getsid(0) > 0);
    SHOW("getsid(no such pid)", getsid(999999));
    f = open("/tmp/edges.tr", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(f, "0123456789", 10);
    SHOW("truncate to 4", truncate("/tmp/edges.tr", 4));
    SHOW("  size", lseek(f, 0, SEEK_END));
    SHOW("truncate -1", truncate("/tmp/edges.tr", -1));
    SHOW("truncate a directory", truncate("/tmp", 0));
    SHOW("truncate a missing file", truncate("/tmp/edges.none", 0));
    SHOW("truncate a device", truncate("/dev/null", 0));
    char c[3] = {0}, d[3] = {0};
    struct iovec cd[2] = { { c, 2 }, { d, 2 } };
    SHOW("preadv at 1", preadv(f, cd, 2, 1));
    printf("  \"%s\" \"%s\", offset still %ld\n", c, d, (long)lseek(f, 0, SEEK_CUR));
    SHOW("pwritev at 6", pwritev(f, cd, 2, 6));
    SHOW("  size", lseek(f, 0, SEEK_END));
    SHOW("preadv offset -1", preadv(f, cd, 2, -1));
    SHOW("preadv past the end", preadv(f, cd, 2, 100));
    pipe(p);
    SHOW("preadv on a pipe", preadv(p[0], cd, 2, 0));
    SHOW("pwritev on a read-only fd", (close(f), f = open("/tmp/edges.tr", O_RDONLY), pwritev(f, cd, 2, 0)));
    close(f);
    unlink("/tmp/edges.tr");
    return 0;
}
