/* uthread/core.c: the common core of every model: the control block and the library's
   state, the running thread, the library lock, queues, and switching between threads.
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>
#include "internal.h"

long __sys_setitimer(long which, const long *nv, long *ov);
long __sys_uevent(long code, long arg);
extern volatile int __libc_locks_held __attribute__((weak));   /* thread.c */

#define PAGE 4096
#define STACK_SIZE (64 * 1024)    /* usable stack of a user thread, below its control block */
#define IDLE_STACK (16 * 1024)    /* stack of a vp's idle loop */
#define SPIN_TRIES 100            /* library lock: looks before sched_yield */
#define MUTEX_SPIN 50             /* M:N umutex: tries before blocking */
#define PARK_SPIN 50              /* bound thread: looks at its state before lwp_park */
#define STACK_CACHE 16            /* joined threads' stacks kept for reuse */
#define LWP_DETACHED 1
#define ITIMER_VIRTUAL 1

enum { RUNNING = 1, RUNNABLE, BLOCKED, ZOMBIE };
enum { T_BOUND = UTHREAD_BOUND, T_IDLE = 2 };     /* struct uthread.flags */

struct uctx {                     /* what __uswitch saves: callee-saved registers only */
    long ra, sp, s[12];
    double fs[12];
};

struct mctx {                     /* a ucontext's mcontext (SA): pc, x1..x31, f0..f31, fcsr */
    long x[32];                   /* x[0] = pc */
    double f[32];
    unsigned fcsr;
    int np;                       /* the resumed thread's nopreempt (__usa_load sets it) */
};
_Static_assert(offsetof(struct mctx, np) == 516, "uswitch.S: MC_NP");

struct uthread {
    struct uthread *self;         /* 0: like thread.c's control block: tp->self ... */
    int err;                      /* 8: ... and errno (__errno_location is &tp->err) */
    int id;                       /* 12: 0 main, 1.. others, -1 idle threads */
    struct uctx ctx;              /* 16: saved by __uswitch (offsets in uswitch.S) */
    volatile int state;           /* RUNNING, RUNNABLE, BLOCKED, ZOMBIE */
    int flags;                    /* T_BOUND, T_IDLE */
    volatile int nopreempt;       /* inside the library: the timer handler keeps out */
    volatile int lwpid;           /* bound: its own LWP */
    struct vp *vp;                /* unbound: the vp it runs on now, or ran on last */
    struct uthread *next;         /* link in the run queue or in one wait queue */
    struct uthread *all_next;     /* link in the list of threads not yet joined */
    struct uthread *joiner;       /* blocked in uthread_join on us */
    void *(*fn)(void *);
    void *arg, *ret;
    void *map;                    /* the stack mapping (guard page included), 0 for main */
    size_t maplen;
    int has_mc;                   /* SA: resume from mc (all registers), not from ctx */
    struct mctx mc;               /* SA: the context an upcall handed back */
    volatile int spinning;        /* waiting for the library lock, not holding it (spin_wait) */
};
_Static_assert(offsetof(struct uthread, err) == 8, "errno must be at tp + 8 (thread.c)");
_Static_assert(offsetof(struct uthread, ctx) == 16, "uswitch.S: CTX");
_Static_assert(offsetof(struct uthread, ctx.s) == 32, "uswitch.S: S(0)");
_Static_assert(offsetof(struct uthread, ctx.fs) == 128, "uswitch.S: FS(0)");
_Static_assert(offsetof(struct uthread, nopreempt) == 232, "uswitch.S: NOPREEMPT");

struct vp {                       /* a virtual processor: one LWP of the library */
    struct uthread idle;          /* first: the idle thread's tp is the vp itself */
    volatile int lwpid;
    volatile int on_idle;         /* on the idle list (parked, or about to park) */
    int retire;                   /* uthread_setconcurrency shrank the pool: exit when idle */
    int blocked;                  /* in a blocking call (uthread_block_begin) */
    struct vp *idle_next;
    struct vp *all_next;
};

void __uswitch(struct uthread *from, struct uthread *to, volatile int *lock);
void __uthread_trampoline(void);
void __uthread_lwp_start(void *);
void __uswitch_mc(struct uthread *from, struct uthread *to, volatile int *lock, struct mctx *mc);
_Noreturn void __usa_load(struct mctx *mc);
void __uswitch_idle(struct uthread *from, volatile int *lock, struct uthread *idle);
void __usa_upcall(void);
_Noreturn void __usa_idle(void);
extern char __usa_load_body[], __usa_load_jr[], __usa_load_end[], __usa_idle_end[], __uswitch_mc_tail[],
            __uswitch_mc_end[], __usa_tick_end[];
void __usa_tick(int sig, siginfo_t *si, void *uc);
void __uthread_on_tick(int sig);
long __sys_sa_register(void *upcall, long flags, long crit_off);
long __sys_sa_stacks(long n, void *stacks);
long __sys_sa_enable(void);
long __sys_sa_setconcurrency(long n);
static void sa_drain(void);

