/* The green-thread library (uthread.h) at the API level: utest MODE [ARGS]
     api m1|mn [NLWPS]   create/join/ids/errors, errno and FP registers per thread,
                         umutex, ucond, usem under one model; "ALL OK" at the end
     bound               M:N bound threads, setconcurrency, stats
     preempt m1|mn       timer preemption of threads that never yield (mn: 2 LWPs)
     libc                M:1 preemptive threads hammering malloc and printf
     stress [NLWPS]      M:N, preemptive: mutex, cond, sem, bound threads together
     overflow            a user thread overflows its stack into the guard page
     deadlock            M:1: every thread blocked
   Each check prints "ok NAME" or "FAIL NAME: why". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kos.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uthread.h>

static int fails;

static void check(int ok, const char *name, const char *why)
{
    if (ok)
        printf("ok %s\n", name);
    else {
        printf("FAIL %s: %s\n", name, why);
        fails++;
    }
}

/* ---- api ---- */

static void *ret_id(void *arg)
{
    (void)arg;
    return (void *)(long)(uthread_id(uthread_self()) * 10);
}

static void *errno_fp(void *arg)
{
    long i = (long)arg;
    double d = (double)i * 1.5;            /* kept in a callee-saved FP register across yields */
    int bad = 0;
    for (int r = 0; r < 20; r++) {
        errno = (int)i + r;
        uthread_yield();
        bad |= errno != (int)i + r;
        d = d * 1.0 + 0.5;
        uthread_yield();
    }
    bad |= d != (double)i * 1.5 + 10.0;
    return (void *)(long)bad;
}

static umutex_t mu = UMUTEX_INITIALIZER;
static long counter;

static void *incr(void *arg)
{
    (void)arg;
    for (int r = 0; r < 500; r++) {
        umutex_lock(&mu);
        long c = counter;
        uthread_yield();                   /* others run, block on mu, and are handed it */
        counter = c + 1;
        umutex_unlock(&mu);
    }
    return 0;
}

#define QN 4
static umutex_t qm = UMUTEX_INITIALIZER;
static ucond_t notfull = UCOND_INITIALIZER, notempty = UCOND_INITIALIZER;
static int q[QN], qh, qt, qn;

static void *producer(void *arg)
{
    long base = (long)arg;
    for (int i = 0; i < 200; i++) {
        umutex_lock(&qm);
        while (qn == QN)
            ucond_wait(&notfull, &qm);
        q[qt] = (int)(base + i);
        qt = (qt + 1) % QN;
        qn++;
        ucond_signal(&notempty);
        umutex_unlock(&qm);
    }
    return 0;
}

static void *consumer(void *arg)
{
    long sum = 0;
    (void)arg;
    for (int i = 0; i < 400; i++) {
        umutex_lock(&qm);
        while (qn == 0)
            ucond_wait(&notempty, &qm);
        sum += q[qh];
        qh = (qh + 1) % QN;
        qn--;
        ucond_broadcast(&notfull);
        umutex_unlock(&qm);
    }
    return (void *)sum;
}

static usem_t ping = USEM_INITIALIZER(0), pong = USEM_INITIALIZER(0);

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        usem_wait(&ping);
        usem_post(&pong);
    }
    return 0;
}

static uthread_t waiter_target;
static void *join_other(void *arg)
{
    (void)arg;
    return (void *)(long)uthread_join(waiter_target, 0);
}

static usem_t hold = USEM_INITIALIZER(0);
static void *held(void *arg)
{
    (void)arg;
    usem_wait(&hold);
    return (void *)7L;
}

static char *stack_lo[4];
static void *where(void *arg)
{
    char local;
    stack_lo[(long)arg] = &local;
    uthread_yield();
    return 0;
}

