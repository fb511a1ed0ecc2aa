/* pthread mutexes on 4 threads: a contended counter, trylock, recursive and error-checking
 * mutexes, join's return value, pthread_self / pthread_equal, gettid. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "linux.h"

enum { THREADS = 4, ADDS = 50000 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static pid_t tids[THREADS];

static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    tids[id] = gettid();
    for (int i = 0; i < ADDS; i++) {
        pthread_mutex_lock(&lock);
        long v = counter;
        if ((i & 255) == 0)
            sched_yield();            /* invite a switch inside the critical section */
        counter = v + 1;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(id * 10);
}

static void *try_it(void *m)
{
    return (void *)(intptr_t)pthread_mutex_trylock(m);
}

static void *unlock_other(void *m)
{
    return (void *)(intptr_t)pthread_mutex_unlock(m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            printf("pthread_create %ld failed\n", (long)i);
    long sum = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        sum += (intptr_t)ret;
    }
    printf("counter: %ld (expected %d), join values sum %ld\n", counter, THREADS * ADDS, sum);
    int distinct = 1;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j];
    for (int i = 0; i < THREADS; i++)
        distinct &= tids[i] != getpid();
    printf("every thread has its own tid, none the pid: %d\n", distinct);
    printf("pthread_equal(self, self): %d, with a worker: %d\n", pthread_equal(pthread_self(), pthread_self()) != 0,
           pthread_equal(pthread_self(), t[0]) != 0);

    pthread_mutex_lock(&lock);
    pthread_t other;
    void *r;
    pthread_create(&other, NULL, try_it, &lock);
    pthread_join(other, &r);
    printf("trylock of a held mutex: %s\n", errname((intptr_t)r));
    pthread_mutex_unlock(&lock);
    pthread_create(&other, NULL, try_it, &lock);
    pthread_join(other, &r);
    printf("trylock of a free mutex: %s\n", errname((intptr_t)r));
    pthread_mutex_unlock(&lock);

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_t rec;
    pthread_mutex_init(&rec, &a);
    int r1 = pthread_mutex_lock(&rec), r2 = pthread_mutex_lock(&rec), r3 = pthread_mutex_trylock(&rec);
    printf("recursive: lock %d lock %d trylock %d\n", r1, r2, r3);
    pthread_create(&other, NULL, try_it, &rec);
    pthread_join(other, &r);
    printf("recursive, other thread trylock: %s\n", errname((intptr_t)r));
    pthread_mutex_unlock(&rec), pthread_mutex_unlock(&rec), pthread_mutex_unlock(&rec);
    printf("recursive, one unlock too many: %s\n", errname(pthread_mutex_unlock(&rec)));

    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_t chk;
    pthread_mutex_init(&chk, &a);
    pthread_mutex_lock(&chk);
    printf("errorcheck relock: %s\n", errname(pthread_mutex_lock(&chk)));
    pthread_create(&other, NULL, unlock_other, &chk);
    pthread_join(other, &r);
    printf("errorcheck unlock by another thread: %s\n", errname((intptr_t)r));
    pthread_mutex_unlock(&chk);
    printf("destroy: %d %d\n", pthread_mutex_destroy(&chk), pthread_mutex_destroy(&rec));
    puts("done");
    return 0;
}
