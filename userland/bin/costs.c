/* costs: what creating and switching cost, for processes and for kernel threads (1:1),
   in one run: virtual ns per operation (CLOCK_MONOTONIC: 1 cycle = 1 ns, deterministic)
   beside host microseconds per operation (hostclock: how long the simulation took).
     thread create + join             thread_create of an empty thread, thread_join
     process fork + exit + wait       fork, the child _exits, waitpid
     thread switch                    two threads of one process pinned to one hart pass
                                      the turn back and forth through a futex word
     process switch                   two processes pinned to one hart pass a byte back and
                                      forth through two pipes
   Switch rows are per switch (a round trip is two). Everything runs pinned to hart 0 (new
   threads and children inherit the affinity), so no row includes the latency of waking a
   thread on another hart. Claims S3 and S6: the thread rows are cheaper than the process
   rows. costs [ROUNDS] (default 200 switch round trips).
   User-level threads (uthread.h), under M:1 and under M:N with a pool of 2 LWPs, each
   measured in a child process (a process picks its model once, in uthread_init):
     M:x uthread create + join        uthread_create of an empty thread, uthread_join
     M:x uthread switch (yield)       4 threads take turns with uthread_yield, per switch
     M:x umutex handoff               2 threads each loop lock; yield; unlock, so every
                                      lock blocks and every unlock hands the mutex over
   Claims S6 and S19: the user-level rows need no kernel at all under M:1.
   Then Table 4 of Anderson et al., "Scheduler activations" (1991), for M:N user threads (one
   LWP), user threads on scheduler activations (one vp), kernel threads and processes:
     Null Fork                        create a thread (process) that does nothing, wait for
                                      it: uthread or thread create + join, fork + waitpid
     Signal-Wait                      signal a waiting thread, then wait until it signals
                                      back; per round trip (two switches): a usem pair, the
                                      futex ping-pong, the pipe ping-pong
   The kernel-thread and process columns are the rows above (switches doubled); the user
   ones are measured in a child per model. docs/costs.md compares them with the paper's. */
#include <demo.h>
#include <kos.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define CREATES 20
#define HART 0
#define PAPER_LWPS 1

struct stamp { long v, h; };
struct row { const char *name; double v, h; };

static int rounds = 200;
static volatile int word;
static struct stamp ping_t0, ping_t1;

static struct stamp stamp(void)
{
    struct timespec v = { 0, 0 }, h = { 0, 0 };
    clock_gettime(CLOCK_MONOTONIC, &v);
    hostclock(&h);
    return (struct stamp){ ns(v), ns(h) };
}

static struct row per_op(const char *name, struct stamp a, struct stamp b, long ops)
{
    return (struct row){ name, (double)(b.v - a.v) / ops, (double)(b.h - a.h) / ops / 1000.0 };
}

static void pin(int hart)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(hart, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        perror("costs: sched_setaffinity");
}

static void unpin(void)
{
    cpu_set_t set;
    set.__bits[0] = ~0UL;
    sched_setaffinity(0, sizeof set, &set);
}

static void *empty(void *arg) { return arg; }

static void fwait(int val)
{
    while (word == val)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, val, 0, 0, 0);
}

