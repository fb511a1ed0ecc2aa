/* S11: under M:1, user-level threads cannot run in parallel, however many harts there are:
   the kernel only ever sees, and runs, the process's one LWP.
   The program first does the work of 4 threads one after the other (the serial time),
   then gives each of 4 CPU-bound user threads its share and waits for them; it prints both
   virtual times (CLOCK_MONOTONIC: 1 instruction = 1 ns) and their ratio.
     s11_parallel [m1|mn] [NLWPS] [N]     default m1; 4 LWPs for mn; N = 250000 iterations
   M:1 on 4 harts: ratio about 1 (no speedup). M:N with 4 LWPs: about 0.25. */
#include <demo.h>
#include <kos.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define NT 4

static long iters = 250000;
static int hart_of[NT], lwp_of[NT];

__attribute__((noinline)) static unsigned long work(int i, long n)
{
    unsigned long x = (unsigned long)i + 1;
    for (long k = 0; k < n; k++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    unsigned long r = work(i, iters);
    hart_of[i] = sched_getcpu();
    lwp_of[i] = lwp_self();
    return (void *)r;
}

int main(int argc, char **argv)
{
    int mn = argc > 1 && strcmp(argv[1], "mn") == 0;
    int nlwps = argc > 2 ? atoi(argv[2]) : 4;
    if (argc > 3)
        iters = atol(argv[3]);
    if ((argc > 1 && !mn && strcmp(argv[1], "m1")) || nlwps < 1 || iters < 1) {
        fprintf(stderr, "usage: s11_parallel [m1|mn] [NLWPS] [N]\n");
        return 2;
    }
    struct kstat ks;
    kstat(&ks);

    long t0 = now();
    for (int i = 0; i < NT; i++)
        work(i, iters);
    long serial = now() - t0;

    int e = uthread_init(mn ? UTHREAD_MN : UTHREAD_M1, nlwps);
    if (e) {
        printf("S11 FAILED: uthread_init: %s\n", strerror(e));
        return 1;
    }
    uthread_t t[NT];
    t0 = now();
    for (int i = 0; i < NT; i++)
        if (uthread_create(&t[i], worker, (void *)(long)i, 0)) {
            printf("S11 FAILED: uthread_create\n");
            return 1;
        }
    for (int i = 0; i < NT; i++)
        uthread_join(t[i], 0);
    long par = now() - t0;

    char model[32];
    snprintf(model, sizeof model, mn ? "M:N, %d LWP%s" : "M:1", nlwps, nlwps > 1 ? "s" : "");
    double ratio = (double)par / serial;
    printf("S11 (%s) on %ld harts: %d CPU-bound user threads x %ld iterations; costs: %s\n", model,
           ks.ncpus, NT, iters, costs_profile());
    printf("  one after another: %ld us; as %d user threads: %ld us\n", serial / 1000, NT, par / 1000);
    for (int i = 0; i < NT; i++)
        printf("  thread %d finished on lwp %d, hart %d\n", i + 1, lwp_of[i], hart_of[i]);
    printf("  ratio to the serial time: %.2f\n", ratio);
    if (!mn && ratio >= 0.9) {
        printf("S11 OK: under M:1 %d threads on %ld harts took %.2f of the serial time: no "
               "parallelism\n", NT, ks.ncpus, ratio);
        return 0;
    }
    long p = nlwps < ks.ncpus ? nlwps : ks.ncpus;       /* threads that can run at once */
    if (p > NT)
        p = NT;
    double ideal = (double)((NT + p - 1) / p) / NT;     /* rounds of p threads: 3 LWPs need 2 */
    if (mn && ratio <= ideal + 0.1) {                    /* 0.35 for 4 LWPs on 4 harts */
        printf("S11 OK: under M:N with %d LWPs %d threads took %.2f of the serial time (ideal "
               "%.2f)\n", nlwps, NT, ratio, ideal);
        return 0;
    }
    printf("S11 FAILED: ratio %.2f under %s\n", ratio, model);
    return 1;
}
