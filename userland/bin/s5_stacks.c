/* S5: each thread has its own stack.
   s5_stacks: 4 threads print the address of a local; while they wait, main maps out each
   stack by probing pages with write() (EFAULT = not accessible, no crash): every stack is
   its own region, the regions do not overlap, and an inaccessible guard page lies below
   each one. s5_stacks overflow: then thread 2 recurses until it runs into its guard page,
   and the whole process dies by SIGSEGV (the kernel's report names the stack). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define N 4
#define PAGE 4096UL
#define VICTIM 2

static mutex_t m = MUTEX_INITIALIZER;
static cond_t cv = COND_INITIALIZER;
static int arrived, probed;
static uintptr_t local_at[N];
static int lwp[N];
static int overflow;
static int pfd[2];

static int accessible(uintptr_t page)
{
    char c;
    if (write(pfd[1], (void *)page, 1) == 1) {
        read(pfd[0], &c, 1);
        return 1;
    }
    return 0;   /* EFAULT: unmapped or the guard page */
}

#pragma clang diagnostic ignored "-Winfinite-recursion"
static long deep(long n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    if (n % 64 == 0)
        __asm__ volatile("" ::: "memory");
    return deep(n + 1) + frame[0];   /* not a tail call: every level keeps its frame */
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    volatile int local = i;
    mutex_lock(&m);
    local_at[i] = (uintptr_t)&local;
    lwp[i] = thread_self();
    arrived++;
    cond_broadcast(&cv);
    while (!probed)
        cond_wait(&cv, &m);
    mutex_unlock(&m);
    if (overflow && i == VICTIM) {
        printf("thread %d (lwp %d): recursing until it hits its guard page\n", i, lwp[i]);
        fflush(stdout);
        deep(1);
    }
    while (overflow) {   /* the others stay alive: the overflow takes them down too */
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, 0);
    }
    return (void *)(long)local;
}

int main(int argc, char **argv)
{
    overflow = argc > 1 && strcmp(argv[1], "overflow") == 0;
    if (pipe(pfd) < 0) {
        perror("S5 FAILED: pipe");
        return 1;
    }
    thread_t t[N];
    for (int i = 0; i < N; i++)
        if (thread_create(&t[i], worker, (void *)(long)i)) {
            printf("S5 FAILED: thread_create\n");
            return 1;
        }
    mutex_lock(&m);
    while (arrived < N)
        cond_wait(&cv, &m);
    mutex_unlock(&m);

    uintptr_t lo[N], hi[N];
    int ok = 1;
    volatile int mine = 0;
    printf("main     (lwp %d): local at %p\n", thread_self(), (void *)&mine);
    for (int i = 0; i < N; i++) {
        uintptr_t page = local_at[i] & ~(PAGE - 1);
        lo[i] = page;
        hi[i] = page + PAGE;
        for (int k = 0; k < 4096 && accessible(lo[i] - PAGE); k++)
            lo[i] -= PAGE;
        for (int k = 0; k < 4096 && accessible(hi[i]); k++)
            hi[i] += PAGE;
        printf("thread %d (lwp %d): local at %p, stack %p-%p (%lu KiB), guard page at %p\n", i,
               lwp[i], (void *)local_at[i], (void *)lo[i], (void *)hi[i], (hi[i] - lo[i]) / 1024,
               (void *)(lo[i] - PAGE));
    }
    for (int i = 0; i < N; i++) {
        if (accessible(lo[i] - PAGE)) {
            printf("no guard page below the stack of thread %d\n", i);
            ok = 0;
        }
        for (int j = 0; j < N; j++)
            if (i != j && lo[i] < hi[j] && lo[j] < hi[i]) {
                printf("stacks of threads %d and %d overlap\n", i, j);
                ok = 0;
            }
        if ((uintptr_t)&mine >= lo[i] && (uintptr_t)&mine < hi[i]) {
            printf("main's stack is the stack of thread %d\n", i);
            ok = 0;
        }
    }
    mutex_lock(&m);
    probed = 1;
    cond_broadcast(&cv);
    mutex_unlock(&m);
    for (int i = 0; i < N; i++) {
        void *ret;
        thread_join(t[i], &ret);
        if ((long)ret != i)
            ok = 0;
    }
    if (overflow) {
        printf("S5 FAILED: thread %d overflowed its stack and the process lives on\n", VICTIM);
        return 1;
    }
    if (ok) {
        printf("S5 OK: %d threads, %d distinct stacks, no overlap, a guard page below each\n", N, N);
        return 0;
    }
    printf("S5 FAILED: see above\n");
    return 1;
}