static void fset(int val)
{
    word = val;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void *ping(void *arg)
{
    (void)arg;
    pin(HART);
    fset(1);           /* warm-up round: the pong thread gets going */
    fwait(1);
    ping_t0 = stamp();
    for (int r = 0; r < rounds; r++) {
        fset(1);
        fwait(1);
    }
    ping_t1 = stamp();
    return 0;
}

static void *pong(void *arg)
{
    (void)arg;
    pin(HART);
    for (int r = 0; r <= rounds; r++) {
        fwait(0);
        fset(0);
    }
    return 0;
}

/* ---- user-level threads: three rows per model, measured in a child ---- */

static umutex_t umu = UMUTEX_INITIALIZER;

static void *u_yield(void *arg)
{
    (void)arg;
    for (int r = 0; r < rounds; r++)
        uthread_yield();
    return 0;
}

static void *u_mutex(void *arg)
{
    (void)arg;
    for (int r = 0; r < rounds; r++) {
        umutex_lock(&umu);
        uthread_yield();           /* the other thread runs and blocks on umu */
        umutex_unlock(&umu);       /* hand it over */
    }
    return 0;
}

static int u_measure(int model, struct row *out)
{
    uthread_t t[4];
    if (uthread_init(model, 2))
        return -1;
    uthread_trace(0);       /* measured, not drawn: a traced switch would add a system call */
    struct stamp a = stamp();
    for (int i = 0; i < CREATES; i++) {
        if (uthread_create(&t[0], empty, 0, 0))
            return -1;
        uthread_join(t[0], 0);
    }
    out[0] = per_op("", a, stamp(), CREATES);
    a = stamp();
    for (int i = 0; i < 4; i++)
        if (uthread_create(&t[i], u_yield, 0, 0))
            return -1;
    for (int i = 0; i < 4; i++)
        uthread_join(t[i], 0);
    out[1] = per_op("", a, stamp(), 4L * rounds);
    a = stamp();
    for (int i = 0; i < 2; i++)
        if (uthread_create(&t[i], u_mutex, 0, 0))
            return -1;
    for (int i = 0; i < 2; i++)
        uthread_join(t[i], 0);
    out[2] = per_op("", a, stamp(), 2L * rounds);
    return 0;
}

/* ---- Anderson et al. (1991), Table 4: Null Fork and Signal-Wait at user level ---- */

static usem_t sw_ask, sw_answer;

static void *u_answer(void *arg)
{
    (void)arg;
    for (int r = 0; r <= rounds; r++) {
        usem_wait(&sw_ask);
        usem_post(&sw_answer);
    }
    return 0;
}

/* out[0] Null Fork: create a thread that does nothing and join it, after one warm-up (from
   then on the library reuses the joined thread's stack: the steady state). out[1] Signal-Wait: post the semaphore another thread waits on, then wait on
   the one it posts back; per round trip, two user-level switches. One LWP (M:N) or one vp
   (SA), like everything here pinned to one hart: a second one could only add the cost of
   waking it on the same hart. */
static int u_paper(int model, struct row *out)
{
    uthread_t t;
    if (uthread_init(model, PAPER_LWPS))
        return -1;
    uthread_trace(0);       /* as in u_measure */
    if (uthread_create(&t, empty, 0, 0))
        return -1;
    uthread_join(t, 0);
    struct stamp a = stamp();
    for (int i = 0; i < CREATES; i++) {
        if (uthread_create(&t, empty, 0, 0))
            return -1;
        uthread_join(t, 0);
    }
    out[0] = per_op("", a, stamp(), CREATES);
    usem_init(&sw_ask, 0);
    usem_init(&sw_answer, 0);
    if (uthread_create(&t, u_answer, 0, 0))
        return -1;
    usem_post(&sw_ask);                /* warm-up round */
    usem_wait(&sw_answer);
    a = stamp();
    for (int r = 0; r < rounds; r++) {
        usem_post(&sw_ask);
        usem_wait(&sw_answer);
    }
    out[1] = per_op("", a, stamp(), rounds);
    uthread_join(t, 0);
    return 0;
}

/* Runs measure(model, out) in a child process (a process picks its thread model once, in
   uthread_init) and reads its n rows back through a pipe: 0, or -1 if the child failed. */
static int in_child(int (*measure)(int, struct row *), int model, struct row *out, int n)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct row r[3];
        int ok = measure(model, r) == 0;
        write(p[1], r, ok ? n * sizeof *r : 1);
        _exit(!ok);
    }
    close(p[1]);
    size_t len = 0, want = n * sizeof *out;
    ssize_t got;
    while (len < want && (got = read(p[0], (char *)out + len, want - len)) > 0)
        len += (size_t)got;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return len == want && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Rows out[0..2] for model; 0, or -1 if the child failed. */
