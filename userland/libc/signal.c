#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include "internal.h"

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return __syscall_ret(__sys_rt_sigaction(sig, act, old, sizeof(sigset_t)));
}

sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART }, old;
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    return __syscall_ret(__sys_rt_sigprocmask(how, set, old, sizeof(sigset_t)));
}

static int badsig(int sig)
{
    if (sig >= 1 && sig < NSIG)
        return 0;
    errno = EINVAL;
    return -1;
}

int sigemptyset(sigset_t *set) { *set = 0; return 0; }
int sigfillset(sigset_t *set) { *set = ~0UL; return 0; }
int sigaddset(sigset_t *set, int sig) { if (badsig(sig)) return -1; *set |= 1UL << (sig - 1); return 0; }
int sigdelset(sigset_t *set, int sig) { if (badsig(sig)) return -1; *set &= ~(1UL << (sig - 1)); return 0; }
int sigismember(const sigset_t *set, int sig) { if (badsig(sig)) return -1; return (*set >> (sig - 1)) & 1; }

static const char *const names[32] = {
    0, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
};

static const char *const descs[32] = {
    0, "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap",
    "Aborted", "Bus error", "Floating point exception", "Killed", "User defined signal 1",
    "Segmentation fault", "User defined signal 2", "Broken pipe", "Alarm clock", "Terminated",
    "Stack fault", "Child exited", "Continued", "Stopped (signal)", "Stopped",
    "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition",
    "CPU time limit exceeded", "File size limit exceeded", "Virtual timer expired",
    "Profiling timer expired", "Window changed", "I/O possible", "Power failure",
    "Bad system call",
};

int sig2str(int sig, char *str)
{
    if (sig >= 1 && sig < 32) {
        strcpy(str, names[sig]);
        return 0;
    }
    if (sig >= 32 && sig < NSIG) {
        str[0] = 0;
        strcat(str, "RTMIN+");
        char *p = str + strlen(str);
        int n = sig - 32;
        if (n >= 10)
            *p++ = (char)('0' + n / 10);
        *p++ = (char)('0' + n % 10);
        *p = 0;
        return 0;
    }
    return -1;
}

int str2sig(const char *str, int *sig)
{
    if (str[0] >= '0' && str[0] <= '9') {
        char *end;
        long n = strtol(str, &end, 10);
        if (*end || n < 1 || n >= NSIG)
            return -1;
        *sig = (int)n;
        return 0;
    }
    for (int i = 1; i < 32; i++)
        if (strcmp(str, names[i]) == 0) {
            *sig = i;
            return 0;
        }
    return -1;
}

char *strsignal(int sig)
{
    static char buf[32];
    if (sig >= 1 && sig < 32)
        return (char *)descs[sig];
    strcpy(buf, "Unknown signal");
    return buf;
}
