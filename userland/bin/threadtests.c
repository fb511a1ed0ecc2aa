/* threadtests: the 1:1 thread library (thread.h) and the thread safety of the libc.
   threadtests [NAME]: prints "test NAME: OK" or "test NAME: FAILED (reason)" per case,
   then ALL TESTS PASSED (exit 0) or SOME TESTS FAILED (exit 1).
   threadtests exitlast: main calls thread_exit first; the last thread's thread_exit must
   end the process with status 0 and flush stdout (prints "last thread: bye", no newline). */
#include <errno.h>
#include <kos.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define NT 4
static char reason[256];
#define FAIL(...) (snprintf(reason, sizeof reason, __VA_ARGS__), reason)

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, 0);
}

static int start(thread_t *t, int n, void *(*fn)(void *))
{
    for (int i = 0; i < n; i++)
        if (thread_create(&t[i], fn, (void *)(long)i))
            return -1;
    return 0;
}

static void join_all(thread_t *t, int n, void **rets)
{
    for (int i = 0; i < n; i++)
        thread_join(t[i], rets ? &rets[i] : 0);
}

/* ---- create, join, self, exit ---- */

static int ids[NT];

static void *ret_i(void *arg)
{
    ids[(long)arg] = thread_self();
    return (void *)((long)arg * 10 + 7);
}

static void deep_exit(int depth, long v)
{
    if (depth)
        deep_exit(depth - 1, v);
    thread_exit((void *)v);
}

static void *exits_deep(void *arg)
{
    deep_exit(5, (long)arg + 1000);
    return 0;
}

static const char *t_create_join(void)
{
    thread_t t[NT];
    void *r[NT];
    if (start(t, NT, ret_i))
        return FAIL("thread_create failed");
    join_all(t, NT, r);
    for (int i = 0; i < NT; i++) {
        if ((long)r[i] != i * 10 + 7)
            return FAIL("thread %d returned %ld", i, (long)r[i]);
        if (ids[i] != t[i] || ids[i] == thread_self())
            return FAIL("thread %d: self %d, created as %d", i, ids[i], t[i]);
    }
    if (thread_self() != getpid())
        return FAIL("main thread's id %d is not the pid %d", thread_self(), getpid());
    if (start(t, 1, exits_deep))
        return FAIL("thread_create failed");
    join_all(t, 1, r);
    if ((long)r[0] != 1000)
        return FAIL("thread_exit value %ld, want 1000", (long)r[0]);
    return 0;
}

static const char *t_join_errors(void)
{
    int e = thread_join(thread_self(), 0);
    if (e != EDEADLK)
        return FAIL("join self: %d, want EDEADLK", e);
    e = thread_join(99999, 0);
    if (e != ESRCH)
        return FAIL("join unknown: %d, want ESRCH", e);
    thread_t t;
    thread_create(&t, ret_i, 0);
    thread_join(t, 0);
    e = thread_join(t, 0);
    if (e != ESRCH)
        return FAIL("join twice: %d, want ESRCH", e);
    return 0;
}

static const char *t_many(void)
{
    for (int round = 0; round < 3; round++) {   /* stacks are returned at join */
        thread_t t[16];
        if (start(t, 16, ret_i))
            return FAIL("round %d: thread_create failed", round);
        join_all(t, 16, 0);
    }
    return 0;
}

/* ---- errno is per thread ---- */

static int errno_ok[NT];

static void *errno_worker(void *arg)
{
    int i = (int)(long)arg;
    errno = 100 + i;
    for (int k = 0; k < 5; k++) {
        sched_yield();
        msleep(1);
        if (errno != 100 + i)
            return 0;
    }
    if (close(-1) != -1 || errno != EBADF)
        return 0;
    errno_ok[i] = 1;
    return 0;
}

static const char *t_errno(void)
{
    thread_t t[NT];
    errno = 0;
    if (start(t, NT, errno_worker))
        return FAIL("thread_create failed");
    join_all(t, NT, 0);
    if (errno != 0)
        return FAIL("main's errno became %d", errno);
    for (int i = 0; i < NT; i++)
        if (!errno_ok[i])
            return FAIL("thread %d saw another thread's errno", i);
    return 0;
}

/* ---- mutex_t and cond_t ---- */

static mutex_t m = MUTEX_INITIALIZER;
static long counter;

static void *locked_incr(void *arg)
{
    (void)arg;
    for (int k = 0; k < 20000; k++) {
        mutex_lock(&m);
        counter++;
        mutex_unlock(&m);
    }
    return 0;
}

static const char *t_mutex(void)
{
    thread_t t[NT];
    counter = 0;
    if (start(t, NT, locked_incr))
        return FAIL("thread_create failed");
    join_all(t, NT, 0);
    if (counter != NT * 20000L)
        return FAIL("counter %ld, want %ld", counter, NT * 20000L);
    if (m.state != 0)
        return FAIL("mutex state %d after all unlocked", m.state);
    return 0;
}

#define QN 8
#define ITEMS 1000
static int queue[QN], qhead, qtail, qlen;
static cond_t notfull = COND_INITIALIZER, notempty = COND_INITIALIZER;
static long consumed_sum;
static int consumed_n;