static int model;                 /* 0 until uthread_init */
static volatile int sched_lock;   /* M:N: the library lock */
static struct uthread_q runq;     /* runnable unbound threads, FIFO */
static struct uthread main_thread;
static struct vp vp0;             /* the process's first LWP */
static struct vp *idle_vps;       /* vps parked in vp_loop */
static struct vp *all_vps;
static int npool = 1, nblocked;   /* vps in the pool; how many are in a blocking call */
static struct uthread *all_threads;
static struct uthread *stack_cache;        /* stacks of joined threads, for reuse */
static int ncached;
static int next_id = 1, nlive = 1;
int __uthread_trace;             /* 1: a uevent call per switch (uthread_trace; the kernel at exec) */
static int spin_ok;               /* more than one hart allowed: spinning can pay off */
static int fast_yield;            /* model == M1 && !__uthread_trace: uthread_yield's short path */
static struct uthread_stats stats;

/* ---- the running thread, the library lock, queues ---- */

static inline struct uthread *cur(void)
{
    struct uthread *t;
    __asm__("mv %0, tp" : "=r"(t));
    return t;
}

/* The lock was busy. me->spinning is set only between a failed exchange and the next try:
   an SA handler that finds this thread's context critical knows it holds no lock. */
static __attribute__((noinline)) void spin_wait(volatile int *l)
{
    struct uthread *me = cur();
    do {
        me->spinning = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        int n = 0;
        while (__atomic_load_n(l, __ATOMIC_RELAXED))
            if (++n == SPIN_TRIES) {            /* its holder may be descheduled: let it run */
                __sys_sched_yield();
                n = 0;
            }
        me->spinning = 0;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE));
}

static inline void spin_lock(volatile int *l)
{
    if (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        spin_wait(l);
}

static inline void lib_lock(struct uthread *me)
{
    me->nopreempt = 1;                      /* first: from here on no switch by the timer */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (model == UTHREAD_MN || model == UTHREAD_SA)
        spin_lock(&sched_lock);
    if (model == UTHREAD_SA)
        sa_drain();
}

static inline void lib_unlock(struct uthread *me)
{
    if (model == UTHREAD_SA)
        sa_drain();
    if (model == UTHREAD_MN || model == UTHREAD_SA)
        __atomic_store_n(&sched_lock, 0, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    me->nopreempt = 0;
}

static inline void q_push(struct uthread_q *q, struct uthread *t)
{
    t->next = 0;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

static inline struct uthread *q_pop(struct uthread_q *q)
{
    struct uthread *t = q->head;
    if (t && !(q->head = t->next))
        q->tail = 0;
    return t;
}

static inline void stat_add(long *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static _Noreturn void deadlock(void)
{
    static const char msg[] = "uthread: deadlock: every user thread is blocked\n";
    __sys_write(2, msg, sizeof msg - 1);
    abort();
}

/* ---- switching (all with the library lock held) ---- */

static struct uthread sa_idle_thread;        /* SA: what a vp with nothing to run "runs" */

/* Run next on me's vp (lock held). Returns when someone switches back to me: the lock is
   free then and me->nopreempt clear, both done by that switcher's __uswitch. */
static void switch_to(struct uthread *me, struct uthread *next)
{
    next->vp = me->vp;
    next->state = RUNNING;
    stats.switches++;
    if (__uthread_trace)
        __sys_uevent(UTHREAD_EV_SWITCH, next->id);
    if (next->has_mc) {                      /* SA: a context an upcall handed back */
        next->has_mc = 0;
        __uswitch_mc(me, next, &sched_lock, &next->mc);
        return;
    }
    if (next == &sa_idle_thread) {           /* SA: this vp idles until an upcall */
        __uswitch_idle(me, &sched_lock, next);
        return;
    }
    __uswitch(me, next, &sched_lock);        /* releases the lock once me is saved, and
                                                clears next->nopreempt once it is loaded */
}

static void grow_pool(void);
static struct uthread *sa_idle(void);
static void sa_poke(void);

/* t may run again: an unbound thread joins the run queue (waking an idle vp if there is
   one), a bound thread's LWP is unparked. */
static void make_runnable(struct uthread *t)
{
    if (t->flags & T_BOUND) {
        t->state = RUNNING;
        __sys_lwp_unpark(t->lwpid);
        return;
    }
    t->state = RUNNABLE;
    q_push(&runq, t);
    if (model == UTHREAD_SA)
        sa_poke();
    if (model == UTHREAD_MN) {
        struct vp *v = idle_vps;
        if (v) {
            idle_vps = v->idle_next;
            v->on_idle = 0;
            __sys_lwp_unpark(v->lwpid);
        } else if (nblocked >= npool) {      /* every LWP is stuck in the kernel */
            grow_pool();
        }
    }
}

/* me (state BLOCKED, on some wait queue) gives up its processor until make_runnable(me).
   Unbound: switch to the next runnable thread, or to this vp's idle loop. Bound: the LWP
   belongs to me alone, so spin a little, then park it. Called with the lock held; returns
   without it. */
static void block(struct uthread *me)
{
    if (me->flags & T_BOUND) {
        lib_unlock(me);
        for (int n = spin_ok ? 0 : PARK_SPIN; me->state == BLOCKED; n++)
            if (n >= PARK_SPIN) {
                stat_add(&stats.parks);
                __sys_lwp_park(-1);
            }
        return;
    }
    struct uthread *next = q_pop(&runq);
    if (!next) {
        if (model == UTHREAD_M1)
            deadlock();                      /* nobody is left to wake anyone */
        next = model == UTHREAD_SA ? sa_idle() : &me->vp->idle;
    }
    switch_to(me, next);
}
