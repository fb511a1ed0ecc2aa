/* solaris: the Solaris threads figure (claims S17, S18), in numbers.

       process 1                                  process 2
     T1   T2        T3 (bound)                  T4   T5
      \   /          |                           |    |
      LWP 1        LWP 2                       LWP 3  LWP 4        K1   K2 (kernel
   ---------------------------------------------------------------- threads, no LWP)
                              kernel

   T1 and T2 are unbound user threads of the M:N library on a pool of one LWP: they switch
   like coroutines, in user mode. T3 is a bound thread with an LWP of its own: passing the
   processor from T1 to T3 (a byte through a pipe each way) blocks one LWP and wakes the
   other, a kernel thread switch within one address space. T4 and T5 are threads of a
   second process: passing from T3 to T4, by the same pipes, also switches the address
   space, so T3-T4 less T1-T3 is the address-space change alone. K1 and K2 stand for the
   kernel's own threads, which switch with neither a trap nor an address-space change:
   guest code cannot run one, so the kernel times it. Opening /proc/kswitch makes two
   kernel threads hand this hart to each other and returns the virtual ns and the count
   of their switches, read off the kernel's clock.

   Everything is pinned to hart 0 (threads and the child inherit the affinity), so each
   pass of the processor is a real switch on that hart. Each cost is virtual time
   (CLOCK_MONOTONIC: 1 cycle = 1 ns) per one-way switch, averaged over ROUNDS round trips,
   with host microseconds beside it.
     solaris [ROUNDS]       default 200 */
#include <demo.h>
#include <kos.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define HART 0

struct stamp { long v, h; };

static int rounds = 200;
static int p2c[2], c2p[2];                  /* process 1 -> 2 and back */
static int to3[2], to1[2];                  /* T1 -> T3 and back, in process 1 */
static usem_t t5_done = USEM_INITIALIZER(0);
static double cost_v[3], cost_h[3];         /* T1-T2, T1-T3, T3-T4 */
static int lwp_t1, lwp_t2, lwp_t3;

static struct stamp stamp(void)
{
    struct timespec v = { 0, 0 }, h = { 0, 0 };
    clock_gettime(CLOCK_MONOTONIC, &v);
    hostclock(&h);
    return (struct stamp){ ns(v), ns(h) };
}

static void record(int row, struct stamp a, struct stamp b, long switches)
{
    cost_v[row] = (double)(b.v - a.v) / switches;
    cost_h[row] = (double)(b.h - a.h) / switches / 1000.0;
}

static void pin(int hart)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(hart, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        perror("solaris: sched_setaffinity");
}

/* ---- process 2: T4 answers T3 through the pipes; T5 just exists beside it ---- */

static void *t5(void *arg)
{
    (void)arg;
    usem_wait(&t5_done);
    return 0;
}

static int process2(void)
{
    close(p2c[1]);
    close(c2p[0]);
    uthread_init(UTHREAD_MN, 2);            /* T4 (this thread) and T5 on 2 LWPs */
    uthread_t t;
    uthread_create(&t, t5, 0, 0);
    char c;
    for (int r = 0; r <= rounds; r++) {     /* the warm-up round, then the timed ones */
        if (read(p2c[0], &c, 1) != 1)
            return 1;
        write(c2p[1], &c, 1);
    }
    usem_post(&t5_done);
    uthread_join(t, 0);
    return 0;
}

/* ---- process 1 ---- */

static void *t2(void *arg)
{
    (void)arg;
    lwp_t2 = lwp_self();
    for (int r = 0; r <= rounds; r++)
        uthread_yield();                    /* back to T1 */
    return 0;
}

static void *t1(void *arg)
{
    (void)arg;
    lwp_t1 = lwp_self();
    uthread_yield();                        /* warm-up: T2 has run once */
    struct stamp a = stamp();
    for (int r = 0; r < rounds; r++)
        uthread_yield();                    /* T1 -> T2 -> T1: two user-level switches */
    record(0, a, stamp(), 2L * rounds);

    char c = 'x';
    write(to3[1], &c, 1);                   /* warm-up round with T3 */
    read(to1[0], &c, 1);
    a = stamp();
    for (int r = 0; r < rounds; r++) {
        write(to3[1], &c, 1);               /* wake T3 on LWP 2 ... */
        read(to1[0], &c, 1);                /* ... and block LWP 1 until T3 answers */
    }
    record(1, a, stamp(), 2L * rounds);
    write(to3[1], &c, 1);                   /* T3: go on to T4 */
    return 0;
}

