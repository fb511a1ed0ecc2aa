/* Signals: handlers and siginfo, masks and pending signals, sigsuspend, SIGCHLD,
 * SA_RESETHAND, sigaltstack, catching a fault and jumping out of it. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

static volatile sig_atomic_t hits, last_sig;
static volatile int info_code, info_pid, info_uid, on_alt, chld_pid, chld_hits;
static char *alt_base;
static sigjmp_buf jump;
static void *volatile fault_addr;

static void on_usr(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits++, last_sig = sig;
    info_code = si->si_code, info_pid = si->si_pid, info_uid = si->si_uid;
    char probe;
    on_alt = alt_base && &probe >= alt_base && &probe < alt_base + SIGSTKSZ * 4;
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    chld_pid = si->si_pid;
    info_code = si->si_code;
    chld_hits++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    fault_addr = si->si_addr;
    info_code = si->si_code;
    siglongjmp(jump, 1);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr, 0);
    raise(SIGUSR1);
    printf("raise: hits %d, si_code SI_TKILL %d, si_pid is me %d\n", hits, info_code == SI_TKILL,
           info_pid == getpid());
    kill(getpid(), SIGUSR1);
    printf("kill: hits %d, si_code SI_USER %d, si_pid is me %d, si_uid is me %d\n", hits,
           info_code == SI_USER, info_pid == getpid(), info_uid == (int)getuid());

    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigpending(&pending);
    printf("blocked: hits %d, pending %d\n", hits, sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: hits %d (two standard signals merge into one)\n", hits);

    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigsuspend(&old);
    printf("sigsuspend returned after the child's signal: hits %d, from the child %d\n", hits,
           info_pid == pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    waitpid(pid, NULL, 0);

    install(SIGCHLD, on_chld, SA_RESTART);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    if ((pid = fork()) == 0)
        _exit(4);
    while (!chld_hits)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("SIGCHLD: from the child %d, CLD_EXITED %d\n", chld_pid == pid, info_code == CLD_EXITED);
    waitpid(pid, NULL, 0);

    void (*prev)(int) = signal(SIGUSR2, SIG_IGN);
    printf("signal() returns the previous disposition SIG_DFL: %d\n", prev == SIG_DFL);
    raise(SIGUSR2);
    printf("ignored SIGUSR2: still alive\n");

    install(SIGUSR1, on_usr, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SA_RESETHAND: handler reset to SIG_DFL %d\n", now.sa_handler == SIG_DFL);

    stack_t ss = {.ss_sp = alt_base = malloc(SIGSTKSZ * 4), .ss_size = SIGSTKSZ * 4, .ss_flags = 0};
    CHECK("sigaltstack", sigaltstack(&ss, NULL) == 0);
    install(SIGUSR1, on_usr, SA_ONSTACK);
    raise(SIGUSR1);
    printf("SA_ONSTACK handler ran on the alternate stack: %d\n", on_alt);

    install(SIGSEGV, on_segv, SA_NODEFER);
    volatile int *bad = (int *)0x40;
    if (sigsetjmp(jump, 1) == 0)
        *bad = 1;
    printf("SIGSEGV caught: si_addr %p, SEGV_MAPERR %d\n", fault_addr, info_code == SEGV_MAPERR);

    RESULT("kill with signal 99", kill(getpid(), 99));
    if ((pid = fork()) == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    RESULT("kill(reaped child, 0)", kill(pid, 0));
    if ((pid = fork()) == 0)
        _exit(0);
    usleep(50000);                  /* the child has exited: a zombie until waited for */
    RESULT("kill(zombie child, 0)", kill(pid, 0));
    waitpid(pid, NULL, 0);
    RESULT("sigaction(SIGKILL)", sigaction(SIGKILL, &now, NULL));
    if ((pid = fork()) == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    printf("SIGKILL: killed by %d\n", WTERMSIG(status));
    puts("done");
    return 0;
}
