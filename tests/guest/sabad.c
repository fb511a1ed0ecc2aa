/* sabad MODE: scheduler activations misused (tests/test_sa.py). Each mode runs in a child;
   the kernel must answer with an errno or kill the process with a signal, nothing worse.
     args      every bad argument of sa_register/sa_stacks/sa_enable/sa_setconcurrency/
               sa_yield/sa_preempt: prints "ok NAME" or "FAIL NAME got N", exits 0 if all ok
     returns   an upcall handler that returns (there is nowhere to return to): SIGSEGV
     nostack   one upcall stack, used by NEWPROC and never given back; then a blocking
               call needs another for BLOCKED: SIGSEGV
     unmapped  the only upcall stack is unmapped before sa_enable: SIGSEGV
     exitwrite FILE  not misuse: exits with activations on and a written file open, so
               exit's close sleeps for the disk after the process left the allocation */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

struct sa_t { void *ctx; int id; int cpu; };
long __sys_sa_register(void *upcall, long flags, long crit_off);
long __sys_sa_stacks(long n, void *stacks);
long __sys_sa_enable(void);
long __sys_sa_setconcurrency(long n);
long __sys_sa_yield(void);
long __sys_sa_preempt(long id);

#define CTX 960                            /* a ucontext as in a signal frame */
static char stack_mem[2][16384] __attribute__((aligned(16)));
static const int readonly_word = 1;
static int fails;

static void expect(const char *name, long got, long want)
{
    if (got == want)
        printf("ok %s\n", name);
    else {
        printf("FAIL %s got %ld want %ld\n", name, got, want);
        fails++;
    }
}

/* Resume a saved context through rt_sigreturn (as s13_upcalls does). */
static void resume(void *ctx)
{
    static char frame[128 + CTX] __attribute__((aligned(16)));
    memcpy(frame + 128, ctx, CTX);
    __asm__ volatile("mv sp, %0\n li a7, 139\n ecall" : : "r"(frame) : "memory");
    for (;;)
        ;
}

/* Resume the first context an upcall carries; a vp with none idles. */
static void upcall(int type, struct sa_t **sas, int events, int interrupted, void *arg)
{
    (void)type, (void)arg;
    for (int i = 0; i < events + interrupted; i++)
        if (sas[i]->ctx)
            resume(sas[i]->ctx);
    for (;;)
        __sys_sa_yield();
}

static void returning_upcall(int type, struct sa_t **sas, int events, int interrupted, void *arg)
{
    (void)type, (void)sas, (void)events, (void)interrupted, (void)arg;
}

static long stack_list(long (*ss)[3], int n, char *base, long size)
{
    for (int i = 0; i < n; i++) {
        ss[i][0] = (long)(base + i * size);
        ss[i][1] = 0;
        ss[i][2] = size;
    }
    return n;
}

static int args(void)
{
    long ss[2][3];
    stack_list(ss, 2, stack_mem[0], sizeof stack_mem[0]);
    expect("stacks_before_register", __sys_sa_stacks(2, ss), -EINVAL);
    expect("enable_before_register", __sys_sa_enable(), -EINVAL);
    expect("setconcurrency_before_enable", __sys_sa_setconcurrency(2), -EINVAL);
    expect("yield_before_enable", __sys_sa_yield(), -EINVAL);
    expect("preempt_before_register", __sys_sa_preempt(1), -EINVAL);
    expect("register_data_address", __sys_sa_register((void *)&fails, 0, -1), -EINVAL);
    expect("register_unmapped", __sys_sa_register((void *)0x10, 0, -1), -EINVAL);
    expect("register_flags", __sys_sa_register(upcall, 1, -1), -EINVAL);
    expect("register_crit_off_unaligned", __sys_sa_register(upcall, 0, 3), -EINVAL);
    expect("register", __sys_sa_register(upcall, 0, -1), 0);
    expect("enable_without_stacks", __sys_sa_enable(), -EINVAL);
    expect("stacks_zero", __sys_sa_stacks(0, ss), -EINVAL);
    expect("stacks_too_many", __sys_sa_stacks(1000, ss), -EINVAL);
    expect("stacks_bad_pointer", __sys_sa_stacks(1, (void *)0x10), -EFAULT);
    long small[1][3] = { { (long)stack_mem[0], 0, 1024 } };
    expect("stacks_too_small", __sys_sa_stacks(1, small), -EINVAL);
    long odd[1][3] = { { (long)stack_mem[0] + 8, 0, 8192 } };
    expect("stacks_misaligned", __sys_sa_stacks(1, odd), -EINVAL);
    long ro[1][3] = { { (long)&readonly_word & ~4095L, 0, 4096 } };
    expect("stacks_read_only", __sys_sa_stacks(1, ro), -EFAULT);
    expect("stacks", __sys_sa_stacks(2, ss), 2);
    expect("enable", __sys_sa_enable(), 0);              /* back here through NEWPROC */
    expect("enable_twice", __sys_sa_enable(), -EINVAL);
    expect("setconcurrency_zero", __sys_sa_setconcurrency(0), -EINVAL);
    expect("preempt_unknown_id", __sys_sa_preempt(12345), -ESRCH);
    printf(fails ? "SOME FAILED\n" : "ALL OK\n");
    return fails != 0;
}

static void enable_with(void *handler, int nstacks, char *base, long size)
{
    long ss[2][3];
    stack_list(ss, nstacks, base, size);
    __sys_sa_register(handler, 0, -1);
    __sys_sa_stacks(nstacks, ss);
    __sys_sa_enable();
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "args"))
        return args();
    if (!strcmp(mode, "returns")) {
        enable_with(returning_upcall, 1, stack_mem[0], sizeof stack_mem[0]);
        printf("not reached\n");
        return 0;
    }
    if (!strcmp(mode, "nostack")) {
        enable_with(upcall, 1, stack_mem[0], sizeof stack_mem[0]);
        printf("enabled\n");
        fflush(stdout);
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, 0);                               /* BLOCKED needs a stack */
        printf("not reached\n");
        return 0;
    }
    if (!strcmp(mode, "unmapped")) {
        char *m = mmap(0, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        long ss[1][3] = { { (long)m, 0, 16384 } };
        __sys_sa_register(upcall, 0, -1);
        __sys_sa_stacks(1, ss);
        munmap(m, 16384);
        __sys_sa_enable();
        printf("not reached\n");
        return 0;
    }
    if (!strcmp(mode, "exitwrite") && argc > 2) {
        uthread_init(UTHREAD_SA, 2);            /* the library: disk reads block (upcalls) */
        int fd = open(argv[2], O_CREAT | O_WRONLY | O_TRUNC, 0644);
        write(fd, "written under SA\n", 17);
        _exit(fd < 0);
    }
    fprintf(stderr, "usage: sabad args|returns|nostack|unmapped|exitwrite FILE\n");
    return 2;
}
