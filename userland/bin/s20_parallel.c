/* S20: kernel threads give real parallelism and independent blocking.
   s20_parallel [N]: one thread does N iterations of fixed work (the serial reference),
     then 4 threads do N iterations each; prints the virtual time of both (CLOCK_MONOTONIC)
     and the speedup. On --cpus 4 the 4 threads take about the time of one.
   s20_parallel block [N]: thread 0 blocks in nanosleep for 1.5x the time one thread needs
     for N iterations while threads 1-3 compute; when thread 0 wakes it records how far the
     other three got: on 4 harts they have all finished, blocking did not stop them.
   Also built against musl (`tools.cc --musl`, which defines __linux__): the same demo over
   the standard library's pthreads, which are 1:1 over clone and futex too (docs/linux.md). */
#ifdef __linux__
#define _GNU_SOURCE                      /* sched_getcpu */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../include/demo.h"
typedef pthread_t thread_t;
#define thread_create(t, fn, arg) pthread_create(t, NULL, fn, arg)
#define thread_join(t, ret) pthread_join(t, ret)
static int hostclock(struct timespec *ts) { return (int)syscall(509, ts); }   /* docs/abi.md */
#else
#include <demo.h>
#include <kos.h>
#include <thread.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NT 4

static long iters = 1000000;
static volatile long progress[NT];
static long done_at[NT];
static int hart_start[NT], hart_end[NT];
static long t0;
static long sleep_ns, woke_at, seen[NT];

static long host_now(void)
{
    struct timespec ts;
    if (hostclock(&ts) < 0)
        return 0;
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* The same fixed work for everyone: n steps of an LCG, progress published every 4096. */
__attribute__((noinline)) static unsigned long work(int i, long n)
{
    unsigned long x = (unsigned long)i + 1;
    for (long k = 1; k <= n; k++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        if ((k & 4095) == 0)
            progress[i] = k;
    }
    progress[i] = n;
    return x;
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    hart_start[i] = sched_getcpu();
    unsigned long r = work(i, iters);
    done_at[i] = now() - t0;
    hart_end[i] = sched_getcpu();
    return (void *)r;
}

static void *sleeper(void *arg)
{
    int i = (int)(long)arg;
    hart_start[i] = sched_getcpu();
    struct timespec ts = { sleep_ns / 1000000000L, sleep_ns % 1000000000L };
    nanosleep(&ts, 0);
    woke_at = now() - t0;
    for (int j = 0; j < NT; j++)
        seen[j] = progress[j];
    hart_end[i] = sched_getcpu();
    return 0;
}

static long ncpus(void)
{
#ifdef __linux__
    return sysconf(_SC_NPROCESSORS_ONLN);
#else
    struct kstat ks;
    return kstat(&ks) == 0 ? ks.ncpus : 1;
#endif
}

static int start_all(thread_t *t, void *(*fn0)(void *))
{
    for (int i = 0; i < NT; i++)
        if (thread_create(&t[i], i == 0 ? fn0 : worker, (void *)(long)i)) {
            printf("S20 FAILED: thread_create\n");
            return -1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    int block = argc > 1 && strcmp(argv[1], "block") == 0;
    if (argc > 1 + block)
        iters = atol(argv[1 + block]);
    if (iters < 4096) {
        fprintf(stderr, "usage: s20_parallel [block] [N >= 4096]\n");
        return 2;
    }
    long cpus = ncpus();
    thread_t t[NT];

    /* Serial reference: one thread, alone. */
    long h0 = host_now();
    t0 = now();
    work(0, iters);
    long serial = now() - t0, serial_host = host_now() - h0;
    printf("harts: %ld; costs: %s\n", cpus, costs_profile());
    printf("1 thread  x %ld iterations: %ld ns virtual (%ld us host)\n", iters, serial,
           serial_host / 1000);

    if (!block) {
        h0 = host_now();
        t0 = now();
        if (start_all(t, worker) < 0)
            return 1;
        for (int i = 0; i < NT; i++)
            thread_join(t[i], 0);
        long par = now() - t0, par_host = host_now() - h0;
        for (int i = 0; i < NT; i++)
            printf("thread %d: done at %ld ns, hart %d -> %d\n", i, done_at[i], hart_start[i],
                   hart_end[i]);
        printf("%d threads x %ld iterations: %ld ns virtual (%ld us host)\n", NT, iters, par,
               par_host / 1000);
        double speedup = (double)NT * serial / par;
        long most = cpus < NT ? cpus : NT;
        /* Whole threads on harts: some hart runs ceil(NT / harts) of them one after another,
           unless a thread moves to another hart in the middle of its work, which only
           preemption and stealing do, a time slice at a time (none for work shorter than a
           slice). That is the speedup to expect: NT / ceil(NT / harts). */
        double whole = (double)NT / ((NT + most - 1) / most);
        printf("speedup over running them one after another: %.2f on %ld harts\n", speedup, cpus);
        if (speedup >= 0.75 * whole) {
            printf("S20 OK: %d CPU-bound threads on %ld harts: speedup %.2f of at most %ld (%.2f "
                   "with whole threads on harts)\n", NT, cpus, speedup, most, whole);
            return 0;
        }
        printf("S20 FAILED: speedup %.2f on %ld harts, where whole threads on harts give %.2f\n", speedup,
               cpus, whole);
        return 1;
    }

    /* Thread 0 blocks in nanosleep for 1.5 serial times; threads 1-3 compute meanwhile. */
    sleep_ns = serial + serial / 2;
    memset((void *)progress, 0, sizeof progress);
    t0 = now();
    if (start_all(t, sleeper) < 0)
        return 1;
    for (int i = 0; i < NT; i++)
        thread_join(t[i], 0);
    printf("thread 0: blocked in nanosleep(%ld ns), woke at %ld ns\n", sleep_ns, woke_at);
    long sum = 0;
    int all_before = 1;
    for (int i = 1; i < NT; i++) {
        printf("thread %d: %ld of %ld iterations done when thread 0 woke, finished at %ld ns "
               "on hart %d\n", i, seen[i], iters, done_at[i], hart_end[i]);
        sum += seen[i];
        all_before &= done_at[i] < woke_at;
    }
    long harts = cpus < NT - 1 ? cpus : NT - 1;
    /* What `harts` harts can compute until thread 0 woke, at most all of it. */
    double could = (double)harts * iters * woke_at / serial;
    if (could > (double)(NT - 1) * iters)
        could = (double)(NT - 1) * iters;
    printf("while thread 0 was blocked: %ld iterations done, %.0f possible on %ld harts\n", sum,
           could, harts);
    if (sum >= 0.8 * could && (cpus < NT || all_before)) {
        printf("S20 OK: thread 0 blocked in nanosleep, the other %d threads kept running%s\n",
               NT - 1, all_before ? " and finished before it woke" : "");
        return 0;
    }
    printf("S20 FAILED: blocking thread 0 held back the others\n");
    return 1;
}
