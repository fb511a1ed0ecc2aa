/* Barriers: 4 threads in 50 phases; exactly one PTHREAD_BARRIER_SERIAL_THREAD per phase, and
 * no thread starts a phase before all finished the previous one. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include "linux.h"

enum { THREADS = 4, PHASES = 50 };
static pthread_barrier_t bar;
static atomic_int arrived[PHASES], serials[PHASES], early;
static long cell[THREADS];

static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int ph = 0; ph < PHASES; ph++) {
        cell[id] += ph + id;
        atomic_fetch_add(&arrived[ph], 1);
        if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&serials[ph], 1);
        if (atomic_load(&arrived[ph]) != THREADS)
            atomic_fetch_add(&early, 1);
        long sum = 0;                   /* everyone's phase-ph cell is written: read them all */
        for (int k = 0; k < THREADS; k++)
            sum += cell[k];
        if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD && ph == PHASES - 1)
            printf("final sum seen by the serial thread: %ld\n", sum);
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("init with count 0: %s\n", errname(pthread_barrier_init(&bar, NULL, 0)));
    pthread_barrier_init(&bar, NULL, THREADS);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int one_serial = 1;
    for (int ph = 0; ph < PHASES; ph++)
        one_serial &= serials[ph] == 1;
    printf("one serial thread per phase: %d, threads past the barrier early: %d\n", one_serial, early);
    printf("destroy: %d\n", pthread_barrier_destroy(&bar));
    puts("done");
    return 0;
}
