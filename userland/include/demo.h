#ifndef _DEMO_H
#define _DEMO_H
/* Helpers the demo programs of userland/bin share; not part of the C library. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

/* A timespec in nanoseconds. */
static inline long ns(struct timespec ts)
{
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Virtual time in ns: CLOCK_MONOTONIC counts 1 ns per guest instruction (deterministic). */
static inline long now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ns(ts);
}

/* A CPU-bound thread that never blocks or yields (arg seeds its arithmetic). */
static inline void *spin_forever(void *arg)
{
    volatile unsigned long x = (unsigned long)arg;
    for (;;)
        x = x * 3 + 1;
    return 0;
}

/* Sleep t ns of virtual time, through interruptions. */
static inline void vsleep(long t)
{
    struct timespec ts = { t / 1000000000L, t % 1000000000L };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* The cost profile in force, for a demo's header: what follows "costs=" in uname's version
   field ("linux", or "linux KTHREAD_SWITCH=0" with --cost overrides). */
static inline const char *costs_profile(void)
{
    static struct utsname u;
    if (uname(&u) < 0)
        return "?";
    char *p = strstr(u.version, "costs=");
    return p ? p + 6 : "?";
}

/* Run the command line cmd (a program in /bin and its arguments, through popen) with its
   output in out (at most size - 1 bytes, NUL-terminated): its exit status, or -1. */
static inline int capture(const char *cmd, char *out, size_t size)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t len = fread(out, 1, size - 1, f);
    out[len] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