static void *t3(void *arg)
{
    (void)arg;
    lwp_t3 = lwp_self();
    char c;
    for (int r = 0; r <= rounds; r++) {
        read(to3[0], &c, 1);
        write(to1[1], &c, 1);
    }
    read(to3[0], &c, 1);
    write(p2c[1], &c, 1);                   /* warm-up round with T4 */
    read(c2p[0], &c, 1);
    struct stamp a = stamp();
    for (int r = 0; r < rounds; r++) {
        write(p2c[1], &c, 1);               /* wake T4 in process 2 ... */
        read(c2p[0], &c, 1);                /* ... and sleep until it answers */
    }
    record(2, a, stamp(), 2L * rounds);
    return 0;
}

/* K1-K2: the kernel's own measurement (/proc/kswitch: "NS SWITCHES"), ns per switch. */
static double kswitch(void)
{
    FILE *f = fopen("/proc/kswitch", "r");
    char line[64], *end;
    if (!f)
        return -1;
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    long v = strtol(line, &end, 10), n = strtol(end, 0, 10);
    return n > 0 ? (double)v / n : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    if (rounds < 1) {
        fprintf(stderr, "usage: solaris [ROUNDS]\n");
        return 2;
    }
    pin(HART);
    if (pipe(p2c) < 0 || pipe(c2p) < 0 || pipe(to3) < 0 || pipe(to1) < 0) {
        perror("solaris: pipe");
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();                     /* before uthread_init: process 2 starts clean */
    if (pid < 0) {
        perror("solaris: fork");
        return 1;
    }
    if (pid == 0)
        _exit(process2());
    close(p2c[0]);
    close(c2p[1]);

    int e = uthread_init(UTHREAD_MN, 1);    /* a pool of one LWP: LWP 1 */
    uthread_t a, b, c;
    if (e || uthread_create(&c, t3, 0, UTHREAD_BOUND) || uthread_create(&a, t1, 0, 0) ||
        uthread_create(&b, t2, 0, 0)) {
        printf("solaris FAILED: cannot start the threads\n");
        return 1;
    }
    uthread_join(a, 0);
    uthread_join(b, 0);
    uthread_join(c, 0);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        printf("solaris FAILED: process 2 did not finish cleanly\n");
        return 1;
    }

    double k12 = kswitch();
    printf("costs: %s\n", costs_profile());
    printf("process 1 (pid %d): T1 on lwp %d, T2 on lwp %d (unbound, a pool of 1 LWP), "
           "T3 on lwp %d (bound)\n", getpid(), lwp_t1, lwp_t2, lwp_t3);
    printf("process 2 (pid %d): T4 and T5 (M:N, 2 LWPs)\n", pid);
    printf("switch costs, %d round trips each, all on hart %d:\n", rounds, HART);
    static const char *what[4] = {
        "T1-T2  same LWP: user-level switch",
        "T1-T3  other LWP, same process",
        "T3-T4  other process: + address space",
        "K1-K2  kernel threads (kernel's clock)",
    };
    printf("  %-40s %14s %11s\n", "switch", "virtual ns", "host us");
    for (int i = 0; i < 3; i++)
        printf("  %-40s %14.0f %11.1f\n", what[i], cost_v[i], cost_h[i]);
    printf("  %-40s %14.0f %11s\n", what[3], k12, "-");
    printf("side by side: T1-T2 %.0f | T1-T3 %.0f | T3-T4 %.0f | K1-K2 %.0f\n", cost_v[0], cost_v[1],
           cost_v[2], k12);
    if (cost_v[0] < cost_v[1] && cost_v[1] < cost_v[2] && 0 < k12 && k12 < cost_v[2]) {
        printf("S18 OK: T1-T2 < T1-T3 < T3-T4 and K1-K2 < T3-T4\n");
        return 0;
    }
    printf("S18 FAILED: the order does not hold\n");
    return 1;
}
