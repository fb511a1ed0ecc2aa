/* Condition variables: a bounded buffer with 4 producers and 4 consumers, broadcast waking
 * every waiter, a timed wait that times out. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "linux.h"

enum { SLOTS = 8, PRODUCERS = 4, CONSUMERS = 4, ITEMS = 5000 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long buf[SLOTS];
static int head, count, producers_left = PRODUCERS;

static void *producer(void *arg)
{
    long base = (intptr_t)arg * ITEMS;
    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == SLOTS)
            pthread_cond_wait(&not_full, &lock);
        buf[(head + count++) % SLOTS] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    if (--producers_left == 0)
        pthread_cond_broadcast(&not_empty);    /* consumers waiting on an empty buffer: done */
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        if (count == 0) {
            pthread_mutex_unlock(&lock);
            return (void *)sum;
        }
        sum += buf[head];
        head = (head + 1) % SLOTS, count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
    }
}

static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int started, released, go_flag;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_signal(&not_full);
    while (!go_flag)
        pthread_cond_wait(&go, &lock);
    released++;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (intptr_t i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)i);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    long total = 0;
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++) {
        void *s;
        pthread_join(c[i], &s);
        total += (intptr_t)s;
    }
    long n = (long)PRODUCERS * ITEMS;
    printf("consumed sum %ld (expected %ld)\n", total, n * (n + 1) / 2);

    enum { WAITERS = 6 };
    pthread_t w[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        pthread_create(&w[i], NULL, waiter, NULL);
    pthread_mutex_lock(&lock);
    while (started < WAITERS)
        pthread_cond_wait(&not_full, &lock);
    go_flag = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < WAITERS; i++)
        pthread_join(w[i], NULL);
    printf("broadcast released %d of %d waiters\n", released, WAITERS);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 30 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&lock);
    int r = pthread_cond_timedwait(&go, &lock, &until);
    pthread_mutex_unlock(&lock);
    printf("timedwait with nobody signalling: %s\n", errname(r));

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t mono;
    pthread_cond_init(&mono, &ca);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 0, until.tv_nsec += 10 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&lock);
    r = pthread_cond_timedwait(&mono, &lock, &until);
    pthread_mutex_unlock(&lock);
    printf("timedwait on CLOCK_MONOTONIC: %s\n", errname(r));
    puts("done");
    return 0;
}
