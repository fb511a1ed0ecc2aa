/* S10: under M:1, one user thread blocking in the kernel blocks the whole process.
   Thread 1 lets the others get going, then sleeps in the kernel (uthread_sleep_us, which
   is nanosleep) while threads 2-4, CPU-bound, want to run: they do their work in chunks
   and yield after each. The program counts the chunks done while thread 1 was asleep.
     s10_block [m1|mn|sa] [NLWPS] [SLEEP_US]  default: m1, 2 LWPs for mn, 1 vp for sa, 3000 us
   M:1: the process's one LWP sleeps, so no chunk at all is done during the sleep.
   M:N with 2 LWPs: the other LWP keeps running threads 2-4.
   M:N with 1 LWP: the library sees that the sleep would leave its only LWP blocked with
   threads waiting to run, adds an LWP (Solaris's SIGWAITING idea), and they run on it.
   SA with 1 virtual processor: the kernel's BLOCKED upcall runs threads 2-4 on it.
   uevent markers 200 and 201 bracket the sleep; 202 (arg = chunks) follows it. */
#include <demo.h>
#include <kos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define NW 3                    /* CPU-bound threads */
#define CHUNKS 1500             /* each does this many chunks ... */
#define CHUNK 1000              /* ... of this many iterations of an LCG step */

static volatile long chunks[NW];
static long sleep_us = 3000;
static long before, during, slept_ns;
static int lwp_sleeper, lwp_during[NW];
static volatile int asleep;

static long total(void)
{
    long s = 0;
    for (int i = 0; i < NW; i++)
        s += chunks[i];
    return s;
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    unsigned long x = (unsigned long)i + 1;
    for (int c = 0; c < CHUNKS; c++) {
        for (int k = 0; k < CHUNK; k++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        chunks[i]++;
        if (asleep && !lwp_during[i])
            lwp_during[i] = lwp_self();   /* the LWP it ran on while thread 1 slept */
        uthread_yield();
    }
    return (void *)x;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        uthread_yield();                  /* the workers start */
    lwp_sleeper = lwp_self();
    before = total();
    syscall(SYS_uevent, 200, before);
    long t0 = now();
    asleep = 1;
    uthread_sleep_us(sleep_us);           /* in the kernel: nanosleep */
    asleep = 0;
    slept_ns = now() - t0;
    long after = total();
    syscall(SYS_uevent, 201, after);
    during = after - before;
    syscall(SYS_uevent, 202, during);
    return 0;
}

int main(int argc, char **argv)
{
    int mn = argc > 1 && strcmp(argv[1], "mn") == 0;
    int sa = argc > 1 && strcmp(argv[1], "sa") == 0;
    int nlwps = argc > 2 ? atoi(argv[2]) : 2;
    if (argc > 3)
        sleep_us = atol(argv[3]);
    if ((argc > 1 && !mn && !sa && strcmp(argv[1], "m1")) || nlwps < 1 || sleep_us < 1) {
        fprintf(stderr, "usage: s10_block [m1|mn|sa] [NLWPS] [SLEEP_US]\n");
        return 2;
    }
    if (sa && argc <= 2)
        nlwps = 1;                        /* SA: 1 virtual processor unless told */
    int e = uthread_init(mn ? UTHREAD_MN : sa ? UTHREAD_SA : UTHREAD_M1, nlwps);
    if (e) {
        printf("S10 FAILED: uthread_init: %s\n", strerror(e));
        return 1;
    }
    uthread_t s, w[NW];
    if (uthread_create(&s, sleeper, 0, 0)) {
        printf("S10 FAILED: uthread_create\n");
        return 1;
    }
    for (int i = 0; i < NW; i++)
        if (uthread_create(&w[i], worker, (void *)(long)i, 0)) {
            printf("S10 FAILED: uthread_create\n");
            return 1;
        }
    uthread_join(s, 0);
    for (int i = 0; i < NW; i++)
        uthread_join(w[i], 0);
    struct uthread_stats st;
    uthread_stats(&st);
    char model[32];
    snprintf(model, sizeof model, mn ? "M:N, %d LWP%s" : sa ? "SA, %d vp%s" : "M:1", nlwps,
             nlwps > 1 ? "s" : "");
    printf("S10 (%s; costs: %s): thread 1 slept %ld us in the kernel (woke after %ld us) while "
           "threads 2-%d were runnable\n", model, costs_profile(), sleep_us, slept_ns / 1000, NW + 1);
    printf("  chunks of work done by threads 2-%d: %ld before the sleep, %ld during it\n", NW + 1,
           before, during);
    for (int i = 0; i < NW; i++)
        if (lwp_during[i])
            printf("  thread %d ran on lwp %d during the sleep (thread 1 slept on lwp %d)\n", i + 2,
                   lwp_during[i], lwp_sleeper);
    if (mn)
        printf("  pool: %d LWPs at the end, %ld added because all were blocked\n", st.nlwps, st.grown);
    if (!mn && during == 0) {
        printf("S10 OK: under M:1 one thread's blocking call stopped every thread: 0 chunks "
               "in %ld us\n", slept_ns / 1000);
        return 0;
    }
    if (sa && during > 0) {
        printf("S10 OK: under SA the BLOCKED upcall gave the processor to the other threads: "
               "%ld chunks in %ld us\n", during, slept_ns / 1000);
        return 0;
    }
    if (mn && during > 0) {
        printf("S10 OK: under M:N the other threads ran on while thread 1 was blocked: %ld "
               "chunks in %ld us%s\n", during, slept_ns / 1000,
               st.grown ? " (on an LWP the library added)" : "");
        return 0;
    }
    printf("S10 FAILED: %ld chunks during the sleep under %s\n", during, model);
    return 1;
}
