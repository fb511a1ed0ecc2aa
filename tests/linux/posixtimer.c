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
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 0;
    RESULT("timer_create with signal 0", timer_create(CLOCK_MONOTONIC, &ev, &t));
    ev.sigev_notify = 99;
    RESULT("timer_create with notify 99", timer_create(CLOCK_MONOTONIC, &ev, &t));
    ev.sigev_notify = SIGEV_NONE;
    CHECK("timer_create SIGEV_NONE", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
    struct itimerspec bad = {{0, 0}, {0, 1000000000L}};
    RESULT("timer_settime tv_nsec 1e9", timer_settime(t, 0, &bad, NULL));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec abs = {{0, 0}, {now.tv_sec + 2, now.tv_nsec}};
    timer_settime(t, TIMER_ABSTIME, &abs, NULL);
    timer_gettime(t, &cur);
    printf("SIGEV_NONE, TIMER_ABSTIME now + 2 s: 1 s < left <= 2 s %d\n",
           cur.it_value.tv_sec == 1 || (cur.it_value.tv_sec == 2 && cur.it_value.tv_nsec == 0));
    timer_delete(t);
    RESULT("timer_gettime after timer_delete", timer_gettime(t, &cur));

    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    CHECK("timer_create without a sigevent", timer_create(CLOCK_REALTIME, NULL, &t) == 0);
    struct itimerspec later = {{0, 0}, {2, 0}}, off = {{0, 0}, {0, 0}}, soon = {{0, 0}, {0, 1000000}};
    timer_settime(t, 0, &later, NULL);
    timer_settime(t, 0, &off, &cur);
    printf("disarmed: the old setting had 1 s < left <= 2 s %d\n", cur.it_value.tv_sec == 1 ||
           (cur.it_value.tv_sec == 2 && cur.it_value.tv_nsec == 0));
    timer_gettime(t, &cur);
    printf("disarmed: left %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    timer_settime(t, 0, &soon, NULL);
    siginfo_t si;
    int sig = sigwaitinfo(&alrm, &si);
    printf("it sends SIGALRM %d with SI_TIMER %d\n", sig == SIGALRM, si.si_code == SI_TIMER);
    timer_delete(t);
    puts("done");
    return 0;
}