static void *producer(void *arg)
{
    int base = (int)(long)arg * ITEMS;
    for (int k = 1; k <= ITEMS; k++) {
        mutex_lock(&m);
        while (qlen == QN)
            cond_wait(&notfull, &m);
        queue[qtail] = base + k;
        qtail = (qtail + 1) % QN;
        qlen++;
        cond_signal(&notempty);
        mutex_unlock(&m);
    }
    return 0;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        mutex_lock(&m);
        while (qlen == 0 && consumed_n < 2 * ITEMS)
            cond_wait(&notempty, &m);
        if (consumed_n == 2 * ITEMS) {
            mutex_unlock(&m);
            return 0;
        }
        consumed_sum += queue[qhead];
        qhead = (qhead + 1) % QN;
        qlen--;
        if (++consumed_n == 2 * ITEMS)
            cond_broadcast(&notempty);   /* let the other consumer see the end */
        cond_signal(&notfull);
        mutex_unlock(&m);
    }
}

static const char *t_cond_queue(void)
{
    thread_t t[4];
    if (thread_create(&t[0], producer, (void *)0L) || thread_create(&t[1], producer, (void *)1L) ||
        thread_create(&t[2], consumer, 0) || thread_create(&t[3], consumer, 0))
        return FAIL("thread_create failed");
    join_all(t, 4, 0);
    long want = 0;
    for (int p = 0; p < 2; p++)
        for (int k = 1; k <= ITEMS; k++)
            want += p * ITEMS + k;
    if (consumed_n != 2 * ITEMS || consumed_sum != want)
        return FAIL("consumed %d items summing to %ld, want %d and %ld", consumed_n,
                    consumed_sum, 2 * ITEMS, want);
    return 0;
}

static cond_t gate = COND_INITIALIZER;
static int open_gate, waiting, passed;

static void *gate_waiter(void *arg)
{
    (void)arg;
    mutex_lock(&m);
    waiting++;
    while (!open_gate)
        cond_wait(&gate, &m);
    passed++;
    mutex_unlock(&m);
    return 0;
}

static const char *t_cond_broadcast(void)
{
    thread_t t[NT];
    if (start(t, NT, gate_waiter))
        return FAIL("thread_create failed");
    for (;;) {
        mutex_lock(&m);
        int w = waiting;
        mutex_unlock(&m);
        if (w == NT)
            break;
        msleep(1);
    }
    msleep(2);   /* let them all get into cond_wait */
    mutex_lock(&m);
    open_gate = 1;
    cond_broadcast(&gate);
    mutex_unlock(&m);
    join_all(t, NT, 0);
    if (passed != NT)
        return FAIL("%d of %d waiters passed", passed, NT);
    return 0;
}

/* ---- malloc from many threads ---- */

static int malloc_ok[NT];

static void *malloc_worker(void *arg)
{
    int i = (int)(long)arg;
    unsigned seed = 12345u * (i + 1);
    char *held[32] = { 0 };
    size_t size[32] = { 0 };
    for (int k = 0; k < 1500; k++) {
        seed = seed * 1103515245u + 12345u;
        int slot = (seed >> 8) % 32;
        if (held[slot]) {
            for (size_t j = 0; j < size[slot]; j++)
                if (held[slot][j] != (char)(i * 31 + slot))
                    return 0;
            free(held[slot]);
            held[slot] = 0;
        } else {
            size[slot] = 1 + (seed >> 12) % 700;
            held[slot] = malloc(size[slot]);
            if (!held[slot])
                return 0;
            memset(held[slot], i * 31 + slot, size[slot]);
        }
    }
    for (int s = 0; s < 32; s++)
        free(held[s]);
    malloc_ok[i] = 1;
    return 0;
}

static const char *t_malloc(void)
{
    thread_t t[NT];
    if (start(t, NT, malloc_worker))
        return FAIL("thread_create failed");
    join_all(t, NT, 0);
    for (int i = 0; i < NT; i++)
        if (!malloc_ok[i])
            return FAIL("thread %d found its block overwritten or malloc failed", i);
    return 0;
}

/* ---- stdio: one call, one piece ---- */

static void *printer(void *arg)
{
    int i = (int)(long)arg;
    char fill[301];
    memset(fill, 'a' + i, 300);
    fill[300] = 0;
    for (int k = 0; k < 20; k++) {
        switch (k % 3) {
        case 0: printf("line %d %02d: %s\n", i, k, fill); break;
        case 1: {
            char buf[400];
            snprintf(buf, sizeof buf, "line %d %02d: %s", i, k, fill);
            puts(buf);
            break;
        }
        default: {
            char buf[400];
            int n = snprintf(buf, sizeof buf, "line %d %02d: %s\n", i, k, fill);
            fwrite(buf, 1, (size_t)n, stdout);
        }
        }
    }
    return 0;
}

static const char *t_stdio_lines(void)
{
    thread_t t[NT];
    fflush(stdout);
    if (start(t, NT, printer))
        return FAIL("thread_create failed");
    join_all(t, NT, 0);
    return 0;   /* the host test checks that every line came out whole */
}

