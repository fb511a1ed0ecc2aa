/* Kernel-level LWP checks with raw system calls (no thread library):
   lwptest MODE  where MODE is parallel | crash | futex | overflow | park | lastexit */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

long __sys_lwp_create(void *entry, void *arg, void *stack_top, long flags);
long __sys_lwp_exit(void);
long __sys_lwp_self(void);
long __sys_lwp_park(long timeout_ns);
long __sys_lwp_unpark(long lwpid);
long __sys_lwp_wait(long lwpid);
long __sys_futex(int *uaddr, long op, long val, void *ts, void *u2, long v3);
long __sys_getcpu(unsigned *cpu, unsigned *node, void *cache);

#define STACK (64 * 1024)
static volatile long counter;
static volatile int harts_seen;
static volatile int word;

static void *stack_top(void) {
    char *s = mmap(0, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (s == MAP_FAILED) { printf("mmap failed\n"); exit(3); }
    mprotect(s, 4096, PROT_NONE);              /* the guard page */
    return s + STACK;
}

static void worker(void *arg) {
    for (long i = 0; i < 200000; i++)
        __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    unsigned cpu = 0;
    __sys_getcpu(&cpu, 0, 0);
    __atomic_fetch_or(&harts_seen, 1 << cpu, __ATOMIC_SEQ_CST);
    (void)arg;
    __sys_lwp_exit();
}

static void crasher(void *arg) {
    for (volatile long i = 0; i < 100000; i++)
        ;
    if (arg)
        *(volatile int *)0x18 = 1;
    for (;;)
        ;
}

static void waker(void *arg) {
    (void)arg;
    for (volatile long i = 0; i < 50000; i++)
        ;
    word = 1;
    __sys_futex((int *)&word, 1 | 128, 1, 0, 0, 0);
    __sys_lwp_exit();
}

static long deep(long n) {
    volatile char pad[512];
    pad[n % 512] = (char)n;
    return deep(n + 1) + pad[0];
}

static void overflow(void *arg) {
    (void)arg;
    deep(0);
}

static volatile int parker_done;
static void parker(void *arg) {
    long r = __sys_lwp_park(-1);
    parker_done = (int)(r == 0);
    (void)arg;
    __sys_lwp_exit();
}

static void ender(void *arg) {
    (void)arg;
    for (volatile long i = 0; i < 100000; i++)
        ;
    printf("last lwp exits\n");
    fflush(stdout);
    __sys_lwp_exit();
}

/* clone(flags, stack, ptid, tls, ctid) as musl's __clone: the child calls fn(arg) on the
   new stack and exits with exit(93) (this LWP only). */
long raw_clone(long flags, void *stack, int *ptid, void *tls, int *ctid, void (*fn)(void *), void *arg);
__asm__(".globl raw_clone\n"
        "raw_clone:\n"
        "  addi a1, a1, -16\n"
        "  sd a5, 0(a1)\n"           /* fn and arg onto the child's stack */
        "  sd a6, 8(a1)\n"
        "  li a7, 220\n"
        "  ecall\n"
        "  beqz a0, 1f\n"
        "  ret\n"
        "1: ld a1, 0(sp)\n"
        "  ld a0, 8(sp)\n"
        "  jalr a1\n"
        "  li a0, 0\n"
        "  li a7, 93\n"
        "  ecall\n");
static volatile int ctid_word = -1, ptid_word, clone_ran;
static void clone_child(void *arg) {
    long tp;
    __asm__ volatile("mv %0, tp" : "=r"(tp));
    clone_ran = (arg == (void *)42) + (tp == 0x7777);
}

static void spinner(void *arg) {
    (void)arg;
    for (;;)
        ;
}

static volatile unsigned where[3];
static void reporter(void *arg) {
    for (;;) {
        unsigned cpu;
        __sys_getcpu(&cpu, 0, 0);
        where[(long)arg] = cpu;
    }
}

long __sys_sched_setaffinity(long tid, long size, const unsigned long *mask);
long __sys_sched_getaffinity(long tid, long size, unsigned long *mask);
long __sys_sched_yield(void);
long __sys_exit_group(long status);

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "parallel";
    long ids[4];
    if (!strcmp(mode, "parallel")) {
        for (int i = 0; i < 4; i++)
            ids[i] = __sys_lwp_create(worker, 0, stack_top(), 0);
        for (int i = 0; i < 4; i++)
            if (__sys_lwp_wait(ids[i]) != ids[i]) { printf("lwp_wait failed\n"); return 1; }
        printf("counter %ld harts %x self %ld pid %d\n", counter, harts_seen, __sys_lwp_self(), getpid());
        printf("wait again %ld\n", __sys_lwp_wait(ids[0]));
        return counter == 800000 ? 0 : 1;
    }
    if (!strcmp(mode, "crash")) {
        for (int i = 0; i < 4; i++)
            ids[i] = __sys_lwp_create(crasher, (void *)(long)(i == 2), stack_top(), 0);
        for (;;)
            ;
    }
    if (!strcmp(mode, "futex")) {
        long busy = __sys_futex((int *)&word, 0 | 128, 7, 0, 0, 0);   /* word is 0: EAGAIN */
        __sys_lwp_create(waker, 0, stack_top(), 0);
        long r = __sys_futex((int *)&word, 0 | 128, 0, 0, 0, 0);
        long ts[2] = {0, 1000000};
        long t = __sys_futex((int *)&word, 0 | 128, 1, ts, 0, 0);    /* times out */
        printf("futex busy %ld wait %ld word %d timeout %ld\n", busy, r, word, t);
        return 0;
    }
    if (!strcmp(mode, "overflow")) {
        __sys_lwp_create(overflow, 0, stack_top(), 0);
        for (;;)
            ;
    }
    if (!strcmp(mode, "park")) {
        long me = __sys_lwp_self();
        long r1 = __sys_lwp_unpark(me);             /* token first ... */
        long r2 = __sys_lwp_park(-1);               /* ... so this returns at once */
        long r3 = __sys_lwp_park(1000000);          /* no token: times out */
        long id = __sys_lwp_create(parker, 0, stack_top(), 0);
        for (volatile long i = 0; i < 100000; i++)
            ;
        __sys_lwp_unpark(id);
        __sys_lwp_wait(id);
        printf("park %ld %ld %ld parker %d bad %ld\n", r1, r2, r3, parker_done, __sys_lwp_unpark(99999));
        return 0;
    }
    if (!strcmp(mode, "clone")) {
        long flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000;
        long tid = raw_clone(flags, stack_top(), (int *)&ptid_word, (void *)0x7777, (int *)&ctid_word,
                             clone_child, (void *)42);
        while (ctid_word != 0)              /* CLONE_CHILD_CLEARTID: zeroed and woken at exit */
            __sys_futex((int *)&ctid_word, 0, ctid_word, 0, 0, 0);
        printf("clone tid %d ptid %d ran %d\n", tid > getpid(), ptid_word == tid, clone_ran);
        return 0;
    }
    if (!strcmp(mode, "affinity")) {
        unsigned long mask = 1UL << 2, got = 0;
        __sys_sched_setaffinity(0, 8, &mask);
        __sys_sched_yield();
        unsigned cpu = 9;
        __sys_getcpu(&cpu, 0, 0);
        long n = __sys_sched_getaffinity(0, 8, &got);
        mask = 0;
        long bad = __sys_sched_setaffinity(0, 8, &mask);
        printf("affinity cpu %u mask %lx size %ld empty %ld\n", cpu, got, n, bad);
        return 0;
    }
    if (!strcmp(mode, "move")) {               /* pin other LWPs, queued or running, to hart 1 */
        long ids[3];
        for (long i = 0; i < 3; i++)
            ids[i] = __sys_lwp_create(reporter, (void *)i, stack_top(), 0);
        for (volatile long i = 0; i < 50000; i++)
            ;
        unsigned long mask = 1UL << 1;
        for (int i = 0; i < 3; i++)
            __sys_sched_setaffinity(ids[i], 8, &mask);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, 0);
        where[0] = where[1] = where[2] = 9;
        nanosleep(&ts, 0);
        printf("moved %u %u %u\n", where[0], where[1], where[2]);
        fflush(stdout);
        __sys_exit_group(0);
    }
    if (!strcmp(mode, "exitgroup")) {
        for (int i = 0; i < 3; i++)
            __sys_lwp_create(spinner, 0, stack_top(), 0);
        for (volatile long i = 0; i < 200000; i++)
            ;
        __sys_exit_group(3);
    }
    if (!strcmp(mode, "lastexit")) {
        __sys_lwp_create(ender, 0, stack_top(), 0);
        __sys_lwp_exit();
    }
    return 2;
}
