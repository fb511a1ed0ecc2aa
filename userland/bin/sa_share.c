/* sa_share: processor reallocation between two processes of scheduler activations
   (space sharing, docs/scheduler-activations.md). On a 4-hart machine, process A asks
   for 3 virtual processors and runs 8 compute-bound user threads; after DELAY_US process
   B starts and asks for 3 as well. The kernel divides the harts: A's vp 2 is taken back
   (its thread comes back to A's library in a PREEMPTED upcall on one of A's other vps)
   and B gets 2; when B exits, A gets its third vp back (a NEWPROC upcall). Each process
   checks that every chunk of work of every thread was done exactly once. (3, not 4: the
   fourth hart stays free for the parent, an ordinary process, which would otherwise wait
   a whole time slice to wake up and start B.)
     sa_share [A_CHUNKS [B_CHUNKS [DELAY_US]]]      default: 120 30 300
   The kernel's event log has the allocation (sa_alloc, vp_taken); tests/test_sa.py
   checks it. */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define NT 8
#define VPS 3
#define WORK 2000                   /* LCG steps per chunk: about 8 us of virtual time */

static int chunks;
static volatile int done[NT];
static volatile int twice;

static void *worker(void *arg)
{
    long id = (long)arg;
    unsigned long x = (unsigned long)id + 1;
    for (int c = 0; c < chunks; c++) {
        for (int k = 0; k < WORK; k++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        if (__atomic_add_fetch(&done[id], 1, __ATOMIC_RELAXED) != c + 1)
            twice = 1;
        uthread_yield();
    }
    return (void *)x;
}

static const char *name(int type)
{
    static const char *n[] = { "NEWPROC", "PREEMPTED", "BLOCKED", "UNBLOCKED" };
    return type >= 0 && type < 4 ? n[type] : "?";
}

/* One process of the experiment: returns its exit status. */
static int run(const char *who, int n)
{
    chunks = n;
    int e = uthread_init(UTHREAD_SA, VPS);
    if (e) {
        printf("%s: uthread_init: %s\n", who, strerror(e));
        return 1;
    }
    struct uthread_stats st;
    uthread_stats(&st);
    int granted = st.nlwps;
    uthread_t t[NT];
    for (long i = 0; i < NT; i++)
        uthread_create(&t[i], worker, (void *)i, 0);
    for (int i = 0; i < NT; i++)
        uthread_join(t[i], 0);
    int all = !twice;
    for (int i = 0; i < NT; i++)
        all &= done[i] == n;
    struct uthread_upcall ev[256];
    int nev = uthread_upcalls(ev, 256), count[4] = { 0, 0, 0, 0 }, ctx = 0;
    for (int i = 0; i < nev && i < 256; i++) {
        count[ev[i].type & 3]++;
        ctx += ev[i].type == UTHREAD_UPCALL_PREEMPTED && ev[i].thread > 0;
    }
    printf("%s: %d vps granted at start; upcalls:", who, granted);
    for (int i = 0; i < 4; i++)
        printf(" %s %d", name(i), count[i]);
    printf("; PREEMPTED with a user thread's context %d; chunks %s\n", ctx,
           all ? "all done once" : "LOST OR TWICE");
    return !all;
}

int main(int argc, char **argv)
{
    int a = argc > 1 ? atoi(argv[1]) : 120, b = argc > 2 ? atoi(argv[2]) : 30;
    long delay = argc > 3 ? atol(argv[3]) : 300;
    printf("sa_share: A %d chunks, B %d chunks from %ld us, %d vps asked each; costs: %s\n", a, b, delay,
           VPS, costs_profile());
    fflush(stdout);                         /* before the fork: the children do not print it again */
    pid_t pa = fork();
    if (pa == 0)
        exit(run("A", a));
    struct timespec ts = { delay / 1000000, delay % 1000000 * 1000 };
    nanosleep(&ts, 0);
    pid_t pb = fork();
    if (pb == 0)
        exit(run("B", b));
    int sa = -1, sb = -1;
    waitpid(pa, &sa, 0);
    waitpid(pb, &sb, 0);
    int ok = WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0;
    printf(ok ? "sa_share OK\n" : "sa_share FAILED\n");
    return !ok;
}
