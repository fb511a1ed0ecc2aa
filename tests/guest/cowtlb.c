/* Copy-on-write and threads: a TLB shootdown (tests/test_vm.py). The forked child's data page
   is shared COW with the parent. A thread of the child spins reading `flag` on its hart (TLB:
   a read-only entry for the frame shared with the parent); main, on another hart, writes
   flag = 1: the kernel copies the page to a new frame and must flush the spinner's TLB, or
   it keeps reading the old frame. */
#include <stdio.h>
#include <sys/wait.h>
#include <thread.h>
#include <unistd.h>

static volatile struct { int flag, other; char pad[4088]; } pg __attribute__((aligned(4096)));

static void *spinner(void *arg)
{
    long i;
    for (i = 0; i < 5000000 && !pg.flag; i++)
        ;
    return (void *)(long)pg.flag;                  /* writes nothing to pg's page */
}

int main(void)
{
    pg.other = 1;                                  /* the page is present before fork */
    fflush(stdout);
    if (fork() == 0) {
        thread_t t;
        void *seen;
        thread_create(&t, spinner, 0);
        for (volatile long i = 0; i < 100000; i++)  /* let it spin on its own hart */
            ;
        pg.flag = 1;                               /* COW fault: a new frame for the child */
        thread_join(t, &seen);
        printf("spinner saw flag = %ld (%s)\n", (long)seen, seen ? "ok" : "BUG: stale TLB");
        _exit(!seen);
    }
    int st = 0;
    wait(&st);                                     /* the parent keeps the old frame */
    return WEXITSTATUS(st);
}
