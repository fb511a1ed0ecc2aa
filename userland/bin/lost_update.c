/* lost_update [N]: two threads add 1 to one shared counter N times each (default 300), with
   no lock. Each increment is a load, an add and a store; the update is lost when the other
   thread stores between one thread's load and its store. In the default schedule both
   loops fit in one quantum and nothing is lost: the race explorer finds the schedules
   that lose an update (docs/explore.md):
     python -m tools.explore lost_update --expect "lost 0" --runs 40 */
#include <stdio.h>
#include <stdlib.h>
#include <thread.h>

static volatile long counter;
static volatile int go;
static long n = 300;

static void *worker(void *arg)
{
    (void)arg;
    while (!go)
        ;
    for (long i = 0; i < n; i++)
        counter = counter + 1;      /* volatile: load, add, store */
    return 0;
}

int main(int argc, char **argv)
{
    thread_t t[2];
    if (argc > 1)
        n = atol(argv[1]);
    for (int i = 0; i < 2; i++)
        thread_create(&t[i], worker, 0);
    go = 1;
    for (int i = 0; i < 2; i++)
        thread_join(t[i], 0);
    printf("counter = %ld, expected %ld, lost %ld\n", counter, 2 * n, 2 * n - counter);
    return 0;
}
