/* sa_speedup: the speedup experiment of Anderson et al., "Scheduler activations" (1991), in
   small: a parallel computation whose threads also block in the kernel for I/O.
   T threads each do R rounds of: C iterations of fixed work (an LCG step, ~4 instructions),
   then one blocking call of IO_US microseconds (nanosleep, standing for a disk read: the
   disk's default latency is 100 us). The same work is first done by one thread alone (the
   serial reference: compute and I/O one after the other), then by T threads under each
   model, each in a child process (a process picks its thread model once):
     M:1                 user threads on one LWP: no parallelism, and every I/O blocks all
     M:N, H LWPs         user threads on a pool of H LWPs: a thread in I/O holds its LWP, so
                         the pool runs on with one LWP less (it grows only when every LWP
                         is blocked: docs/uthreads.md)
     1:1                 T kernel threads (thread.h): the kernel runs another while one waits
     SA, H vps           user threads on H virtual processors: a BLOCKED upcall gives the
                         vp to another user thread at once, UNBLOCKED hands the thread back
   H is the number of harts. Printed per model: virtual time of the run (create to last
   join, CLOCK_MONOTONIC: 1 instruction = 1 ns) and the speedup over the serial time.
     sa_speedup [T [R [C [IO_US]]]]   default 8 threads, 5 rounds, 50000 iterations, 100 us
   Expected on 4 harts: M:1 about 1; SA about 1:1, both above M:N. */
#include <demo.h>
#include <errno.h>
#include <kos.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define MAXT 64
enum { M1, MN, KT, SA, NMODELS };

static const char *names[NMODELS] = { "M:1", "M:N", "1:1", "SA" };
static int nthreads = 8, rounds = 5, harts = 1;
static long iters = 50000, io_us = 100;
static int model;

__attribute__((noinline)) static unsigned long work(unsigned long x, long n)
{
    for (long k = 0; k < n; k++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

/* The blocking I/O: under the user-level models through the library's wrapper, which is
   nanosleep too (and lets M:N see that its LWP is blocked). */
static void io(void)
{
    if (model == KT) {
        struct timespec ts = { io_us / 1000000, io_us % 1000000 * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    } else {
        uthread_sleep_us(io_us);
    }
}

static void *worker(void *arg)
{
    unsigned long x = (unsigned long)arg + 1;
    for (int r = 0; r < rounds; r++) {
        x = work(x, iters);
        io();
    }
    return (void *)x;
}

/* T threads under model m, from the first create to the last join; -1 on failure. */
static long run(int m)
{
    uthread_t ut[MAXT];
    thread_t kt[MAXT];
    model = m;
    if (m != KT && uthread_init(m == M1 ? UTHREAD_M1 : m == MN ? UTHREAD_MN : UTHREAD_SA,
                                m == M1 ? 1 : harts))
        return -1;
    long t0 = now();
    for (int i = 0; i < nthreads; i++)
        if (m == KT ? thread_create(&kt[i], worker, (void *)(long)i)
                    : uthread_create(&ut[i], worker, (void *)(long)i, 0))
            return -1;
    for (int i = 0; i < nthreads; i++)
        if (m == KT ? thread_join(kt[i], 0) : uthread_join(ut[i], 0))
            return -1;
    return now() - t0;
}

/* run(m) in a child process; its time comes back through a pipe. */
static long in_child(int m)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long t = run(m);
        write(p[1], &t, sizeof t);
        _exit(t < 0);
    }
    close(p[1]);
    long t = -1;
    if (read(p[0], &t, sizeof t) != sizeof t)
        t = -1;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nthreads = atoi(argv[1]);
    if (argc > 2)
        rounds = atoi(argv[2]);
    if (argc > 3)
        iters = atol(argv[3]);
    if (argc > 4)
        io_us = atol(argv[4]);
    if (nthreads < 1 || nthreads > MAXT || rounds < 1 || iters < 1 || io_us < 1) {
        fprintf(stderr, "usage: sa_speedup [T [R [C [IO_US]]]]\n");
        return 2;
    }
    struct kstat ks;
    if (kstat(&ks) == 0)
        harts = (int)ks.ncpus;

    long t0 = now();
    for (int i = 0; i < nthreads; i++)
        worker((void *)(long)i);
    long serial = now() - t0;

    long t[NMODELS];
    for (int m = 0; m < NMODELS; m++)
        if ((t[m] = in_child(m)) < 0) {
            printf("sa_speedup FAILED: the %s run\n", names[m]);
            return 1;
        }

    printf("sa_speedup: %d threads x %d rounds of %ld iterations + %ld us of blocking I/O, "
           "%d hart%s; costs: %s\n", nthreads, rounds, iters, io_us, harts, harts > 1 ? "s" : "",
           costs_profile());
    printf("%-22s %12s %8s\n", "model", "virtual us", "speedup");
    printf("%-22s %12ld %8.2f\n", "serial (1 thread)", serial / 1000, 1.0);
    for (int m = 0; m < NMODELS; m++) {
        char label[32];
        if (m == MN || m == SA)
            snprintf(label, sizeof label, "%s, %d %s%s", names[m], harts, m == MN ? "LWP" : "vp",
                     harts > 1 ? "s" : "");
        else
            snprintf(label, sizeof label, "%s", m == KT ? "1:1 kernel threads" : names[m]);
        printf("%-22s %12ld %8.2f\n", label, t[m] / 1000, (double)serial / t[m]);
    }
    if (harts < 2) {
        printf("sa_speedup: one hart, so nothing to run in parallel: try --cpus 4\n");
        return 0;
    }
    int slowest = t[M1] >= t[MN] && t[M1] >= t[KT] && t[M1] >= t[SA];
    if (slowest && t[SA] <= t[MN] && (double)serial / t[SA] > 1.5) {
        printf("sa_speedup OK: SA %.2fx, M:N %.2fx, 1:1 %.2fx, M:1 %.2fx the serial speed\n",
               (double)serial / t[SA], (double)serial / t[MN], (double)serial / t[KT],
               (double)serial / t[M1]);
        return 0;
    }
    printf("sa_speedup FAILED: expected M:1 slowest, SA no slower than M:N, SA speedup > 1.5\n");
    return 1;
}
