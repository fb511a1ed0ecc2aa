/* waitid as Linux: P_PID, P_ALL, P_PGID 0, WNOWAIT, WNOHANG with nothing to report (a
 * zeroed siginfo), WSTOPPED reported once, CLD_EXITED/CLD_STOPPED/CLD_KILLED with si_status,
 * a NULL infop, EINVAL for bad options and ids, ECHILD, and EFAULT after the reap. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"
#define SHOW(what, expr) do { errno = 0; long r_ = (long)(expr); \
        printf("%s: %ld%s%s\n", what, r_, r_ < 0 ? " " : "", r_ < 0 ? errname(errno) : ""); } while (0)
static void info(siginfo_t *si, pid_t c)
{
    printf("  signo %d code %d pid %s status %d\n", si->si_signo, si->si_code,
           si->si_pid == c ? "child" : si->si_pid == 0 ? "0" : "other", si->si_status);
}
int main(void)
{
    siginfo_t si;
    pid_t c = fork();
    if (!c) _exit(3);
    memset(&si, 0x55, sizeof si);
    SHOW("waitid WNOWAIT", waitid(P_PID, c, &si, WEXITED | WNOWAIT));
    info(&si, c);
    SHOW("waitid again reaps", waitid(P_PID, c, &si, WEXITED));
    info(&si, c);
    SHOW("waitid none left", waitid(P_ALL, 0, &si, WEXITED));
    c = fork();
    if (!c) { pause(); _exit(0); }
    memset(&si, 0x55, sizeof si);
    SHOW("WNOHANG nothing yet", waitid(P_ALL, 0, &si, WEXITED | WNOHANG));
    info(&si, c);
    kill(c, SIGSTOP);
    SHOW("WSTOPPED", waitid(P_PID, c, &si, WSTOPPED));
    info(&si, c);
    SHOW("stop reported once", waitid(P_PID, c, &si, WSTOPPED | WNOHANG));
    info(&si, c);
    kill(c, SIGKILL);
    SHOW("killed, P_PGID 0", waitid(P_PGID, 0, &si, WEXITED));
    info(&si, c);
    c = fork();
    if (!c) { signal(SIGABRT, SIG_DFL); *(volatile int *)0 = 1; _exit(0); }
    SHOW("P_ALL, NULL infop", waitid(P_ALL, 0, 0, WEXITED));
    SHOW("no options", waitid(P_ALL, 0, &si, 0));
    SHOW("bad option", waitid(P_ALL, 0, &si, WEXITED | 0x100));
    SHOW("bad idtype", waitid(7, 0, &si, WEXITED));
    SHOW("P_PID 0", waitid(P_PID, 0, &si, WEXITED));
    SHOW("P_PID -1", waitid(P_PID, -1, &si, WEXITED));
    SHOW("P_PGID -1", waitid(P_PGID, -1, &si, WEXITED));
    SHOW("no children", waitid(P_ALL, 0, &si, WEXITED));
    c = fork();
    if (!c) _exit(1);
    SHOW("unmapped infop", waitid(P_PID, c, (siginfo_t *)0x1000, WEXITED));
    SHOW("  then reaped", waitid(P_PID, c, &si, WEXITED | WNOHANG));
    return 0;
}
