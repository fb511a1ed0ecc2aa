/* Synchronous signals and queued real-time signals: sigwait, sigtimedwait, sigqueue. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static volatile int order[8], norder;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (norder < 8)
        order[norder++] = (sig - SIGRTMIN) * 100 + si->si_value.sival_int;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    kill(getpid(), SIGUSR1);
    int sig = 0;
    int r = sigwait(&set, &sig);
    printf("sigwait: %d, got SIGUSR1 %d\n", r, sig == SIGUSR1);

    union sigval v = {.sival_int = 42};
    CHECK("sigqueue", sigqueue(getpid(), SIGRTMIN, v) == 0);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    sig = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: SIGRTMIN %d, SI_QUEUE %d, value %d, from me %d\n", sig == SIGRTMIN,
           si.si_code == SI_QUEUE, si.si_value.sival_int, si.si_pid == getpid());

    struct timespec ts = {0, 50 * 1000 * 1000};
    errno = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sig = sigtimedwait(&set, &si, &ts);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("sigtimedwait with nothing pending: %d %s, waited >= 50 ms %d\n", sig, errname(errno),
           ms >= 50);

    for (int i = 1; i <= 3; i++) {
        v.sival_int = i;
        sigqueue(getpid(), SIGRTMIN + 1, v);
        sigqueue(getpid(), SIGRTMIN, v);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("six queued real-time signals delivered in order (lowest signal first, FIFO):");
    for (int i = 0; i < norder; i++)
        printf(" %d", order[i]);
    printf("\n");
    puts("done");
    return 0;
}
