/* Timers and sleeping: alarm and pause, setitimer (real, virtual, profiling), getitimer,
 * nanosleep, clock_nanosleep (relative and absolute). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static volatile sig_atomic_t alarms, vtalrms, profs;

static void on_sig(int sig)
{
    if (sig == SIGALRM)
        alarms++;
    else if (sig == SIGVTALRM)
        vtalrms++;
    else if (sig == SIGPROF)
        profs++;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(1);
    int r = pause();
    long ms = ms_since(&t0);
    printf("alarm(1) then pause: returned %d %s, alarms %d, slept 1 s %d\n", r, errname(errno),
           alarms, ms >= 1000 && ms < 1500);
    printf("alarm(5) returns the previous remainder: %u\n", alarm(5));
    printf("alarm(0) cancels and returns the remainder: %u\n", alarm(0));

    struct itimerval it = {{0, 20000}, {0, 20000}}, cur;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    setitimer(ITIMER_REAL, &it, NULL);
    sigset_t none;
    sigemptyset(&none);
    alarms = 0;
    while (alarms < 5)
        sigsuspend(&none);
    ms = ms_since(&t0);
    getitimer(ITIMER_REAL, &cur);
    printf("ITIMER_REAL 20 ms: 5 ticks in >= 100 ms %d, interval kept %ld us\n", ms >= 100,
           (long)cur.it_interval.tv_usec);
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

    struct itimerval v = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    setitimer(ITIMER_PROF, &v, NULL);
    volatile unsigned long spin = 0;
    while (vtalrms < 3 || profs < 3)
        spin++;
    memset(&v, 0, sizeof v);
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    setitimer(ITIMER_PROF, &v, NULL);
    printf("ITIMER_VIRTUAL and ITIMER_PROF fire while computing: %d %d\n", vtalrms >= 3, profs >= 3);
    RESULT("setitimer(99)", setitimer(99, &v, NULL));

    struct timespec req = {0, 30 * 1000 * 1000}, rem = {9, 9};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = nanosleep(&req, &rem);
    ms = ms_since(&t0);
    printf("nanosleep 30 ms: %d, slept >= 30 ms %d\n", r, ms >= 30);
    req.tv_nsec = 2000000000L;
    RESULT("nanosleep tv_nsec 2e9", nanosleep(&req, NULL));

    alarms = 0;
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 50000;
    setitimer(ITIMER_REAL, &it, NULL);
    req.tv_sec = 2, req.tv_nsec = 0;
    r = nanosleep(&req, &rem);
    printf("nanosleep interrupted by SIGALRM: %d %s, remaining > 1 s %d\n", r, errname(errno),
           rem.tv_sec >= 1);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    req.tv_sec = 0, req.tv_nsec = 40 * 1000 * 1000;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    printf("clock_nanosleep relative 40 ms: %d, slept >= 40 ms %d\n", r, ms_since(&t0) >= 40);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 60 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    printf("clock_nanosleep TIMER_ABSTIME: %d, woke at or after the deadline %d\n", r,
           now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec));
    r = usleep(10000);
    printf("usleep: %d\n", r);
    printf("sleep(1): %u\n", sleep(1));
    puts("done");
    return 0;
}
