/* summary: the reference table the seed ends with, measured in one run. Four figures for
   each of processes, kernel threads (1:1), user threads (M:1), user threads on a pool of
   LWPs (M:N) and user threads on scheduler activations (SA), in virtual time
   (CLOCK_MONOTONIC: 1 instruction = 1 ns, deterministic):
     create   create one that does nothing and wait for it, per creation (after a warm-up):
              fork + _exit + waitpid, thread_create + thread_join, uthread_create + join
     switch   two of them hand the processor to each other, per switch: a byte through a
              pipe each way (processes), a futex word (1:1), uthread_yield (user threads)
     blocks   one sleeps 3 ms in nanosleep (uthread_sleep_us) while 3 others compute in
              chunks: how many chunks they finished meanwhile (each stamps its chunks;
              processes send their stamps back through a pipe when they end)
     speedup  the time 4 CPU-bound workers' work takes one after another / the time it
              takes as 4 processes or threads
   Each row is measured by a program of its own, `summary KEY` (run with popen; KEY is
   proc, kt, m1, mn or sa), which prints that row's figures: a process picks its thread
   model once (uthread_init). The user-level rows measure create and switch with one LWP
   (vp), so the switch is between two user threads sharing it (the Solaris figure's cheap
   T1-T2 switch); then the pool grows to one LWP (vp) per hart for the blocking and speedup
   runs. As in costs, the process and 1:1 create and switch runs are pinned to hart 0, so no
   figure includes waking a thread on another hart. Under the table, the seed's conclusions
   as checks; the exit status is 0 if all hold. Run it on 4 harts (tools.run's default). */
#include <demo.h>
#include <errno.h>
#include <kos.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define CREATES 20          /* creations timed, after one warm-up */
#define ROUNDS 200          /* switch round trips (two switches each) */
#define NW 3                /* workers that compute while one blocks ... */
#define CHUNKS 1000         /* ... each this many chunks ... */
#define CHUNK 1000          /* ... of this many LCG steps (about 4 us) */
#define SLEEP_US 3000
#define NP 4                /* CPU-bound workers of the speedup run ... */
#define ITERS 250000        /* ... each this many LCG steps (about 1 ms) */

enum { PROC, KT, M1, MN, SA, NROWS };
struct result { double create, sw; long during, slept, par; };

static const char *keys[NROWS] = { "proc", "kt", "m1", "mn", "sa" };
static int row;             /* the model measured by this process */
static int harts = 1;

__attribute__((noinline)) static unsigned long work(unsigned long x, long n)
{
    for (long k = 0; k < n; k++)
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    return x;
}

/* on: run on hart 0 only (new threads and children inherit it); off: on any hart. */
static void pin_to_hart0(int on)
{
    cpu_set_t set;
    set.__bits[0] = on ? 1UL : ~0UL;
    sched_setaffinity(0, sizeof set, &set);
}

/* ---- one interface to start something and wait for it, whatever the model ---- */

struct job {
    void *(*fn)(void *);
    void *arg;
    void *back;             /* processes: the child sends these len bytes back at its end */
    size_t len;
    pid_t pid;
    int fd;
    thread_t kt;
    uthread_t ut;
};

static int spawn(struct job *j)
{
    if (row == KT)
        return thread_create(&j->kt, j->fn, j->arg);
    if (row != PROC)
        return uthread_create(&j->ut, j->fn, j->arg, 0);
    int p[2] = { -1, -1 };
    if (j->len && pipe(p) < 0)
        return errno;
    fflush(stdout);
    if ((j->pid = fork()) < 0)
        return errno;
    if (j->pid == 0) {
        j->fn(j->arg);
        for (size_t done = 0; done < j->len;) {
            ssize_t n = write(p[1], (char *)j->back + done, j->len - done);
            if (n <= 0)
                _exit(1);
            done += (size_t)n;
        }
        _exit(0);
    }
    if (j->len)
        close(p[1]);
    j->fd = p[0];
    return 0;
}

