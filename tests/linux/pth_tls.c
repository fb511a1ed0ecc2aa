/* Thread-local storage: __thread / _Thread_local variables, pthread_key with destructors,
 * pthread_once, errno per thread. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "linux.h"

enum { THREADS = 4 };
static __thread long tls_counter = 100;
static _Thread_local char tls_name[16] = "main";
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, destructed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void init_once(void) { once_runs++; }

static void destroy(void *p)
{
    pthread_mutex_lock(&lock);
    destructed += *(int *)p;
    pthread_mutex_unlock(&lock);
    free(p);
}

static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg;
    pthread_once(&once, init_once);
    int initial = tls_counter == 100 && tls_name[0] == 'm';
    for (int i = 0; i < 1000 * (id + 1); i++) {
        tls_counter++;
        if (i % 100 == 0)
            sched_yield();
    }
    snprintf(tls_name, sizeof tls_name, "worker%ld", (long)id);
    int *mine = malloc(sizeof *mine);
    *mine = (int)id + 1;
    pthread_setspecific(key, mine);
    errno = 1000 + (int)id;
    sched_yield();
    int errno_kept = errno == 1000 + id;
    int key_kept = *(int *)pthread_getspecific(key) == id + 1;
    long result = (tls_counter - 100) * 10 + initial + 2 * errno_kept + 4 * key_kept;
    return (void *)result;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_key_create(&key, destroy);
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        long v = (intptr_t)r;
        printf("thread %d: counted %ld, started from the initial value %ld, errno kept %ld, key kept %ld\n",
               i, v / 10, v % 2, v / 2 % 2, v / 4 % 2);
    }
    printf("main's copies untouched: %ld %s\n", tls_counter, tls_name);
    printf("pthread_once ran %d time, destructors summed %d\n", once_runs, destructed);
    printf("main has no value for the key: %d\n", pthread_getspecific(key) == NULL);
    printf("key delete: %d\n", pthread_key_delete(key));
    puts("done");
    return 0;
}
