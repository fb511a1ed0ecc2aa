/* S9: with user-level threads (M:1) the kernel schedules the process, not the threads.
   Eight user threads take turns (uthread_yield) doing some work; in the middle of it, one
   of them asks the kernel what it sees: lwpinfo() for this process, and the output of
   `ps`. Both show one LWP, the same one every user thread reports from lwp_self().
     s9_onelwp [ROUNDS]      rounds of work per thread (default 20) */
#include <demo.h>
#include <kos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uthread.h>

#define NT 8

static int rounds = 20;
static int lwp_of[NT], id_of[NT], done[NT], ps_rows = -1, kernel_lwps = -1, kernel_lwpid;
static char ps_out[8192];

static unsigned long work(unsigned long x)
{
    for (int k = 0; k < 2000; k++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

/* Run ps with its output in ps_out; the whole process waits for it (M:1: one LWP). */
static int run_ps(void)
{
    return capture("/bin/ps", ps_out, sizeof ps_out) == 0 ? 0 : -1;
}

/* The kernel's view of this process: its LWPs (lwpinfo) and its rows in ps. */
static void look(void)
{
    static struct lwpinfo li[256];
    int n = lwpinfo(li, 256), me = getpid();
    kernel_lwps = 0;
    for (int i = 0; i < n; i++)
        if (li[i].pid == me) {
            kernel_lwps++;
            kernel_lwpid = li[i].lwpid;
        }
    if (run_ps() < 0)
        return;
    ps_rows = 0;
    for (char *line = strchr(ps_out, '\n'); line && line[1]; line = strchr(line + 1, '\n'))
        if (atoi(line + 1) == me)
            ps_rows++;
}

static void *body(void *arg)
{
    int i = (int)(long)arg;
    unsigned long x = (unsigned long)i;
    lwp_of[i] = lwp_self();
    id_of[i] = uthread_id(uthread_self());
    for (int r = 0; r < rounds; r++) {
        x = work(x);
        done[i]++;
        if (i == NT - 1 && r == rounds / 2)
            look();              /* every thread is alive and half way through */
        uthread_yield();
    }
    return (void *)x;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    if (rounds < 2) {
        fprintf(stderr, "usage: s9_onelwp [ROUNDS >= 2]\n");
        return 2;
    }
    uthread_t t[NT];
    if (uthread_init(UTHREAD_M1, 1)) {
        printf("S9 FAILED: uthread_init\n");
        return 1;
    }
    for (int i = 0; i < NT; i++)
        if (uthread_create(&t[i], body, (void *)(long)i, 0)) {
            printf("S9 FAILED: uthread_create\n");
            return 1;
        }
    for (int i = 0; i < NT; i++)
        uthread_join(t[i], 0);
    printf("S9: %d user threads (M:1), %d rounds each, pid %d\n", NT, rounds, getpid());
    int same = 1;
    for (int i = 0; i < NT; i++) {
        printf("  user thread %d: %d rounds, ran on lwp %d\n", id_of[i], done[i], lwp_of[i]);
        same &= lwp_of[i] == lwp_of[0];
    }
    printf("the kernel, asked by user thread %d half way through:\n", NT);
    printf("  lwpinfo: %d LWP(s) in this process (lwp %d)\n", kernel_lwps, kernel_lwpid);
    printf("  ps: %d row(s) for pid %d\n%s", ps_rows, getpid(), ps_out);
    if (same && kernel_lwps == 1 && ps_rows == 1 && kernel_lwpid == lwp_of[0]) {
        printf("S9 OK: %d user threads ran, the kernel saw 1 LWP (lwp %d)\n", NT, kernel_lwpid);
        return 0;
    }
    printf("S9 FAILED: lwpinfo %d LWPs, ps %d rows, threads on one lwp: %s\n", kernel_lwps, ps_rows,
           same ? "yes" : "no");
    return 1;
}
