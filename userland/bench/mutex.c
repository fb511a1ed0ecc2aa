/* mutex N [T]: T threads (default 1) each take and release one shared mutex_t N times, with
   a short critical section. Taking it is an lr/sc compare-and-swap, plus futex calls when
   another thread holds it: with T > 1 on several harts, a futex-heavy program. Prints
   "mutex start" before the threads start and "mutex done" after they are joined (make bench
   times the host between the two lines, the sc alignment check on and off). */
#include <stdio.h>
#include <stdlib.h>
#include <thread.h>

#define MAXT 8

static mutex_t m = MUTEX_INITIALIZER;
static volatile long counter;
static long n;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++) {
        mutex_lock(&m);
        counter = counter + 1;
        mutex_unlock(&m);
    }
    return 0;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? atol(argv[1]) : 100000;
    int nt = argc > 2 ? atoi(argv[2]) : 1;
    if (nt < 1 || nt > MAXT)
        nt = 1;
    thread_t t[MAXT];
    printf("mutex start\n");
    fflush(stdout);
    for (int i = 0; i < nt; i++)
        if (thread_create(&t[i], worker, 0)) {
            printf("mutex: thread_create failed\n");
            return 1;
        }
    for (int i = 0; i < nt; i++)
        thread_join(t[i], 0);
    printf("mutex done: counter %ld of %ld\n", counter, n * nt);
    return counter == n * nt ? 0 : 1;
}
