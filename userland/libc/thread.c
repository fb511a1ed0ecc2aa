/* The 1:1 thread library (thread.h) over the kernel's LWP calls and futex (docs/abi.md).

   Each thread gets one mmap(MAP_STACK) region whose lowest page is made a PROT_NONE guard
   page (as musl and glibc do), the thread's control block (struct tcb) sits at the top and the stack grows down
   from just below it. The tp register points at the control block; the kernel starts
   every LWP with tp = 0, so the start trampoline sets it, and tp = 0 means "the main
   thread", whose control block is a static. errno lives in the control block.

   mutex_t is the three-state futex mutex of Drepper's "Futexes Are Tricky" (0 unlocked,
   1 locked, 2 locked with possible waiters): uncontended lock and unlock are one atomic
   instruction each and make no system call. cond_t is a sequence counter: a waiter reads
   it, drops the mutex and sleeps in FUTEX_WAIT only while the counter is unchanged, so a
   signal between the unlock and the sleep is never lost. */
#include <errno.h>
#include <kos.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

#define PAGE 4096
#define STACK_SIZE (64 * 1024)   /* usable stack per thread, below the control block */

struct tcb {                     /* uthread's control block starts the same (uthread/core.c): self, err */
    struct tcb *self;
    int err;                     /* this thread's errno */
    int lwpid;                   /* 0 until lwp_create has returned */
    void *(*fn)(void *);
    void *arg;
    void *ret;                   /* thread_exit's value, for thread_join */
    void *map;                   /* the stack mapping (guard page included) */
    size_t maplen;
    struct tcb *next;            /* all thread_create'd threads not yet joined */
};

static struct tcb main_tcb = { .self = &main_tcb };
static struct tcb *threads;      /* under threads_lock */
static volatile int threads_lock;
static volatile int live = 1;    /* threads of this process not yet in thread_exit */

static inline struct tcb *self(void)
{
    struct tcb *t;
    __asm__("mv %0, tp" : "=r"(t));
    return t ? t : &main_tcb;
}

int *__errno_location(void) { return &self()->err; }
void *__thread_self(void) { return self(); }

/* ---- futex locks ---- */

static long futex_wait(volatile int *p, int val)
{
    return __sys_futex(p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, 0, 0, 0);
}

static long futex_wake(volatile int *p, int n)
{
    return __sys_futex(p, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, 0, 0, 0);
}

static inline int cas(volatile int *p, int old, int new)
{
    __atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    return old;
}

static inline int xchg(volatile int *p, int v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_ACQUIRE);
}

/* Take a lock we already know is contended: mark it 2 so the holder's unlock wakes us. */
static void lock_slow(volatile int *l, int c)
{
    if (c != 2)
        c = xchg(l, 2);
    while (c != 0) {
        futex_wait(l, 2);          /* returns at once (EAGAIN) if no longer 2 */
        c = xchg(l, 2);
    }
}

/* How many __lock'ed locks are held (or being taken) in the process now. The green-thread
   library's timer handler (uthread.c) does not switch user threads while any is: the
   thread it switched to could wait for ever on a lock whose holder cannot run on the same
   LWP. So it counts up before a lock is taken and down after it is released. */
volatile int __libc_locks_held;

void __lock(volatile int *l)
{
    __atomic_fetch_add(&__libc_locks_held, 1, __ATOMIC_ACQ_REL);
    int c = cas(l, 0, 1);
    if (c != 0)
        lock_slow(l, c);
}

int __trylock(volatile int *l)
{
    __atomic_fetch_add(&__libc_locks_held, 1, __ATOMIC_ACQ_REL);
    if (cas(l, 0, 1) == 0)
        return 1;
    __atomic_fetch_sub(&__libc_locks_held, 1, __ATOMIC_RELEASE);
    return 0;
}

void __unlock(volatile int *l)
{
    if (__atomic_fetch_sub(l, 1, __ATOMIC_RELEASE) != 1) {   /* was 2: someone may sleep */
        __atomic_store_n(l, 0, __ATOMIC_RELEASE);
        futex_wake(l, 1);
    }
    __atomic_fetch_sub(&__libc_locks_held, 1, __ATOMIC_RELEASE);
}

void mutex_lock(mutex_t *m) { __lock(&m->state); }
void mutex_unlock(mutex_t *m) { __unlock(&m->state); }

void cond_wait(cond_t *c, mutex_t *m)
{
    int seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    mutex_unlock(m);
    futex_wait(&c->seq, seq);     /* a wake, a changed seq (EAGAIN) or a signal: all return */
    __atomic_fetch_add(&__libc_locks_held, 1, __ATOMIC_ACQ_REL);
    lock_slow(&m->state, -1);     /* others may sleep on m too: relock in state 2 */
}

void cond_signal(cond_t *c)
{
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
    futex_wake(&c->seq, 1);
}

void cond_broadcast(cond_t *c)
{
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
    futex_wake(&c->seq, INT_MAX);
}

/* ---- threads ---- */

/* Where every new LWP starts: a0 = its control block, tp = 0, gp = 0 (kernel). Its call
   frame information says it has no return address (.cfi_undefined ra), as Linux's clone
   does for a new thread: debuggers end a thread's backtrace here. */
__asm__(
    "    .section .text.__thread_start, \"ax\"\n"
    "    .p2align 2\n"
    "    .type __thread_start, @function\n"
    "__thread_start:\n"
    "    .cfi_startproc\n"
    "    .cfi_undefined ra\n"
    "    .option push\n"
    "    .option norelax\n"
    "    lla gp, __global_pointer$\n"
    "    .option pop\n"
    "    mv tp, a0\n"
    "    call __thread_main\n"
    "    unimp\n"
    "    .cfi_endproc\n"
    "    .size __thread_start, .-__thread_start\n"
    "    .text\n");
