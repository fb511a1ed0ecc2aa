/* Time: the clocks, their resolution, gettimeofday, time(), CPU time, calendar conversions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static long long ns(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct { clockid_t id; const char *name; } clocks[] = {
        {CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"},
        {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID"}, {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID"},
        {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
        {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"}, {CLOCK_BOOTTIME, "BOOTTIME"},
    };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec a, b, res;
        int r1 = clock_gettime(clocks[i].id, &a);
        volatile int spin = 0;
        for (int k = 0; k < 100000; k++)
            spin++;
        int r2 = clock_gettime(clocks[i].id, &b);
        int r3 = clock_getres(clocks[i].id, &res);
        printf("%s: gettime %s, never goes back %d, getres %s, resolution <= 10 ms %d\n",
               clocks[i].name, r1 || r2 ? errname(errno) : "ok", ns(&b) >= ns(&a),
               r3 ? errname(errno) : "ok", r3 == 0 && res.tv_sec == 0 && res.tv_nsec <= 10000000);
    }
    struct timespec ts;
    RESULT("clock_gettime bad clock", clock_gettime((clockid_t)42, &ts));

    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &ts);
    gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    printf("gettimeofday within 1 s of CLOCK_REALTIME: %d\n", labs(tv.tv_sec - ts.tv_sec) <= 1);
    printf("time() within 1 s of CLOCK_REALTIME: %d\n", labs(t - ts.tv_sec) <= 1);
    printf("realtime after 2020: %d\n", t > 1577836800);

    volatile double x = 0;
    clock_t c0 = clock(), c1 = c0;
    struct tms tm0;
    clock_t r0 = times(&tm0);
    for (long i = 0; i < 200000000 && c1 - c0 < CLOCKS_PER_SEC / 20; i++) {
        x += i * 0.5;                   /* compute for 50 ms of CPU time */
        if (i % 100000 == 0)
            c1 = clock();
    }
    struct tms tm1;
    clock_t r1 = times(&tm1);
    printf("clock() advances while computing: %d\n", c1 > c0);
    printf("times() returns a tick count %d, user ticks advance %d\n", r0 != (clock_t)-1 && r1 >= r0,
           tm1.tms_utime >= tm0.tms_utime && tm1.tms_utime + tm1.tms_stime > tm0.tms_utime + tm0.tms_stime);
    printf("sysconf(_SC_CLK_TCK): %ld\n", sysconf(_SC_CLK_TCK));
    struct rusage ru;
    int r = getrusage(RUSAGE_SELF, &ru);
    printf("getrusage: %s, user time > 0 %d\n", r ? errname(errno) : "ok",
           r == 0 && (ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0));

    setenv("TZ", "UTC0", 1);
    tzset();
    time_t fixed = 1234567890;
    struct tm g;
    gmtime_r(&fixed, &g);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %A %j", &g);
    printf("gmtime 1234567890: %s\n", buf);
    struct tm l;
    localtime_r(&fixed, &l);
    printf("mktime round trip: %d\n", mktime(&l) == fixed);
    strptime("2000-02-29 12:00:00", "%Y-%m-%d %H:%M:%S", &l);
    printf("timegm 2000-02-29 12:00: %ld\n", (long)timegm(&l));
    printf("difftime: %.0f\n", difftime(fixed + 90, fixed));
    puts("done");
    return 0;
}
