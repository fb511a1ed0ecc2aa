/* race [N]: 4 threads increment one shared counter N times each (default 100000).
   First without a lock: each increment is a load, an add and a store, and when another
   hart stores between one thread's load and its store, that update is lost. Then with a
   mutex_t around the increment: the total is always exactly 4 x N. */
#include <stdio.h>
#include <stdlib.h>
#include <thread.h>

#define NT 4

static volatile long counter;
static volatile int go;
static mutex_t m = MUTEX_INITIALIZER;
static long n = 100000;
static int locked;

static void *worker(void *arg)
{
    (void)arg;
    while (!go)      /* start together, so the loops really overlap */
        ;
    if (locked) {
        for (long i = 0; i < n; i++) {
            mutex_lock(&m);
            counter = counter + 1;
            mutex_unlock(&m);
        }
    } else {
        for (long i = 0; i < n; i++)
            counter = counter + 1;   /* volatile: load, add, store */
    }
    return 0;
}

static long run(int with_lock)
{
    thread_t t[NT];
    counter = 0;
    go = 0;
    locked = with_lock;
    for (int i = 0; i < NT; i++)
        if (thread_create(&t[i], worker, 0)) {
            printf("race FAILED: thread_create\n");
            exit(1);
        }
    go = 1;
    for (int i = 0; i < NT; i++)
        thread_join(t[i], 0);
    return counter;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n = atol(argv[1]);
    long expected = NT * n;
    long plain = run(0);
    printf("without a lock:  counter = %ld, expected %ld, lost %ld updates\n", plain, expected,
           expected - plain);
    long safe = run(1);
    printf("with mutex_t:    counter = %ld, expected %ld, lost %ld updates\n", safe, expected,
           expected - safe);
    if (safe == expected) {
        printf("race OK: %ld updates lost without a lock, none with mutex_t\n", expected - plain);
        return 0;
    }
    printf("race FAILED: the mutex lost %ld updates\n", expected - safe);
    return 1;
}
