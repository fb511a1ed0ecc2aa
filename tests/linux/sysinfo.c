/* System information and limits: uname, ids and groups, getrlimit/setrlimit/prlimit,
 * getrusage, sysinfo, sysconf, prctl(PR_SET_NAME), getrandom, sched_getaffinity. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct utsname u;
    CHECK("uname", uname(&u) == 0);
    printf("machine: %s, sysname/release/version/nodename non-empty: %d\n", u.machine,
           u.sysname[0] && u.release[0] && u.version[0] && u.nodename[0]);
    printf("uid == euid: %d, gid == egid: %d\n", getuid() == geteuid(), getgid() == getegid());
    gid_t groups[64];
    int n = getgroups(64, groups);
    printf("getgroups: %s\n", n >= 0 ? "ok" : errname(errno));
    RESULT("setuid to my own uid", setuid(getuid()));
    uid_t r, e, s;
    RESULT("getresuid", getresuid(&r, &e, &s));

    struct rlimit rl;
    int ret = getrlimit(RLIMIT_NOFILE, &rl);
    printf("RLIMIT_NOFILE: %s, soft <= hard %d, soft >= 20 %d\n", ret ? errname(errno) : "ok",
           rl.rlim_cur <= rl.rlim_max, rl.rlim_cur >= 20);
    ret = getrlimit(RLIMIT_STACK, &rl);
    printf("RLIMIT_STACK: %s, soft >= 64 KiB %d\n", ret ? errname(errno) : "ok",
           rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 65536);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        struct rlimit lower = {rl.rlim_cur > 16 ? 16 : rl.rlim_cur, rl.rlim_max};
        RESULT("setrlimit NOFILE 16", setrlimit(RLIMIT_NOFILE, &lower));
        int fds = 0, fd;
        while ((fd = dup(0)) >= 0)
            fds++;
        printf("dup until failure: stops with %s below 16 fds: %d\n", errname(errno), fds < 16);
        for (int i = 3; i < 64; i++)
            close(i);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct rlimit bad = {10, 5};
    RESULT("setrlimit soft > hard", setrlimit(RLIMIT_NOFILE, &bad));

    struct rusage ru;
    RESULT("getrusage(RUSAGE_SELF)", getrusage(RUSAGE_SELF, &ru));
    RESULT("getrusage(RUSAGE_CHILDREN)", getrusage(RUSAGE_CHILDREN, &ru));
    struct sysinfo si;
    ret = sysinfo(&si);
    printf("sysinfo: %s, totalram > 0 %d, procs > 0 %d\n", ret ? errname(errno) : "ok",
           ret == 0 && si.totalram > 0, ret == 0 && si.procs > 0);
    printf("sysconf: page %ld, online cpus >= 1 %d, open max >= 20 %d\n", sysconf(_SC_PAGESIZE),
           sysconf(_SC_NPROCESSORS_ONLN) >= 1, sysconf(_SC_OPEN_MAX) >= 20);
    printf("get_nprocs() >= 1: %d\n", get_nprocs() >= 1);
    cpu_set_t set;
    CPU_ZERO(&set);
    ret = sched_getaffinity(0, sizeof set, &set);
    printf("sched_getaffinity: %s, cpus >= 1 %d\n", ret ? errname(errno) : "ok", CPU_COUNT(&set) >= 1);

    char name[16] = {0};
    RESULT("prctl(PR_SET_NAME)", prctl(PR_SET_NAME, "renamed", 0, 0, 0));
    ret = prctl(PR_GET_NAME, name, 0, 0, 0);
    printf("prctl(PR_GET_NAME): %s \"%s\"\n", ret ? errname(errno) : "ok", ret ? "" : name);

    unsigned char rnd[32] = {0};
    ssize_t got = getrandom(rnd, sizeof rnd, 0);
    int nonzero = 0;
    for (int i = 0; i < 32; i++)
        nonzero |= rnd[i];
    printf("getrandom 32 bytes: %s, not all zero %d\n", got == 32 ? "ok" : errname(errno), nonzero != 0);
    RESULT("getrandom bad flags", getrandom(rnd, 4, 0x1000));
    char host[64];
    CHECK("gethostname", gethostname(host, sizeof host) == 0 && strcmp(host, u.nodename) == 0);
    puts("done");
    return 0;
}