static int await(struct job *j)
{
    if (row == KT)
        return thread_join(j->kt, 0);
    if (row != PROC)
        return uthread_join(j->ut, 0);
    size_t got = 0;
    ssize_t n;
    while (got < j->len && (n = read(j->fd, (char *)j->back + got, j->len - got)) > 0)
        got += (size_t)n;
    if (j->len)
        close(j->fd);
    int st = 0;
    waitpid(j->pid, &st, 0);
    return got == j->len && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* Between two chunks of work: user threads are cooperative, so let the others run. */
static void next_turn(void)
{
    if (row >= M1)
        uthread_yield();
}

/* ---- create ---- */

static void *nothing(void *arg) { return arg; }

static double create_cost(void)
{
    struct job j = { .fn = nothing };
    long t0 = 0;
    for (int i = 0; i <= CREATES; i++) {
        if (i == 1)
            t0 = now();                            /* i == 0 was the warm-up */
        if (spawn(&j) || await(&j))
            return -1;
    }
    return (double)(now() - t0) / CREATES;
}

/* ---- switch ---- */

static volatile int turn;   /* 1:1: whose turn it is, a futex word */
static int there[2], back[2];   /* processes: a pipe each way */

static void fwait(int val)
{
    while (turn == val)
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, val, 0, 0, 0);
}

static void fpass(int val)
{
    turn = val;
    syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

/* The partner answers each of the ROUNDS + 1 (one warm-up) passes. */
static void *partner(void *arg)
{
    char c;
    for (int r = 0; r <= ROUNDS; r++) {
        if (row == KT) {
            fwait(0);
            fpass(0);
        } else if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1) {
            _exit(1);
        }
    }
    return arg;
}

static void *yielder(void *arg)
{
    for (int r = 0; r < ROUNDS; r++)
        uthread_yield();
    return arg;
}

static double switch_cost(void)
{
    long t0 = 0, t1;
    if (row >= M1) {                               /* two user threads take turns */
        struct job j[2] = { { .fn = yielder }, { .fn = yielder } };
        t0 = now();
        if (spawn(&j[0]) || spawn(&j[1]) || await(&j[0]) || await(&j[1]))
            return -1;
        return (double)(now() - t0) / (2 * ROUNDS);
    }
    struct job j = { .fn = partner };
    char c = 'x';
    turn = 0;
    if ((row == PROC && (pipe(there) < 0 || pipe(back) < 0)) || spawn(&j))
        return -1;
    for (int r = 0; r <= ROUNDS; r++) {
        if (r == 1)
            t0 = now();                            /* r == 0 was the warm-up */
        if (row == KT) {
            fpass(1);
            fwait(1);
        } else if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) {
            return -1;
        }
    }
    t1 = now();
    if (row == PROC) {
        close(there[0]), close(there[1]), close(back[0]), close(back[1]);
    }
    return await(&j) ? -1 : (double)(t1 - t0) / (2 * ROUNDS);
}

/* ---- blocking I/O ---- */

static long stamps[NW][CHUNKS];    /* when each chunk of each worker was done */
static long window[2];             /* when the sleeper went to sleep, and woke */

static void *chunker(void *arg)
{
    long *st = stamps[(long)arg];
    unsigned long x = (unsigned long)arg + 1;
    for (int c = 0; c < CHUNKS; c++) {
        x = work(x, CHUNK);
        st[c] = now();
        next_turn();
    }
    return (void *)x;
}

