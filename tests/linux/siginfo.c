/* siginfo as Linux fills it: SIGCHLD's si_code and si_status for a child that exits, is
 * killed, stops and continues; SEGV_ACCERR, SIGILL and SIGTRAP with their addresses;
 * sigqueue merging for a standard signal; rt_sigqueueinfo's permission check and errors of
 * sigtimedwait; a handled signal outside the set during sigtimedwait. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "linux.h"

static sigjmp_buf jump;
static volatile int f_code, f_at_pc, hits, last_value;
static void *volatile f_addr;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    f_code = si->si_code;
    f_addr = si->si_addr;
    f_at_pc = (uintptr_t)si->si_addr == uc->uc_mcontext.__gregs[0];
    siglongjmp(jump, 1);
}

static void on_usr(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    hits++;
    last_value = si->si_value.sival_int;
}

static volatile int alarms;
static void on_alrm(int sig) { (void)sig; alarms++; }

static void install(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(sig, &sa, NULL);
}

static const char *cld(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    }
    return "?";
}

static void child_event(const char *what, pid_t pid, sigset_t *chld)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int sig = sigwaitinfo(chld, &si);
    printf("%s: SIGCHLD %d, %s, si_status %d, from the child %d\n", what, sig == SIGCHLD,
           cld(si.si_code), si.si_status, si.si_pid == pid);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit nocore = {0, 0};
    setrlimit(RLIMIT_CORE, &nocore);          /* a core-dumping signal kills: CLD_KILLED */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    child_event("_exit(7)", pid, &chld);
    waitpid(pid, NULL, 0);
    if ((pid = fork()) == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGTERM);
    child_event("SIGTERM", pid, &chld);
    waitpid(pid, NULL, 0);
    if ((pid = fork()) == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        abort();
    }
    child_event("abort", pid, &chld);
    int status;
    waitpid(pid, &status, 0);
    printf("abort: WCOREDUMP %d\n", WCOREDUMP(status) != 0);
    if ((pid = fork()) == 0) {
        for (;;)
            pause();
    }
    kill(pid, SIGSTOP);
    child_event("SIGSTOP", pid, &chld);
    waitpid(pid, &status, WUNTRACED);
    kill(pid, SIGCONT);
    child_event("SIGCONT", pid, &chld);
    kill(pid, SIGKILL);
    child_event("SIGKILL", pid, &chld);
    waitpid(pid, NULL, 0);

    install(SIGSEGV, on_fault);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sigsetjmp(jump, 1) == 0)
        *(volatile char *)(ro + 100) = 1;
    printf("write to a read-only page: SEGV_ACCERR %d, si_addr is the byte %d\n", f_code == SEGV_ACCERR,
           f_addr == ro + 100);
    munmap(ro, 4096);
    if (sigsetjmp(jump, 1) == 0)
        *(volatile char *)(ro + 8) = 1;
    printf("write to it once unmapped: SEGV_MAPERR %d, si_addr is the byte %d\n", f_code == SEGV_MAPERR,
           f_addr == ro + 8);
    install(SIGILL, on_fault);
    if (sigsetjmp(jump, 1) == 0)
        __builtin_trap();
    printf("illegal instruction: ILL_ILLOPC %d, si_addr is the pc %d\n", f_code == ILL_ILLOPC, f_at_pc);
    install(SIGTRAP, on_fault);
    if (sigsetjmp(jump, 1) == 0)
        __builtin_debugtrap();
    printf("ebreak: TRAP_BRKPT %d, si_addr is the pc %d\n", f_code == TRAP_BRKPT, f_at_pc);

    install(SIGUSR1, on_usr);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 5});
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 6});
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("two sigqueue of SIGUSR1 while blocked: %d delivery, value %d (the first)\n", hits, last_value);

    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_USER;
    errno = 0;
    long r = syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si);
    printf("rt_sigqueueinfo SI_USER to another process: %ld %s\n", r, errname(errno));
    si.si_code = SI_QUEUE;
    si.si_value.sival_int = 9;
    errno = 0;
    r = syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si);
    printf("rt_tgsigqueueinfo SI_QUEUE to myself: %ld, hits %d, value %d\n", r, hits, last_value);
    errno = 0;
    r = syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR1, &si);
    printf("rt_tgsigqueueinfo tid 0: %ld %s\n", r, errname(errno));
    errno = 0;
    r = syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si);
    printf("rt_sigqueueinfo signal 65: %ld %s\n", r, errname(errno));

    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    struct timespec bad = {0, 2000000000L};
    errno = 0;
    printf("sigtimedwait tv_nsec 2e9: %d %s\n", sigtimedwait(&usr2, NULL, &bad), errname(errno));
    struct timespec zero = {0, 0};
    errno = 0;
    printf("sigtimedwait zero timeout: %d %s\n", sigtimedwait(&usr2, NULL, &zero), errname(errno));
    signal(SIGALRM, on_alrm);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec fifty = {0, 50000000};
    errno = 0;
    r = sigtimedwait(&usr2, NULL, &fifty);
    printf("sigtimedwait 50 ms, a handled SIGALRM at 20 ms: handler ran %d, %ld %s (musl retries after EINTR)\n",
           alarms, r, errname(errno));
    raise(SIGUSR2);
    printf("raise(SIGUSR2) then sigwaitinfo: SIGUSR2 %d\n", sigwaitinfo(&usr2, &si) == SIGUSR2 && si.si_code == SI_TKILL);
    puts("done");
    return 0;
}