void __thread_start(void *tcb);

_Noreturn void __thread_main(struct tcb *t)
{
    thread_exit(t->fn(t->arg));
    __builtin_unreachable();
}

int thread_create(thread_t *t, void *(*fn)(void *), void *arg)
{
    size_t len = STACK_SIZE + PAGE;   /* + the guard page */
    long m = __sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m < 0 && m >= -4095)
        return m == -ENOMEM ? EAGAIN : (int)-m;
    __sys_mprotect((void *)m, PAGE, PROT_NONE);
    struct tcb *c = (struct tcb *)(((uintptr_t)m + len - sizeof(struct tcb)) & ~(uintptr_t)15);
    memset(c, 0, sizeof *c);
    c->self = c;
    c->fn = fn;
    c->arg = arg;
    c->map = (void *)m;
    c->maplen = len;
    __lock(&threads_lock);
    c->next = threads;
    threads = c;
    __unlock(&threads_lock);
    __atomic_fetch_add(&live, 1, __ATOMIC_RELAXED);
    long r = __sys_lwp_create(__thread_start, c, c, 0);   /* stack grows down from c */
    if (r < 0) {
        __atomic_fetch_sub(&live, 1, __ATOMIC_RELAXED);
        __lock(&threads_lock);
        for (struct tcb **pp = &threads; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        __unlock(&threads_lock);
        __sys_munmap((void *)m, len);
        return (int)-r;
    }
    c->lwpid = (int)r;
    *t = (thread_t)r;
    return 0;
}

int thread_join(thread_t t, void **ret)
{
    if (t <= 0)
        return ESRCH;               /* lwp_wait(0) would mean "any" */
    struct tcb *c = 0;   /* found before the wait: after it, the lwpid may be reused */
    __lock(&threads_lock);
    for (c = threads; c && c->lwpid != t; c = c->next)
        ;
    __unlock(&threads_lock);
    long r;
    do
        r = __sys_lwp_wait(t);
    while (r == -EINTR);
    if (r < 0)
        return (int)-r;
    if (c) {
        __lock(&threads_lock);
        for (struct tcb **pp = &threads; *pp; pp = &(*pp)->next)
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        __unlock(&threads_lock);
    }
    if (c) {
        if (ret)
            *ret = c->ret;
        __sys_munmap(c->map, c->maplen);   /* it has exited: nobody runs on it now */
    } else if (ret) {
        *ret = t == __sys_getpid() ? main_tcb.ret : 0;
    }
    return 0;
}

void thread_exit(void *ret)
{
    struct tcb *c = self();
    c->ret = ret;
    if (__atomic_sub_fetch(&live, 1, __ATOMIC_ACQ_REL) == 0)
        exit(0);                    /* the last thread: flush stdio, run atexit, like pthreads */
    for (;;)
        __sys_lwp_exit();
}

thread_t thread_self(void)
{
    return (thread_t)__sys_lwp_self();
}

/* ---- fork: hold every libc lock across clone (called from fork in unistd.c) ---- */

void __fork_prepare(void)
{
    __lock(&threads_lock);
    __stdio_lock_all();
    __malloc_lock();
}

void __fork_parent(void)
{
    __malloc_unlock();
    __stdio_unlock_all();
    __unlock(&threads_lock);
}

/* The child has one LWP, the caller. The other threads' stacks stay mapped (as on Linux:
   fork copies the whole address space), but they are no threads of the child. */
void __fork_child(void)
{
    __malloc_unlock();
    __stdio_unlock_all();
    struct tcb *me = self(), *c;
    for (c = threads; c && c != me; c = c->next)
        ;
    if (c)
        c->next = 0;
    threads = c;
    live = 1;
    __unlock(&threads_lock);
}

/* ---- the raw LWP calls, -1 and errno on failure (kos.h) ---- */

int lwp_create(void (*entry)(void *), void *arg, void *stack_top, int flags)
{
    return (int)__syscall_ret(__sys_lwp_create(entry, arg, stack_top, flags));
}

_Noreturn void lwp_exit(void)
{
    for (;;)
        __sys_lwp_exit();
}

int lwp_self(void) { return (int)__sys_lwp_self(); }
int lwp_park(long timeout_ns) { return (int)__syscall_ret(__sys_lwp_park(timeout_ns)); }
int lwp_unpark(int lwpid) { return (int)__syscall_ret(__sys_lwp_unpark(lwpid)); }
int lwp_wait(int lwpid) { return (int)__syscall_ret(__sys_lwp_wait(lwpid)); }
int lwpinfo(struct lwpinfo *buf, int n) { return (int)__syscall_ret(__sys_lwpinfo(buf, n)); }
// LAB syscall BEGIN: the libc function: the raw call, -1 and errno on failure
int lwpcount(int pid) { return (int)__syscall_ret(__sys_lwpcount(pid)); }
// LAB syscall END
int hostclock(struct timespec *ts) { return (int)__syscall_ret(__sys_hostclock(ts)); }

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    return (int)__syscall_ret(__sys_sched_setaffinity(pid, size, set));
}

/* The kernel returns how many bytes it wrote (Linux); the rest of the set is cleared. */
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    long r = __sys_sched_getaffinity(pid, size, set);
    if (r < 0)
        return (int)__syscall_ret(r);
    if ((size_t)r < size)
        memset((char *)set + r, 0, size - (size_t)r);
    return 0;
}
