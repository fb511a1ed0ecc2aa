/* S12: user-level threads yield control voluntarily, or are switched by timer interrupts.
   Three CPU-bound user threads (M:1) that never call uthread_yield each do the same work.
   When thread 1 finishes, the program looks at how far threads 2 and 3 got.
     s12_preempt coop            cooperative: nobody yields, so thread 1 runs to its end
                                 before the others even start: they got 0%
     s12_preempt preempt [Q]     uthread_preempt(Q us, default 500): ITIMER_VIRTUAL sends
                                 SIGVTALRM after every Q us of user time and the library's
                                 handler switches threads: all three advance together
   A 4th argument N sets the iterations per thread (default 1000000). */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthread.h>

#define NT 3

static long iters = 1000000;
static volatile long progress[NT];
static long seen[NT], end_ns[NT], t0;

/* Never yields, never calls the library: only a timer can take the processor away. */
static void *spin(void *arg)
{
    int i = (int)(long)arg;
    unsigned long x = (unsigned long)i + 1;
    for (long k = 1; k <= iters; k++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        if ((k & 1023) == 0)
            progress[i] = k;
    }
    progress[i] = iters;
    if (i == 0)                          /* thread 1 is done: where are the others? */
        for (int j = 0; j < NT; j++)
            seen[j] = progress[j];
    end_ns[i] = now() - t0;
    return (void *)x;
}

int main(int argc, char **argv)
{
    int preempt = argc > 1 && strcmp(argv[1], "preempt") == 0;
    int quantum = argc > 2 ? atoi(argv[2]) : 500;
    if (argc > 3)
        iters = atol(argv[3]);
    if (argc < 2 || (!preempt && strcmp(argv[1], "coop")) || quantum < 1 || iters < 1024) {
        fprintf(stderr, "usage: s12_preempt coop|preempt [QUANTUM_US] [N]\n");
        return 2;
    }
    uthread_init(UTHREAD_M1, 1);
    if (preempt && uthread_preempt(quantum)) {
        printf("S12 FAILED: uthread_preempt\n");
        return 1;
    }
    uthread_t t[NT];
    t0 = now();
    for (int i = 0; i < NT; i++)
        if (uthread_create(&t[i], spin, (void *)(long)i, 0)) {
            printf("S12 FAILED: uthread_create\n");
            return 1;
        }
    for (int i = 0; i < NT; i++)
        uthread_join(t[i], 0);
    uthread_preempt(0);
    struct uthread_stats st;
    uthread_stats(&st);
    if (preempt)
        printf("S12 (M:1, preemptive, quantum %d us): %d threads that never yield, %ld iterations "
               "each\n", quantum, NT, iters);
    else
        printf("S12 (M:1, cooperative): %d threads that never yield, %ld iterations each\n", NT, iters);
    for (int i = 0; i < NT; i++)
        printf("  thread %d: finished at %ld us; %3ld%% done when thread 1 finished\n", i + 1,
               end_ns[i] / 1000, 100 * seen[i] / iters);
    printf("  timer preemptions: %ld (ticks dropped inside the library or libc: %ld)\n",
           st.preemptions, st.deferred);
    long others = seen[1] + seen[2];
    if (!preempt && others == 0) {
        printf("S12 OK: cooperative: thread 1 never yielded and starved the others until it "
               "finished\n");
        return 0;
    }
    if (preempt && seen[1] >= iters / 2 && seen[2] >= iters / 2 && st.preemptions > 0) {
        printf("S12 OK: preemptive: the timer switched threads %ld times; the others had done "
               "%ld%% and %ld%% when thread 1 finished\n", st.preemptions, 100 * seen[1] / iters,
               100 * seen[2] / iters);
        return 0;
    }
    printf("S12 FAILED: the others had done %ld and %ld iterations, %ld preemptions\n", seen[1],
           seen[2], st.preemptions);
    return 1;
}
