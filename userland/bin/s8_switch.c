/* S8: user-level threads live in the application; switching them is cheap and involves no
   kernel. Two user threads on one LWP pass the processor back and forth with
   uthread_yield, N switches in all, and the program counts the guest instructions the
   loop took with rdtime: virtual time, 1 instruction = 1 ns, which the emulator provides
   without entering the kernel. The loop makes no system call at all (the test checks it
   in the kernel's event log and syscall counter). Then the same loop again with
   uthread_trace(1), where each switch also makes one uevent system call, to show what
   involving the kernel costs.
     s8_switch [N] [m1|mn] [plain]   N switches (default 2000), M:1 (default) or M:N
                                     with 1 LWP; plain: skip the traced loop
   uevent markers 100 and 101 (arg N) bracket the untraced loop for tools and tests. */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uthread.h>

#define MARK_BEGIN 100
#define MARK_END 101

static long half;               /* yields per thread */
static long t0, t1;

static inline long rdtime(void)
{
    long t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static void *first(void *arg)
{
    int mark = arg != 0;
    if (mark)
        syscall(SYS_uevent, MARK_BEGIN, 2 * half);
    long n = half;
    t0 = rdtime();
    for (long i = 0; i < n; i++)
        uthread_yield();        /* to `second`, which yields straight back */
    t1 = rdtime();
    if (mark)
        syscall(SYS_uevent, MARK_END, 2 * half);
    return 0;
}

static void *second(void *arg)
{
    (void)arg;
    long n = half;
    for (long i = 0; i < n; i++)
        uthread_yield();
    return 0;
}

/* 2*half switches between two threads; returns the instructions they took. */
static long measure(int mark)
{
    uthread_t a, b;
    if (uthread_create(&a, first, (void *)(long)mark, 0) || uthread_create(&b, second, 0, 0)) {
        printf("S8 FAILED: uthread_create\n");
        exit(1);
    }
    uthread_join(a, 0);         /* main blocks: a and b now alternate, main is not queued */
    uthread_join(b, 0);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    int mn = argc > 2 && strcmp(argv[2], "mn") == 0;
    int plain_only = argc > 3 && strcmp(argv[3], "plain") == 0;
    int bad_model = argc > 2 && !mn && strcmp(argv[2], "m1") != 0;
    int bad_plain = argc > 3 && !plain_only;
    if (n < 2 || n % 2 || bad_model || bad_plain || argc > 4) {
        fprintf(stderr, "usage: s8_switch [N (even, >= 2)] [m1|mn] [plain]\n");
        return 2;
    }
    half = n / 2;
    int e = uthread_init(mn ? UTHREAD_MN : UTHREAD_M1, 1);
    if (e) {
        printf("S8 FAILED: uthread_init: %s\n", strerror(e));
        return 1;
    }
    uthread_trace(0);           /* the plain loop is untraced even under tools.run --timeline */
    measure(0);                 /* warm up: stacks faulted in, code paths taken once */
    long plain = measure(1);
    double per = (double)plain / n;
    printf("S8: 2 user threads on 1 LWP (%s), %ld switches by uthread_yield; costs: %s\n", mn ? "M:N" : "M:1",
           n, costs_profile());
    printf("  plain:  %ld instructions, %.1f per switch, no system call\n", plain, per);
    double limit = mn ? 150 : 100;      /* M:N's yield also takes the run queue's spin lock */
    if (plain_only)
        return per < limit ? 0 : 1;
    uthread_trace(1);
    long traced = measure(0);
    uthread_trace(0);
    double per_traced = (double)traced / n;
    printf("  traced: %ld instructions, %.1f per switch, with one uevent system call each\n", traced,
           per_traced);
    if (per < limit && per_traced > 2 * per) {
        printf("S8 OK: a user-level switch takes %.0f guest instructions; entering the kernel "
               "once per switch makes it %.1fx dearer\n", per, per_traced / per);
        return 0;
    }
    printf("S8 FAILED: %.1f instructions per switch (traced %.1f)\n", per, per_traced);
    return 1;
}
