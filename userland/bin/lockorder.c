/* lockorder [ROUNDS]: a lock-order deadlock. Thread A takes lock a then lock b, thread B
   takes b then a, each ROUNDS times (default 100). If one thread holds its first lock when
   the other takes its own first lock, each waits forever for the other's: the kernel finds
   every thread blocked with nothing pending and halts the machine (deadlock, status 124).
   In the default schedule it never happens (one thread is done with both locks before the
   other takes its first):
     python -m tools.explore lockorder --runs 40          (docs/explore.md) */
#include <stdio.h>
#include <stdlib.h>
#include <thread.h>

static mutex_t a = MUTEX_INITIALIZER, b = MUTEX_INITIALIZER;
static volatile long shared_a, shared_b;
static volatile int go;
static long rounds = 100;

static void *thread_a(void *arg)
{
    (void)arg;
    while (!go)
        ;
    for (long i = 0; i < rounds; i++) {
        mutex_lock(&a);
        shared_a++;
        mutex_lock(&b);             /* a then b */
        shared_b++;
        mutex_unlock(&b);
        mutex_unlock(&a);
    }
    return 0;
}

static void *thread_b(void *arg)
{
    (void)arg;
    while (!go)
        ;
    for (long i = 0; i < rounds; i++) {
        mutex_lock(&b);
        shared_b++;
        mutex_lock(&a);             /* b then a: the opposite order */
        shared_a++;
        mutex_unlock(&a);
        mutex_unlock(&b);
    }
    return 0;
}

int main(int argc, char **argv)
{
    thread_t ta, tb;
    if (argc > 1)
        rounds = atol(argv[1]);
    thread_create(&ta, thread_a, 0);
    thread_create(&tb, thread_b, 0);
    go = 1;
    thread_join(ta, 0);
    thread_join(tb, 0);
    printf("lockorder: done, a = %ld, b = %ld\n", shared_a, shared_b);
    return 0;
}
