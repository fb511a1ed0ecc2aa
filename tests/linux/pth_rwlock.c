/* Read-write locks: readers share, a writer excludes everyone; try-locks; 4 threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sched.h>
#include "linux.h"

enum { THREADS = 4, ROUNDS = 3000 };
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int readers, writers, max_readers, violations;
static long data[2];

static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if ((i + id) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            if (atomic_fetch_add(&writers, 1) != 0 || atomic_load(&readers) != 0)
                atomic_fetch_add(&violations, 1);
            data[0]++;
            sched_yield();
            data[1]++;
            atomic_fetch_sub(&writers, 1);
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            int now = atomic_fetch_add(&readers, 1) + 1;
            int seen = atomic_load(&max_readers);
            while (now > seen && !atomic_compare_exchange_weak(&max_readers, &seen, now))
                ;
            if (atomic_load(&writers) != 0 || data[0] != data[1])
                atomic_fetch_add(&violations, 1);
            atomic_fetch_sub(&readers, 1);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

static void *try_rd(void *arg) { (void)arg; int r = pthread_rwlock_tryrdlock(&rw); if (!r) pthread_rwlock_unlock(&rw); return (void *)(intptr_t)r; }
static void *try_wr(void *arg) { (void)arg; int r = pthread_rwlock_trywrlock(&rw); if (!r) pthread_rwlock_unlock(&rw); return (void *)(intptr_t)r; }

static void *hold_read(void *arg)
{
    pthread_barrier_t *b = arg;
    pthread_rwlock_rdlock(&rw);
    pthread_barrier_wait(b);         /* all readers hold it at once */
    pthread_barrier_wait(b);
    pthread_rwlock_unlock(&rw);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("writes %ld, consistent %d, violations %d\n", data[0], data[0] == data[1], violations);

    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, THREADS);
    for (int i = 0; i < THREADS - 1; i++)
        pthread_create(&t[i], NULL, hold_read, &b);
    pthread_rwlock_rdlock(&rw);
    pthread_barrier_wait(&b);
    printf("4 readers hold the lock together\n");
    pthread_t o;
    void *r;
    pthread_create(&o, NULL, try_wr, NULL);
    pthread_join(o, &r);
    printf("trywrlock while read-held: %s\n", errname((intptr_t)r));
    pthread_create(&o, NULL, try_rd, NULL);
    pthread_join(o, &r);
    printf("tryrdlock while read-held: %s\n", errname((intptr_t)r));
    pthread_rwlock_unlock(&rw);
    pthread_barrier_wait(&b);
    for (int i = 0; i < THREADS - 1; i++)
        pthread_join(t[i], NULL);

    pthread_rwlock_wrlock(&rw);
    pthread_create(&o, NULL, try_rd, NULL);
    pthread_join(o, &r);
    printf("tryrdlock while write-held: %s\n", errname((intptr_t)r));
    pthread_rwlock_unlock(&rw);
    puts("done");
    return 0;
}
