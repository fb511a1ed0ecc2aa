/* Detached threads and thread attributes: detach state, stack size, unnamed semaphores
 * (sem_post / sem_wait / sem_trywait / sem_timedwait), pthread_exit. */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "linux.h"

enum { DETACHED = 8 };
static sem_t done;
static long results[DETACHED];

static void *detached(void *arg)
{
    intptr_t id = (intptr_t)arg;
    char big[200 * 1024];             /* needs the larger stack asked for below */
    memset(big, (int)id, sizeof big);
    results[id] = big[sizeof big - 1] + id * 100;
    sem_post(&done);
    return NULL;
}

static void *exits_early(void *arg)
{
    (void)arg;
    pthread_exit((void *)42);
    return NULL;
}

static void *self_detach(void *arg)
{
    pthread_detach(pthread_self());
    sem_post(arg);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sem_init(&done, 0, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 1 << 20);
    size_t ss = 0;
    int ds = 0;
    pthread_attr_getstacksize(&a, &ss);
    pthread_attr_getdetachstate(&a, &ds);
    printf("attr: stack %zu, detached %d\n", ss, ds == PTHREAD_CREATE_DETACHED);
    for (intptr_t i = 0; i < DETACHED; i++) {
        pthread_t t;
        int r = pthread_create(&t, &a, detached, (void *)i);
        if (r)
            printf("pthread_create: %s\n", errname(r));
    }
    for (int i = 0; i < DETACHED; i++)
        sem_wait(&done);
    long sum = 0;
    for (int i = 0; i < DETACHED; i++)
        sum += results[i];
    printf("8 detached threads finished, results sum %ld\n", sum);
    printf("sem_trywait on zero: %s\n", sem_trywait(&done) ? errname(errno) : "ok");
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 20 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    printf("sem_timedwait on zero: %s\n", sem_timedwait(&done, &until) ? errname(errno) : "ok");
    sem_post(&done);
    int v = -1;
    sem_getvalue(&done, &v);
    printf("sem_getvalue after a post: %d\n", v);

    pthread_t t;
    void *ret;
    pthread_create(&t, NULL, exits_early, NULL);
    pthread_join(t, &ret);
    printf("pthread_exit value: %ld\n", (long)(intptr_t)ret);
    sem_t s;
    sem_init(&s, 0, 0);
    pthread_create(&t, NULL, self_detach, &s);
    sem_wait(&s);
    printf("a thread may detach itself\n");
    pthread_attr_destroy(&a);
    puts("done");
    return 0;
}