static int api(int model, int nlwps)
{
    char why[128];
    check(uthread_init(UTHREAD_SA, 0) == EINVAL, "sa_zero_vps", "UTHREAD_SA with 0 vps accepted");
    check(uthread_init(7, 1) == EINVAL, "bad_model", "model 7 accepted");
    check(uthread_init(model, nlwps) == 0, "init", "uthread_init failed");
    check(uthread_init(model, nlwps) == EBUSY, "init_twice", "second uthread_init not EBUSY");
    check(uthread_id(uthread_self()) == 0, "main_id", "main is not thread 0");

    uthread_t t[10];
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= uthread_create(&t[i], ret_id, 0, 0) == 0;
    for (int i = 0; i < 10; i++) {
        void *r = 0;
        ok &= uthread_join(t[i], &r) == 0 && (long)r == 10L * (i + 1);
    }
    check(ok, "create_join_ids", "wrong return values or ids");
    check(uthread_join(uthread_self(), 0) == EDEADLK, "join_self", "not EDEADLK");
    check(uthread_join(t[0], 0) == ESRCH, "join_twice", "joining a joined thread not ESRCH");
    check(uthread_create(&t[0], ret_id, 0, 2) == EINVAL, "bad_flags", "flags 2 accepted");
    if (model == UTHREAD_M1)
        check(uthread_create(&t[0], ret_id, 0, UTHREAD_BOUND) == EINVAL, "bound_m1",
              "a bound thread under M:1");

    ok = 1;
    for (long i = 0; i < 4; i++)
        ok &= uthread_create(&t[i], errno_fp, (void *)(i + 1), 0) == 0;
    for (int i = 0; i < 4; i++) {
        void *r = (void *)1;
        ok &= uthread_join(t[i], &r) == 0 && r == 0;
    }
    check(ok, "errno_fp_per_thread", "errno or a callee-saved FP register not kept across switches");

    ok = 1;
    for (long i = 0; i < 4; i++)
        ok &= uthread_create(&t[i], where, (void *)i, 0) == 0;
    for (int i = 0; i < 4; i++)
        uthread_join(t[i], 0);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (i != j && (stack_lo[i] - stack_lo[j] < 65536 && stack_lo[j] - stack_lo[i] < 65536))
                ok = 0;
    check(ok, "own_stacks", "two threads' locals less than a stack apart");

    for (int i = 0; i < 4; i++)
        uthread_create(&t[i], incr, 0, 0);
    for (int i = 0; i < 4; i++)
        uthread_join(t[i], 0);
    snprintf(why, sizeof why, "counter %ld, want 2000", counter);
    check(counter == 2000, "umutex", why);

    uthread_t p1, p2, c;
    uthread_create(&c, consumer, 0, 0);
    uthread_create(&p1, producer, (void *)0L, 0);
    uthread_create(&p2, producer, (void *)1000L, 0);
    void *sum = 0;
    uthread_join(p1, 0);
    uthread_join(p2, 0);
    uthread_join(c, &sum);
    long want = 0;
    for (int i = 0; i < 200; i++)
        want += i + 1000 + i;
    snprintf(why, sizeof why, "sum %ld, want %ld", (long)sum, want);
    check((long)sum == want, "ucond_bounded_buffer", why);

    uthread_t pp;
    uthread_create(&pp, ponger, 0, 0);
    for (int i = 0; i < 100; i++) {
        usem_post(&ping);
        usem_wait(&pong);
    }
    uthread_join(pp, 0);
    usem_t s;
    usem_init(&s, 2);
    usem_wait(&s);
    usem_wait(&s);
    check(s.count == 0, "usem", "count not 0 after two waits on 2");

    uthread_t a, b;
    uthread_create(&a, held, 0, 0);
    waiter_target = a;
    uthread_create(&b, join_other, 0, 0);
    uthread_sleep_us(100);                 /* M:N: other LWPs get there */
    uthread_yield();
    uthread_yield();
    int e = uthread_join(a, 0);            /* b is already joining a */
    usem_post(&hold);
    void *rb = (void *)1;
    uthread_join(b, &rb);
    check(e == EINVAL && rb == 0, "join_busy", "a second joiner was not refused");

    struct uthread_stats st;
    uthread_stats(&st);
    check(st.nthreads == 1 && st.switches > 0, "stats", "stats: wrong thread count or no switches");
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

/* ---- bound threads, the pool ---- */

static umutex_t bm = UMUTEX_INITIALIZER;
static ucond_t bc = UCOND_INITIALIZER;
static int go;

static void *bound_body(void *arg)
{
    (void)arg;
    umutex_lock(&bm);
    while (!go)
        ucond_wait(&bc, &bm);
    umutex_unlock(&bm);
    return (void *)(long)lwp_self();
}

static void *unbound_lwp(void *arg)
{
    (void)arg;
    return (void *)(long)lwp_self();
}

static int count_lwps(void)
{
    static struct lwpinfo li[128];
    int n = lwpinfo(li, 128), c = 0;
    for (int i = 0; i < n; i++)
        c += li[i].pid == getpid() && li[i].state != 'Z';
    return c;
}

static int bound(void)
{
    check(uthread_init(UTHREAD_MN, 2) == 0, "init", "uthread_init(MN, 2)");
    int lwps0 = count_lwps();
    uthread_t b[3];
    for (int i = 0; i < 3; i++)
        uthread_create(&b[i], bound_body, 0, UTHREAD_BOUND);
    uthread_sleep_us(200);
    int lwps1 = count_lwps();
    umutex_lock(&bm);
    go = 1;
    ucond_broadcast(&bc);
    umutex_unlock(&bm);
    void *r[3];
    for (int i = 0; i < 3; i++)
        uthread_join(b[i], &r[i]);
    char why[128];
    snprintf(why, sizeof why, "LWPs %d before, %d with 3 bound threads", lwps0, lwps1);
    check(lwps0 == 2 && lwps1 == 5, "bound_own_lwps", why);
    check(r[0] != r[1] && r[1] != r[2] && r[0] != r[2] && (long)r[0] != getpid(), "bound_distinct",
          "bound threads shared an LWP");

    check(uthread_setconcurrency(4) == 0, "grow", "setconcurrency(4)");
    struct uthread_stats st;
    uthread_stats(&st);
    int n4 = count_lwps();
    check(st.nlwps == 4 && n4 == 4, "grow_count", "pool not 4 LWPs");
    uthread_t u[8];
    for (int i = 0; i < 8; i++)
        uthread_create(&u[i], unbound_lwp, 0, 0);
    for (int i = 0; i < 8; i++)
        uthread_join(u[i], 0);
    check(uthread_setconcurrency(1) == 0, "shrink", "setconcurrency(1)");
    uthread_sleep_us(200);                 /* the retired LWPs exit */
    uthread_stats(&st);
    snprintf(why, sizeof why, "pool %d, kernel LWPs %d", st.nlwps, count_lwps());
    check(st.nlwps == 1 && count_lwps() == 1, "shrink_count", why);
    for (int i = 0; i < 4; i++)
        uthread_create(&u[i], unbound_lwp, 0, 0);
    int one = 1;
    for (int i = 0; i < 4; i++) {
        void *l;
        uthread_join(u[i], &l);
        one &= (long)l == getpid();
    }
    check(one, "shrunk_pool_runs", "threads ran elsewhere than the one LWP left");
    check(uthread_setconcurrency(0) == EINVAL, "setconcurrency_0", "0 accepted");
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

/* ---- preemption ---- */

static volatile long prog[4];
static long seen_at_end[4];

static void *hog(void *arg)
{
    long i = (long)arg;
    for (long k = 1; k <= 400000; k++)
        if ((k & 255) == 0)
            prog[i] = k;
    if (i == 0)
        for (int j = 0; j < 4; j++)
            seen_at_end[j] = prog[j];
    return 0;
}

static int preempt(int model)
{
    uthread_init(model, 2);
    check(uthread_preempt(-1) == EINVAL, "preempt_negative", "-1 accepted");
    check(uthread_preempt(200) == 0, "preempt_on", "uthread_preempt(200)");
    uthread_t t[4];
    for (long i = 0; i < 4; i++)
        uthread_create(&t[i], hog, (void *)i, 0);
    for (int i = 0; i < 4; i++)
        uthread_join(t[i], 0);
    uthread_preempt(0);
    struct uthread_stats st;
    uthread_stats(&st);
    char why[160];
    snprintf(why, sizeof why, "at thread 1's end: %ld %ld %ld, %ld preemptions", seen_at_end[1],
             seen_at_end[2], seen_at_end[3], st.preemptions);
    check(seen_at_end[1] > 100000 && seen_at_end[2] > 100000 && seen_at_end[3] > 100000 &&
          st.preemptions > 5, "preempt_shares", why);
    printf("%s\n", why);
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

static void *libc_user(void *arg)
{
    long i = (long)arg;
    for (int r = 0; r < 40; r++) {
        char *p = malloc(100 + r * 10);
        memset(p, 'a' + (int)i, 100 + r * 10);
        printf("thread %ld round %02d %.40s\n", i, r, p);
        free(p);
        for (volatile int k = 0; k < 3000; k++)
            ;
    }
    return 0;
}

static int libc_mode(void)
{
    uthread_init(UTHREAD_M1, 1);
    uthread_preempt(50);                   /* many ticks land inside malloc and printf */
    uthread_t t[4];
    for (long i = 0; i < 4; i++)
        uthread_create(&t[i], libc_user, (void *)i, 0);
    for (int i = 0; i < 4; i++)
        uthread_join(t[i], 0);
    uthread_preempt(0);
    struct uthread_stats st;
    uthread_stats(&st);
    printf("preemptions %ld deferred %ld\n", st.preemptions, st.deferred);
    printf("ALL OK\n");
    return 0;
}

static int depth(int n)
{
    char pad[1024];
    memset(pad, n, sizeof pad);
    __asm__ volatile("" : : "r"(pad) : "memory");   /* keep the whole frame */
    return n ? depth(n - 1) + pad[n % 1024] : 0;
}

static void *deep(void *arg)
{
    (void)arg;
    return (void *)(long)depth(1000);        /* 1 MiB of frames on a 64 KiB stack */
}

static usem_t never = USEM_INITIALIZER(0);
static void *stuck(void *arg)
{
    (void)arg;
    usem_wait(&never);
    return 0;
}

/* ---- stress: M:N (or SA), preemptive, everything at once ---- */

static umutex_t sm = UMUTEX_INITIALIZER;
static ucond_t sc = UCOND_INITIALIZER;
static usem_t ss = USEM_INITIALIZER(0);
static volatile long scount, sturn;

static void *stress_body(void *arg)
{
    long i = (long)arg;
    for (int r = 0; r < 300; r++) {
        umutex_lock(&sm);
        long c = scount;
        for (volatile int k = 0; k < 20; k++)
            ;
        scount = c + 1;
        if (r % 7 == 0)
            uthread_yield();
        umutex_unlock(&sm);
        if (i % 2 == 0) {                  /* pairs pass a semaphore unit around */
            usem_post(&ss);
        } else {
            usem_wait(&ss);
        }
        if (r % 50 == 0) {
            umutex_lock(&sm);
            sturn++;
            ucond_broadcast(&sc);
            while (sturn % 2 && r % 100 == 0 && i == 1)
                ucond_wait(&sc, &sm);
            umutex_unlock(&sm);
        }
    }
    return (void *)i;
}

static void *bound_stress(void *arg)
{
    for (int r = 0; r < 200; r++) {
        umutex_lock(&sm);
        scount++;
        umutex_unlock(&sm);
    }
    return arg;
}

/* sastress: under UTHREAD_SA, threads mixing a mutex, a semaphore, yields and short
   sleeps in the kernel (each a BLOCKED and an UNBLOCKED upcall, the latter preempting a
   busy activation, often inside the library): no update lost, no thread lost, no thread
   run twice (on two vps at once, or an iteration done twice). */
#define SA_THREADS 8
#define SA_ITERS 150
static umutex_t sa_m = UMUTEX_INITIALIZER;
static usem_t sa_sem = USEM_INITIALIZER(2);
static long sa_counter;
static int sa_inside[SA_THREADS], sa_done[SA_THREADS], sa_twice;

static void *sa_worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < SA_ITERS; i++) {
        if (__atomic_add_fetch(&sa_inside[id], 1, __ATOMIC_RELAXED) != 1)
            __atomic_store_n(&sa_twice, 1, __ATOMIC_RELAXED);   /* one thread on two vps */
        umutex_lock(&sa_m);
        long c = sa_counter;
        if ((i + id) % 4 == 0)
            uthread_yield();                    /* others queue on the mutex */
        sa_counter = c + 1;
        umutex_unlock(&sa_m);
        if ((i + id) % 3 == 0) {
            usem_wait(&sa_sem);
            uthread_yield();
            usem_post(&sa_sem);
        }
        if ((i + id) % 5 == 0)
            uthread_sleep_us(10 + (i % 4) * 15);
        uthread_yield();
        __atomic_sub_fetch(&sa_inside[id], 1, __ATOMIC_RELAXED);
        sa_done[id]++;
    }
    return arg;
}

/* The churn process beside sastress: another SA process whose main thread keeps changing
   how many vps it asks for while 3 threads compute, so the kernel keeps taking vps from
   both processes and giving them back (space sharing). */
static volatile int churn_stop;
static volatile long churn_work[3];

static void *churn_worker(void *arg)
{
    long id = (long)arg;
    while (!churn_stop) {
        for (volatile int k = 0; k < 300; k++)
            ;
        churn_work[id]++;
        uthread_yield();
    }
    return arg;
}

static int churn(void)
{
    if (uthread_init(UTHREAD_SA, 1))
        return 1;
    uthread_t t[3];
    for (long i = 0; i < 3; i++)
        uthread_create(&t[i], churn_worker, (void *)i, 0);
    for (int i = 0; i < 40; i++) {
        uthread_setconcurrency(1 + (i * 7) % 4);
        uthread_sleep_us(20);
    }
    churn_stop = 1;
    int ok = 1;
    for (long i = 0; i < 3; i++) {
        void *r = 0;
        ok &= uthread_join(t[i], &r) == 0 && r == (void *)i && churn_work[i] > 0;
    }
    return !ok;
}

static int sastress(int nvps, int with_churn, int tick_us)
{
    pid_t other = -1;
    if (with_churn && (other = fork()) == 0)
        exit(churn());
    check(uthread_init(UTHREAD_SA, nvps) == 0, "sa_init", "uthread_init(UTHREAD_SA) failed");
    if (tick_us)
        check(uthread_preempt(tick_us) == 0, "sa_preempt", "uthread_preempt failed");
    uthread_t t[SA_THREADS];
    for (long i = 0; i < SA_THREADS; i++)
        check(uthread_create(&t[i], sa_worker, (void *)i, 0) == 0, "sa_create", "create failed");
    int joined = 0;
    for (long i = 0; i < SA_THREADS; i++) {
        void *r = 0;
        joined += uthread_join(t[i], &r) == 0 && r == (void *)i;
    }
    check(joined == SA_THREADS, "sa_join", "a thread was lost");
    check(sa_counter == SA_THREADS * SA_ITERS, "sa_counter", "an update was lost or made twice");
    int all = 1;
    for (int i = 0; i < SA_THREADS; i++)
        all &= sa_done[i] == SA_ITERS;
    check(all, "sa_iterations", "a thread did not run each iteration exactly once");
    check(!sa_twice, "sa_once", "a thread ran on two vps at once");
    if (with_churn) {
        int st = -1;
        check(waitpid(other, &st, 0) == other && WIFEXITED(st) && WEXITSTATUS(st) == 0, "sa_churn",
              "the other SA process lost a thread or failed");
    }
    struct uthread_stats st;
    uthread_stats(&st);
    if (tick_us)
        uthread_preempt(0);
    printf("counter %ld critical %ld switches %ld vps %d preemptions %ld\n", sa_counter, st.deferred,
           st.switches, st.nlwps, st.preemptions);
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

static int stress(int model, int nlwps)
{
    uthread_init(model, nlwps);
    uthread_preempt(30);
    uthread_t t[8];
    for (long i = 0; i < 6; i++)
        uthread_create(&t[i], stress_body, (void *)i, 0);
    for (long i = 6; i < 8; i++)
        uthread_create(&t[i], bound_stress, (void *)i, UTHREAD_BOUND);
    int ok = 1;
    for (long i = 0; i < 8; i++) {
        void *r;
        ok &= uthread_join(t[i], &r) == 0 && (long)r == i;
    }
    uthread_preempt(0);
    struct uthread_stats st;
    uthread_stats(&st);
    char why[128];
    snprintf(why, sizeof why, "count %ld want %d", scount, 6 * 300 + 2 * 200);
    check(ok && scount == 6 * 300 + 2 * 200, "stress", why);
    printf("preemptions %ld deferred %ld switches %ld parks %ld\n", st.preemptions, st.deferred,
           st.switches, st.parks);
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int mn = argc > 2 && strcmp(argv[2], "mn") == 0;
    int sa = argc > 2 && strcmp(argv[2], "sa") == 0;
    if (!strcmp(mode, "api"))
        return api(mn ? UTHREAD_MN : sa ? UTHREAD_SA : UTHREAD_M1, argc > 3 ? atoi(argv[3]) : 2);
    if (!strcmp(mode, "bound"))
        return bound();
    if (!strcmp(mode, "preempt"))
        return preempt(mn ? UTHREAD_MN : sa ? UTHREAD_SA : UTHREAD_M1);
    if (!strcmp(mode, "sastress"))
        return sastress(argc > 2 ? atoi(argv[2]) : 2, argc > 3 && strstr(argv[3], "churn") != 0,
                        argc > 3 && strstr(argv[3], "tick") ? 30 : 0);
    if (!strcmp(mode, "stress"))
        return stress(argc > 3 && !strcmp(argv[3], "sa") ? UTHREAD_SA : UTHREAD_MN,
                      argc > 2 ? atoi(argv[2]) : 3);
    if (!strcmp(mode, "libc"))
        return libc_mode();
    if (!strcmp(mode, "overflow")) {
        uthread_t t;
        uthread_init(UTHREAD_M1, 1);
        uthread_create(&t, deep, 0, 0);
        uthread_join(t, 0);
        printf("not reached\n");
        return 0;
    }
    if (!strcmp(mode, "deadlock")) {
        uthread_t t;
        uthread_init(UTHREAD_M1, 1);
        uthread_create(&t, stuck, 0, 0);
        uthread_join(t, 0);
        printf("not reached\n");
        return 0;
    }
    fprintf(stderr, "usage: utest api|bound|preempt|libc|overflow|deadlock\n");
    return 2;
}