/* ---- fork from a thread while the others use malloc and stdio ---- */

static volatile int stop_busy;

static void *busy(void *arg)
{
    (void)arg;
    while (!stop_busy) {
        void *p = malloc(100);
        char buf[64];
        snprintf(buf, sizeof buf, "%p", p);
        free(p);
        fflush(stdout);
    }
    return 0;
}

static void *forker(void *arg)
{
    (void)arg;
    for (int k = 0; k < 5; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p = malloc(5000);
            fprintf(stdout, "%s", "");
            fflush(stdout);
            _exit(p ? 0 : 1);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
            return (void *)1;
    }
    return 0;
}

static const char *t_fork_in_thread(void)
{
    thread_t t[3];
    void *r;
    stop_busy = 0;
    if (start(t, 2, busy) || thread_create(&t[2], forker, 0))
        return FAIL("thread_create failed");
    thread_join(t[2], &r);
    stop_busy = 1;
    join_all(t, 2, 0);
    return r ? FAIL("a child forked from a thread failed") : 0;
}

/* ---- the raw LWP calls: park/unpark, affinity ---- */

static volatile int parked_ok;

static void *parker(void *arg)
{
    (void)arg;
    if (lwp_park(-1) == 0)   /* until main unparks us */
        parked_ok = 1;
    return 0;
}

static const char *t_park(void)
{
    if (lwp_unpark(lwp_self()) != 0 || lwp_park(-1) != 0)
        return FAIL("an unpark before the park did not leave a token");
    if (lwp_park(1000000) != -1 || errno != ETIMEDOUT)
        return FAIL("park with a timeout: errno %d, want ETIMEDOUT", errno);
    thread_t t;
    if (thread_create(&t, parker, 0))
        return FAIL("thread_create failed");
    msleep(2);
    if (lwp_unpark(t) != 0)
        return FAIL("lwp_unpark: errno %d", errno);
    thread_join(t, 0);
    if (!parked_ok)
        return FAIL("the parked thread did not return 0");
    if (lwp_unpark(t) != -1 || errno != ESRCH)
        return FAIL("unpark of a joined thread: errno %d, want ESRCH", errno);
    return 0;
}

static int pinned_hart = -1, pinned_ok;

static void *pinned(void *arg)
{
    (void)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pinned_hart, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        return 0;
    cpu_set_t got;
    if (sched_getaffinity(0, sizeof got, &got) < 0 || got.__bits[0] != set.__bits[0])
        return 0;
    for (int k = 0; k < 5; k++) {
        sched_yield();
        if (sched_getcpu() != pinned_hart)
            return 0;
        msleep(1);
    }
    pinned_ok = 1;
    return 0;
}

static const char *t_affinity(void)
{
    struct kstat ks;
    kstat(&ks);
    pinned_hart = (int)ks.ncpus - 1;
    thread_t t;
    if (thread_create(&t, pinned, 0))
        return FAIL("thread_create failed");
    thread_join(t, 0);
    return pinned_ok ? 0 : FAIL("a thread pinned to hart %d ran elsewhere or the mask differs",
                                pinned_hart);
}

/* ---- exitlast mode ---- */

static void *last(void *arg)
{
    (void)arg;
    msleep(5);
    printf("last thread: bye");   /* no newline: only exit's flush shows it */
    thread_exit(0);
    return 0;
}

static const struct { const char *name; const char *(*fn)(void); } tests[] = {
    { "create_join", t_create_join },
    { "join_errors", t_join_errors },
    { "many", t_many },
    { "errno", t_errno },
    { "mutex", t_mutex },
    { "cond_queue", t_cond_queue },
    { "cond_broadcast", t_cond_broadcast },
    { "malloc", t_malloc },
    { "stdio_lines", t_stdio_lines },
    { "fork_in_thread", t_fork_in_thread },
    { "park", t_park },
    { "affinity", t_affinity },
};

/* ---- execthreads mode: execve ends every other thread ---- */

static void *spinner(void *arg)
{
    for (;;)
        ++*(volatile long *)arg;
    return 0;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        msleep(1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "execthreads") == 0) {
        static long spins;
        thread_t a, b;
        thread_create(&a, spinner, &spins);
        thread_create(&b, sleeper, 0);
        msleep(1);
        char *args[] = { "echo", "exec'd with", "1", "thread", 0 };
        execv("/bin/echo", args);
        printf("execv failed\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "exitlast") == 0) {
        thread_t t;
        thread_create(&t, last, 0);
        thread_exit(0);
    }
    int failed = 0, ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        ran++;
        const char *why = tests[i].fn();
        if (why) {
            printf("test %s: FAILED (%s)\n", tests[i].name, why);
            failed++;
        } else {
            printf("test %s: OK\n", tests[i].name);
        }
    }
    if (!ran) {
        fprintf(stderr, "threadtests: no test named %s\n", argv[1]);
        return 2;
    }
    printf(failed ? "SOME TESTS FAILED\n" : "ALL TESTS PASSED\n");
    return failed != 0;
}