static int uthread_rows(int model, struct row *out)
{
    static const char *names[2][3] = {
        { "M:1 uthread create + join", "M:1 uthread switch (yield)", "M:1 umutex handoff" },
        { "M:N uthread create + join", "M:N uthread switch (yield)", "M:N umutex handoff" },
    };
    if (in_child(u_measure, model, out, 3) < 0)
        return -1;
    for (int i = 0; i < 3; i++)
        out[i].name = names[model == UTHREAD_MN][i];
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    if (rounds < 1) {
        fprintf(stderr, "usage: costs [ROUNDS]\n");
        return 2;
    }
    struct row rows[10];
    int nrows = 4;
    thread_t t[2];
    pin(HART);

    struct stamp a = stamp();
    for (int i = 0; i < CREATES; i++) {
        if (thread_create(&t[0], empty, 0)) {
            printf("costs FAILED: thread_create\n");
            return 1;
        }
        thread_join(t[0], 0);
    }
    rows[0] = per_op("thread create + join", a, stamp(), CREATES);

    fflush(stdout);
    a = stamp();
    for (int i = 0; i < CREATES; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("costs FAILED: fork");
            return 1;
        }
        if (pid == 0)
            _exit(0);
        waitpid(pid, 0, 0);
    }
    rows[1] = per_op("process fork + exit + wait", a, stamp(), CREATES);

    word = 0;
    if (thread_create(&t[1], pong, 0) || thread_create(&t[0], ping, 0)) {
        printf("costs FAILED: thread_create\n");
        return 1;
    }
    thread_join(t[0], 0);
    thread_join(t[1], 0);
    rows[2] = per_op("thread switch (futex ping-pong)", ping_t0, ping_t1, 2L * rounds);

    int p2c[2], c2p[2];
    char c = 'x';
    if (pipe(p2c) < 0 || pipe(c2p) < 0) {
        perror("costs FAILED: pipe");
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pin(HART);
        for (int r = 0; r <= rounds; r++) {
            if (read(p2c[0], &c, 1) != 1)
                _exit(1);
            write(c2p[1], &c, 1);
        }
        _exit(0);
    }
    write(p2c[1], &c, 1);   /* warm-up round */
    read(c2p[0], &c, 1);
    a = stamp();
    for (int r = 0; r < rounds; r++) {
        write(p2c[1], &c, 1);
        read(c2p[0], &c, 1);
    }
    rows[3] = per_op("process switch (pipe ping-pong)", a, stamp(), 2L * rounds);
    waitpid(pid, 0, 0);
    for (int m = UTHREAD_M1; m <= UTHREAD_MN; m++, nrows += 3)
        if (uthread_rows(m, rows + nrows) < 0) {
            printf("costs FAILED: user-level threads (model %d)\n", m);
            return 1;
        }
    struct row paper[2][2];                      /* [M:N, SA][Null Fork, Signal-Wait] */
    for (int m = 0; m < 2; m++)
        if (in_child(u_paper, m ? UTHREAD_SA : UTHREAD_MN, paper[m], 2) < 0) {
            printf("costs FAILED: Null Fork / Signal-Wait under %s\n", m ? "SA" : "M:N");
            return 1;
        }
    unpin();

    struct kstat ks;
    kstat(&ks);
    printf("%d creations, %d switch round trips, all pinned to hart %d of %ld; costs: %s\n",
           CREATES, rounds, HART, ks.ncpus, costs_profile());
    printf("%-34s %14s %12s\n", "operation", "virtual ns/op", "host us/op");
    for (int i = 0; i < nrows; i++)
        printf("%-34s %14.0f %12.1f\n", rows[i].name, rows[i].v, rows[i].h);

    /* Columns: M:N and SA user threads, kernel threads (the rows thread create + join and
       the futex ping-pong), processes (fork + exit + wait and the pipe ping-pong). The
       switch rows are per switch: a Signal-Wait round trip is two. */
    struct row table[2][4] = {
        { paper[0][0], paper[1][0], rows[0], rows[1] },
        { paper[0][1], paper[1][1], { 0, 2 * rows[2].v, 2 * rows[2].h },
          { 0, 2 * rows[3].v, 2 * rows[3].h } },
    };
    static const char *ops[2] = { "Null Fork", "Signal-Wait" };
    static const int width[4] = { 13, 13, 15, 11 };
    printf("\nAnderson et al. 1991, Table 4 (per operation; Signal-Wait per round trip)\n");
    printf("%-12s %-10s %13s %13s %15s %11s\n", "operation", "unit", "M:N uthreads",
           "SA uthreads", "kernel threads", "processes");
    for (int i = 0; i < 2; i++) {
        printf("%-12s %-10s", ops[i], "virtual ns");
        for (int c = 0; c < 4; c++)
            printf(" %*.0f", width[c], table[i][c].v);
        printf("\n%-12s %-10s", ops[i], "host us");
        for (int c = 0; c < 4; c++)
            printf(" %*.1f", width[c], table[i][c].h);
        printf("\n");
    }
    printf("kernel threads / SA uthreads: Null Fork %.1fx, Signal-Wait %.1fx; processes / kernel "
           "threads: %.1fx, %.1fx (virtual time)\n\n", table[0][2].v / table[0][1].v,
           table[1][2].v / table[1][1].v, table[0][3].v / table[0][2].v, table[1][3].v / table[1][2].v);

    double create = rows[1].v / rows[0].v, sw = rows[3].v / rows[2].v;
    if (create > 1 && sw > 1) {
        printf("S3/S6 OK: creating a thread is %.1fx cheaper than creating a process, a thread "
               "switch %.1fx cheaper than a process switch (virtual time)\n", create, sw);
        return 0;
    }
    printf("S3/S6 FAILED: process/thread create ratio %.2f, switch ratio %.2f\n", create, sw);
    return 1;
}
