/* spin [N [P]]: P processes (default 1) each run a busy loop of N iterations (default
   forever), printing which hart each finished on. A CPU hog for experiments. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void spin(long n) {
    for (volatile long i = 0; n < 0 || i < n; i++)
        ;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : -1;
    int procs = argc > 2 ? atoi(argv[2]) : 1;
    for (int i = 1; i < procs; i++)
        if (fork() == 0) {
            spin(n);
            printf("spin %d done on hart %d\n", getpid(), sched_getcpu());
            return 0;
        }
    spin(n);
    printf("spin %d done on hart %d\n", getpid(), sched_getcpu());
    while (wait(NULL) > 0)
        ;
    return 0;
}
