/* POSIX per-process timers: timer_create with SIGEV_SIGNAL and SIGEV_THREAD, settime,
 * gettime, overruns, delete. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static volatile sig_atomic_t ticks, value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int thread_runs;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    ticks++;
    value = si->si_value.sival_int;
}

static void in_thread(union sigval v)
{
    pthread_mutex_lock(&lock);
    thread_runs += v.sival_int;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_tick;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);

    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN;
    ev.sigev_value.sival_int = 77;
    if (!CHECK("timer_create SIGEV_SIGNAL", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0))
        return 1;
    struct itimerspec its = {{0, 10 * 1000 * 1000}, {0, 10 * 1000 * 1000}}, cur;
    CHECK("timer_settime", timer_settime(t, 0, &its, NULL) == 0);
    sigset_t none;
    sigemptyset(&none);
    while (ticks < 4)
        sigsuspend(&none);
    timer_gettime(t, &cur);
    printf("4 ticks with value %d, interval %ld ns\n", value, (long)cur.it_interval.tv_nsec);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &rt, NULL);
    struct timespec nap = {0, 55 * 1000 * 1000};
    nanosleep(&nap, NULL);
    int before = ticks;
    sigprocmask(SIG_UNBLOCK, &rt, NULL);
    int over = timer_getoverrun(t);
    printf("blocked 55 ms: one signal delivered %d, overrun >= 3 %d\n", ticks == before + 1, over >= 3);
    CHECK("timer_delete", timer_delete(t) == 0);

    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = in_thread;
    ev.sigev_value.sival_int = 1;
    if (CHECK("timer_create SIGEV_THREAD", timer_create(CLOCK_REALTIME, &ev, &t) == 0)) {
        struct itimerspec once = {{0, 0}, {0, 20 * 1000 * 1000}};
        timer_settime(t, 0, &once, NULL);
        pthread_mutex_lock(&lock);
        while (thread_runs == 0)
            pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
        printf("SIGEV_THREAD function ran: %d\n", thread_runs);
        timer_delete(t);
    }
    RESULT("timer_create on a bad clock", timer_create((clockid_t)99, NULL, &t));
    puts("done");
    return 0;
}