static void *sleeper(void *arg)
{
    for (int i = 0; i < 3; i++)
        next_turn();                               /* user threads: the workers get going */
    window[0] = now();
    if (row >= M1) {
        uthread_sleep_us(SLEEP_US);
    } else {
        struct timespec ts = { 0, SLEEP_US * 1000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    window[1] = now();
    return arg;
}

static int blocking(struct result *r)
{
    struct job j[NW + 1];
    memset(j, 0, sizeof j);
    for (int i = 0; i <= NW; i++) {                /* the workers first, the sleeper last */
        j[i].fn = i < NW ? chunker : sleeper;
        j[i].arg = (void *)(long)i;
        j[i].back = i < NW ? (void *)stamps[i] : (void *)window;
        j[i].len = i < NW ? sizeof stamps[i] : sizeof window;
    }
    for (int i = 0; i <= NW; i++)
        if (spawn(&j[i]))
            return -1;
    for (int i = 0; i <= NW; i++)
        if (await(&j[i]))
            return -1;
    long end = window[0] + SLEEP_US * 1000L;       /* the sleep's 3 ms (it may get its */
    r->during = 0;                                 /* hart back later than that) */
    for (int i = 0; i < NW; i++)
        for (int c = 0; c < CHUNKS; c++)
            r->during += stamps[i][c] > window[0] && stamps[i][c] < end;
    r->slept = window[1] - window[0];
    return 0;
}

/* ---- parallel speedup ---- */

static void *cruncher(void *arg) { return (void *)work((unsigned long)arg + 1, ITERS); }

static long parallel(void)
{
    struct job j[NP];
    memset(j, 0, sizeof j);
    long t0 = now();
    for (int i = 0; i < NP; i++) {
        j[i].fn = cruncher;
        j[i].arg = (void *)(long)i;
        if (spawn(&j[i]))
            return -1;
    }
    for (int i = 0; i < NP; i++)
        if (await(&j[i]))
            return -1;
    return now() - t0;
}

/* ---- one row: summary KEY ---- */

static int measure(struct result *r)
{
    static const int model[NROWS] = { 0, 0, UTHREAD_M1, UTHREAD_MN, UTHREAD_SA };
    if (row >= M1 && uthread_init(model[row], 1))
        return -1;
    if (row < M1)
        pin_to_hart0(1);
    r->create = create_cost();
    r->sw = switch_cost();
    if (row < M1)
        pin_to_hart0(0);
    if (r->create < 0 || r->sw < 0)
        return -1;
    if ((row == MN || row == SA) && uthread_setconcurrency(harts))
        return -1;
    if (blocking(r) < 0 || (r->par = parallel()) < 0)
        return -1;
    return 0;
}

/* The figures of row r, from the line `summary KEY` printed: 0, or -1 if it failed. */
static int run_row(int r, struct result *res)
{
    static char out[512];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "summary %s", keys[r]);
    int st = capture(cmd, out, sizeof out);
    long v[5];
    static const char *names[5] = { "create_ns ", "switch_ns ", "chunks_during ", "slept_ns ",
                                    "parallel_ns " };
    for (int i = 0; i < 5; i++) {
        char *p = strstr(out, names[i]);
        if (!p)
            return -1;
        v[i] = strtol(p + strlen(names[i]), 0, 10);
    }
    *res = (struct result){ v[0], v[1], v[2], v[3], v[4] };
    return st == 0 && res->par > 0 ? 0 : -1;
}

static int check(const char *claim, int holds)
{
    printf("  %-70s %s\n", claim, holds ? "yes" : "NO");
    return holds;
}

int main(int argc, char **argv)
{
    struct kstat ks;
    if (kstat(&ks) == 0)
        harts = (int)ks.ncpus;
    if (argc > 1) {                                /* one row: summary KEY */
        for (row = 0; row < NROWS && strcmp(argv[1], keys[row]); row++)
            ;
        if (row == NROWS || argc > 2) {
            fprintf(stderr, "usage: summary [proc|kt|m1|mn|sa]\n");
            return 2;
        }
        struct result r;
        if (measure(&r) < 0) {
            printf("summary %s FAILED\n", keys[row]);
            return 1;
        }
        printf("%s: create_ns %.0f switch_ns %.0f chunks_during %ld slept_ns %ld parallel_ns %ld\n",
               keys[row], r.create, r.sw, r.during, r.slept, r.par);
        return 0;
    }

    static volatile unsigned long sink;            /* keeps the work from being optimised out */
    long t0 = now();                               /* the speedup's reference */
    for (int i = 0; i < NP; i++)
        sink = work((unsigned long)i + 1, ITERS);
    long serial = now() - t0;
    t0 = now();                                    /* a chunk as the workers do it */
    for (int i = 0; i < 20; i++) {
        sink = work(sink, CHUNK);
        (void)now();
    }
    long chunk = (now() - t0) / 20;

    struct result res[NROWS];
    char name[NROWS][32];
    snprintf(name[PROC], 32, "processes");
    snprintf(name[KT], 32, "kernel threads (1:1)");
    snprintf(name[M1], 32, "user threads (M:1)");
    snprintf(name[MN], 32, "M:N, %d LWP%s", harts, harts > 1 ? "s" : "");
    snprintf(name[SA], 32, "SA, %d vp%s", harts, harts > 1 ? "s" : "");
    for (int r = 0; r < NROWS; r++)
        if (run_row(r, &res[r]) < 0) {
            printf("summary FAILED: the %s run (summary %s)\n", name[r], keys[r]);
            return 1;
        }

    int can = NW < harts ? NW : harts, np = NP < harts ? NP : harts;
    printf("The seed's summary, measured on %d hart%s (virtual time: 1 instruction = 1 ns; costs: %s)\n\n",
           harts, harts > 1 ? "s" : "", costs_profile());
    printf("%-22s %10s %10s %22s %8s\n", "", "create ns", "switch ns", "work while one blocks",
           "speedup");
    for (int r = 0; r < NROWS; r++)
        printf("%-22s %10.0f %10.0f %15ld chunks %8.2f\n", name[r], res[r].create, res[r].sw,
               res[r].during, (double)serial / res[r].par);
    printf("\ncreate:  start one that does nothing, wait for it: fork+_exit+waitpid, "
           "(u)thread_create+join\n");
    printf("switch:  per switch, two taking turns: pipe ping-pong, futex ping-pong, "
           "uthread_yield on 1 LWP/vp\n");
    printf("blocks:  chunks %d others finished while one slept %d ms in nanosleep (%d hart%s can "
           "do %ld)\n", NW, SLEEP_US / 1000, can, can > 1 ? "s" : "", can * SLEEP_US * 1000L / chunk);
    printf("speedup: serial time of %d CPU-bound workers / their time as %d processes or threads\n",
           NP, NP);

    double lim = 0.625 * np;                       /* 2.5 on 4 harts */
    int ok = 1;
    printf("\nThe seed's conclusions:\n");
    ok &= check("user-level switch (M:1, M:N, SA) cheaper than a kernel-thread switch:",
                res[M1].sw < res[KT].sw && res[MN].sw < res[KT].sw && res[SA].sw < res[KT].sw);
    ok &= check("kernel-thread switch cheaper than a process switch:", res[KT].sw < res[PROC].sw);
    ok &= check("creating a thread (of any kind) cheaper than creating a process:",
                res[KT].create < res[PROC].create && res[M1].create < res[PROC].create &&
                res[MN].create < res[PROC].create && res[SA].create < res[PROC].create);
    ok &= check("creating a user thread cheaper than creating a kernel thread:",
                res[M1].create < res[KT].create && res[MN].create < res[KT].create &&
                res[SA].create < res[KT].create);
    ok &= check("M:1: one blocking call stalls the whole process (0 chunks meanwhile):",
                res[M1].during == 0);
    ok &= check("processes, 1:1, M:N, SA: the others run on while one blocks:",
                res[PROC].during > 0 && res[KT].during > 0 && res[MN].during > 0 &&
                res[SA].during > 0);
    ok &= check("M:1: no parallelism, however many harts (speedup < 1.2):",
                (double)serial / res[M1].par < 1.2);
    if (np > 1) {
        char claim[80];
        snprintf(claim, sizeof claim, "processes, 1:1, M:N, SA: real parallelism (speedup > %.1f):",
                 lim);
        int par = 1;
        for (int r = 0; r < NROWS; r++)
            par &= r == M1 || (double)serial / res[r].par > lim;
        ok &= check(claim, par);
    }
    if (ok) {
        printf("summary OK: every conclusion of the seed holds\n");
        return 0;
    }
    printf("summary FAILED: a conclusion of the seed does not hold (NO above)\n");
    return 1;
}
