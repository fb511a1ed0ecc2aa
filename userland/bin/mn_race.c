/* mn_race [NLWPS] [N]: two green threads of the M:N library (docs/uthreads.md) add 1 to
   one counter N times each (default 2000), unlocked, yielding every 100 increments. The
   library is cooperative: with one LWP (the default) a green thread is never switched
   out between its load and its store, so nothing is lost in any schedule. With two LWPs
   the two green threads run at once on two LWPs, and updates can be lost:
     python -m tools.explore mn_race 1 --expect "lost 0" --runs 20   (no failure)
     python -m tools.explore mn_race 2 --expect "lost 0" --runs 20   (docs/explore.md) */
#include <stdio.h>
#include <stdlib.h>
#include <uthread.h>

static volatile long counter;
static long n = 2000;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++) {
        counter = counter + 1;      /* volatile: load, add, store */
        if (i % 100 == 99)
            uthread_yield();
    }
    return 0;
}

int main(int argc, char **argv)
{
    int nlwps = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2)
        n = atol(argv[2]);
    uthread_init(UTHREAD_MN, nlwps);
    uthread_t t[2];
    for (int i = 0; i < 2; i++)
        uthread_create(&t[i], worker, 0, 0);
    for (int i = 0; i < 2; i++)
        uthread_join(t[i], 0);
    printf("counter = %ld, expected %ld, lost %ld (%d LWPs)\n", counter, 2 * n, 2 * n - counter, nlwps);
    return 0;
}
