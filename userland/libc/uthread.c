/* User-level threads: M:1 and Solaris-style M:N over LWPs (uthread.h, docs/uthreads.md).

   Vocabulary. A *user thread* (struct uthread) is a stack plus a saved register context;
   the kernel never sees it. An *LWP* is the kernel's unit (docs/threads.md); the library
   calls each LWP it runs user threads on a *virtual processor* (struct vp). Under M:1
   there is one vp, the process's first LWP. Under M:N there is a pool of vps, and each
   bound thread has an LWP of its own that runs nothing else.

   The control block. tp always points at the running user thread's struct uthread. Its
   first two fields are laid out like thread.c's control block (self, errno), so libc's
   errno (tp + 8) and __thread_self() (tp) are per user thread with no change to libc.
   __uswitch (uswitch.S) saves ra, sp, s0-s11, fs0-fs11 in the block and sets tp.

   One lock. Every piece of shared library state (the run queue, every wait queue, the
   pool of vps) is protected by one library lock, taken with lib_lock(). Under M:N it is a
   spin lock (an LWP that cannot get it after SPIN_TRIES looks yields its hart); under M:1
   there is no other LWP to exclude, so it is only the `nopreempt` flag that keeps the
   timer's signal handler out (below).

   Switching with the lock held. A thread that blocks puts itself on a wait queue and
   switches away *while still holding the lock*, and __uswitch itself releases the lock,
   right after it has saved the old thread's registers and before it loads the new one's.
   So no other LWP can pick a thread off a queue before its registers are saved, and no
   wakeup can slip in between "put me on the queue" and "switch away" (xv6's sched() does
   the same with p->lock across swtch; there the new thread releases it). The thread
   switched to resumes with the lock free, and __uswitch clears its nopreempt flag once
   its registers are loaded. So a thread that is not running always has nopreempt set,
   and a switch is all a thread needs to leave the library.

   Idle LWPs. Each vp has an *idle thread* with its own small stack running vp_loop():
   take a runnable thread from the run queue and switch to it, or, if there is none, put
   the vp on the idle list and lwp_park() until make_runnable() unparks it. A blocking
   thread with nothing to switch to switches to its vp's idle thread.

   Timer preemption (uthread_preempt). setitimer(ITIMER_VIRTUAL) sends SIGVTALRM after
   every quantum of the process's user time; the handler runs on the interrupted thread's
   stack, on top of a kernel signal frame holding every register. If it is safe, the
   handler simply calls uthread_yield(): the interrupted thread is switched away *inside
   its handler* and, when it is picked again, returns from the handler, and rt_sigreturn
   restores the interrupted registers. It is safe unless
     - the thread is inside the library (me->nopreempt): the queues may be half updated,
       or this LWP holds the spin lock and would spin on it forever; or
     - a libc lock is held (__libc_locks_held, counted by thread.c's __lock): the thread we
       switch to could call malloc or printf and wait on that futex for ever, since the
       holder cannot run again on this LWP; or
     - the thread is bound or an idle thread (the kernel schedules those), or tp is 0: the
       tick arrived on a new LWP before its first instruction could set tp.
   Then the tick is simply dropped; the next one will preempt. __uswitch orders its steps
   so that the flag of the thread tp points at is set at every instruction where a switch
   would be unsafe (see uswitch.S). The handler is installed
   with SA_NODEFER so that SIGVTALRM is not left blocked on an LWP whose handler switched
   away; a nested tick finds nopreempt set and returns at once.

   Pool growth (M:N). If a user thread makes a blocking system call, its LWP blocks with
   it. When every LWP of the pool is blocked in the kernel and runnable threads wait, the
   library adds an LWP: Solaris had the kernel send SIGWAITING for this; here the library
   detects it itself, in uthread_block_begin() (the wrapper around blocking calls, used by
   uthread_sleep_us) and in make_runnable() (a thread became runnable while all are
   blocked). A blocking call made without the wrapper is not seen. */
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
extern char __usa_load_body[], __usa_load_jr[], __usa_idle_end[], __uswitch_mc_tail[], __uswitch_mc_end[];
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
static int trace_on;
static int spin_ok;               /* more than one hart allowed: spinning can pay off */
static int fast_yield;            /* model == M1 && !trace_on: uthread_yield's short path */
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
    if (trace_on)
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

/* ---- virtual processors (M:N) ---- */

/* The idle thread of vp v. */
static _Noreturn void vp_loop(struct vp *v)
{
    struct uthread *me = &v->idle;
    lib_lock(me);
    for (;;) {                               /* lock held at the top of the loop */
        if (v->retire) {
            lib_unlock(me);
            for (;;)
                __sys_lwp_exit();            /* its stack stays mapped: see docs/uthreads.md */
        }
        struct uthread *t = q_pop(&runq);
        if (t) {
            switch_to(me, t);                /* back when t blocks with nothing else to run */
            lib_lock(me);
            continue;
        }
        v->on_idle = 1;
        v->idle_next = idle_vps;
        idle_vps = v;
        lib_unlock(me);
        while (v->on_idle) {                 /* cleared by whoever took v off the list */
            stat_add(&stats.parks);
            __sys_lwp_park(-1);
        }
        lib_lock(me);
    }
}

/* A pool LWP starts here (__uthread_lwp_start, tp = &v->idle). */
static _Noreturn void vp_main(struct vp *v)
{
    v->lwpid = (int)__sys_lwp_self();
    vp_loop(v);
}

static void init_idle(struct vp *v)
{
    v->idle.self = &v->idle;
    v->idle.id = -1;
    v->idle.flags = T_IDLE;
    v->idle.nopreempt = 1;
    v->idle.state = RUNNING;
    v->idle.vp = v;
}

static void *map_stack(size_t len)
{
    long m = __sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return m < 0 && m >= -4095 ? 0 : (void *)m;
}

/* A new LWP for the pool (lock held). Its idle stack holds the struct vp at the top. */
static int add_vp(void)
{
    size_t len = IDLE_STACK + PAGE;
    char *m = map_stack(len);
    if (!m)
        return EAGAIN;
    struct vp *v = (struct vp *)(((uintptr_t)m + len - sizeof(struct vp)) & ~(uintptr_t)15);
    memset(v, 0, sizeof *v);
    init_idle(v);
    v->idle.map = m;
    v->idle.maplen = len;
    v->idle.ctx.s[0] = (long)vp_main;        /* what __uthread_lwp_start calls */
    long r = __sys_lwp_create(__uthread_lwp_start, v, v, LWP_DETACHED);
    if (r < 0) {
        __sys_munmap(m, len);
        return (int)-r;
    }
    v->lwpid = (int)r;
    v->all_next = all_vps;
    all_vps = v;
    npool++;
    return 0;
}

static void grow_pool(void)
{
    if (add_vp() == 0)
        stats.grown++;
}

/* ---- scheduler activations (UTHREAD_SA) ----

   The kernel gives the process virtual processors and starts __usa_upcall (uswitch.S, then
   __usa_handler) on a fresh activation, on one of our upcall stacks, whenever a vp is
   added, its activation blocks in the kernel, a blocked call completes or an activation is
   stopped (docs/scheduler-activations.md). Each upcall stack has a slot: a control block
   for the handler (tp, nopreempt always set) and a buffer for one context to resume.

   Contexts handed back (UNBLOCKED, PREEMPTED, NEWPROC of sa_enable) are copied into their
   thread's mc; the thread is then a runnable user thread like any other, queued on
   sa_incoming (lock-free: the handler may not be able to take the library lock) and moved
   to the run queue by whoever next takes or drops the lock. switch_to resumes it with
   __uswitch_mc.

   Critical sections (the paper's recovery, by continuation). A context is inside the
   library if its thread's nopreempt flag is set (the library lock may be held, queues may
   be half updated; handlers always have it set) or its tp is 0 and its sp on an upcall
   stack (a handler stopped before it set tp). Such a context is not queued: the handler
   resumes it at once on this activation, from its thread's mc, so it goes on and leaves
   the critical section itself; only a thread spinning for the lock (it holds none) may be
   handed back instead, when another context must be continued. A context stopped while
   loading a thread's mc (__uswitch_mc's tail, __usa_load) restarts the load from that mc,
   which is intact: at once if it is a critical context, else later, as a runnable thread.
   Details and the cases in order: docs/uthreads.md.

   Upcall stacks. A handler gives its stack back (sa_free, then sa_stacks by a later handler
   that holds the library lock) just before it switches away for good. */
#define NSA 32                    /* upcall stacks */
#define SA_STACK (16 * 1024)
#define UC_MCTX 176               /* the mcontext inside a kernel ucontext */
#define SA_PREEMPTED 1

struct sa_t { char *ctx; int id; int cpu; };
struct sa_slot {
    struct uthread ut;            /* the handler's control block */
    char *stack;
    struct sa_slot *free_next;
};
static struct sa_slot sa_slots[NSA];
static struct sa_slot *volatile sa_free;            /* stacks the kernel may have back */
static struct uthread *volatile sa_incoming;       /* contexts to queue (lock-free push) */
static int sa_nvps = 1;                           /* vps the kernel granted */
static int sa_want = 1;                           /* vps asked for */
static int sa_idle_hint;                          /* a vp went idle since the last poke */
#define SA_LOG 256
static struct uthread_upcall sa_log[SA_LOG];      /* uthread_upcalls() */
static volatile int sa_nlog;

static void sa_note(int first, int type, struct sa_t *sa, struct uthread *t)
{
    int i = __atomic_fetch_add(&sa_nlog, 1, __ATOMIC_RELAXED);
    if (i < SA_LOG)
        sa_log[i] = (struct uthread_upcall){ type, sa->id, sa->cpu, t ? t->id : -1, -1, first };
}

static void sa_note_next(int from, struct uthread *next)
{
    int n = sa_nlog < SA_LOG ? sa_nlog : SA_LOG;
    for (int i = from; i < n; i++)
        sa_log[i].next = next ? next->id : -1;
}

int uthread_upcalls(struct uthread_upcall *out, int max)
{
    int n = sa_nlog < SA_LOG ? sa_nlog : SA_LOG;
    for (int i = 0; i < n && i < max; i++)
        out[i] = sa_log[i];
    return n;
}

static void sa_push_free(struct sa_slot *s)
{
    struct sa_slot *old = sa_free;
    do
        s->free_next = old;
    while (!__atomic_compare_exchange_n(&sa_free, &old, s, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Library lock held: give the freed upcall stacks back to the kernel. */
static void sa_recycle(void)
{
    struct sa_slot *s = __atomic_exchange_n(&sa_free, 0, __ATOMIC_ACQUIRE);
    long ss[NSA][3];
    int n = 0;
    for (; s && n < NSA; s = s->free_next, n++) {
        ss[n][0] = (long)s->stack;
        ss[n][1] = 0;
        ss[n][2] = SA_STACK;
    }
    if (n)
        __sys_sa_stacks(n, ss);
}

/* Library lock held: move the threads the handlers handed back to the run queue. */
static void sa_drain(void)
{
    if (!sa_incoming)
        return;
    struct uthread *t = __atomic_exchange_n(&sa_incoming, 0, __ATOMIC_ACQUIRE);
    struct uthread *rev = 0;
    while (t) {                                 /* the push order, oldest first */
        struct uthread *n = t->next;
        t->next = rev;
        rev = t;
        t = n;
    }
    while (rev) {
        struct uthread *n = rev->next;
        q_push(&runq, rev);
        rev = n;
    }
    sa_poke();
}

/* Library lock held: this vp has nothing to run and goes to the idle loop (sa_yield). */
static struct uthread *sa_idle(void)
{
    sa_idle_hint = 1;
    return &sa_idle_thread;
}

/* Library lock held, a thread is runnable: if a vp went idle, ask the kernel for the
   processors again ("add more processors": sa_setconcurrency wakes idle vps, or makes the
   next sa_yield return at once, so a vp going idle right now is not lost). */
static void sa_poke(void)
{
    if (sa_idle_hint) {
        sa_idle_hint = 0;
        long r = __sys_sa_setconcurrency(sa_want);
        if (r > 0)
            sa_nvps = (int)r;
    }
}

/* The upcall slot whose stack holds p, or 0. */
static struct sa_slot *sa_slot_of(char *p)
{
    for (int i = 0; i < NSA; i++)
        if (p >= sa_slots[i].stack && p < sa_slots[i].stack + SA_STACK)
            return &sa_slots[i];
    return 0;
}

/* t, whose whole context is in t->mc, is runnable again: onto sa_incoming (lock-free). */
static void sa_hand_back(struct uthread *t)
{
    t->has_mc = 1;
    t->nopreempt = 1;                           /* not running: as every queued thread */
    t->state = RUNNABLE;
    struct uthread *old = sa_incoming;
    do
        t->next = old;
    while (!__atomic_compare_exchange_n(&sa_incoming, &old, t, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Two contexts of one upcall were inside the library: one activation cannot continue both. */
static _Noreturn void sa_lost(void)
{
    static const char msg[] = "uthread: SA: two critical contexts in one upcall\n";
    __sys_write(2, msg, sizeof msg - 1);
    abort();
}

_Noreturn void __usa_handler(int type, struct sa_t **sas, int events, int interrupted)
{
    char here;
    struct sa_slot *s = sa_slot_of(&here);
    if (!s)
        abort();
    struct uthread *me = &s->ut;
    __asm__ volatile("mv tp, %0" : : "r"(me) : "memory");
    struct mctx *crit = 0;
    struct uthread *crit_t = 0;                 /* crit's thread, when crit is its mc */
    int log0 = sa_nlog;
    for (int i = 0; i < events + interrupted; i++) {
        int kind = i < events ? type : SA_PREEMPTED;
        if (!sas[i]->ctx) {
            sa_note(i == 0, kind, sas[i], 0);
            continue;                           /* BLOCKED: its thread stays with the kernel */
        }
        sa_note(i == 0, kind, sas[i], (struct uthread *)((struct mctx *)(sas[i]->ctx + UC_MCTX))->x[4]);
        struct mctx *m = (struct mctx *)(sas[i]->ctx + UC_MCTX);
        char *pc = (char *)m->x[0];
        if (pc >= (char *)__usa_idle && pc < __usa_idle_end)
            continue;                           /* an idle activation: nothing to resume */
        int body = pc >= __usa_load_body && pc < __usa_load_jr;
        if (body || pc == (char *)__usa_load || (pc >= __uswitch_mc_tail && pc < __uswitch_mc_end)) {
            /* the mc of the thread it loads: in gp in the body, in a0 before it (uswitch.S) */
            struct mctx *buf = (struct mctx *)(body ? m->x[3] : m->x[10]);
            if (pc == __uswitch_mc_tail)        /* it had yet to release the library lock */
                __atomic_store_n(&sched_lock, 0, __ATOMIC_RELEASE);
            if (buf->np) {                      /* a continued critical context: go on */
                if (crit)
                    sa_lost();
                crit = buf;
                crit_t = 0;
                stat_add(&stats.deferred);
                continue;
            }
            struct uthread *t = (struct uthread *)((char *)buf - offsetof(struct uthread, mc));
            sa_hand_back(t);                    /* its mc is intact: load it again later */
            continue;
        }
        struct mctx tmp;
        memcpy(&tmp, m, offsetof(struct mctx, np));
        if (pc == __usa_load_jr)
            tmp.x[0] = tmp.x[3];                /* loaded but for the jump: pc is in gp */
        struct uthread *t = (struct uthread *)tmp.x[4];
        struct sa_slot *h = t ? 0 : sa_slot_of((char *)tmp.x[2]);
        if (h)                                  /* a handler stopped before it set tp (the */
            tmp.x[4] = (long)(t = &h->ut);      /* kernel starts upcalls with tp = 0) */
        if (t->nopreempt && !(crit && t->spinning)) {
            stat_add(&stats.deferred);          /* SA: a context resumed inside the library */
            if (crit && crit_t && crit_t->spinning) {   /* continue this one; the spinner waits */
                crit_t->mc.np = 1;
                sa_hand_back(crit_t);
                crit = 0;
            }
            if (crit)
                sa_lost();
            t->mc = tmp;                        /* t is running, so t->mc is free, and only */
            t->mc.np = 1;                       /* a handler that restarts this load reads */
            crit = &t->mc;                      /* it until the load is done */
            crit_t = t;
            continue;
        }
        if (t->nopreempt) {                     /* a spinner, while another context must be
                                                   continued: runnable, still critical */
            t->mc = tmp;
            t->mc.np = 1;
            sa_hand_back(t);
            continue;
        }
        t->mc = tmp;
        t->mc.np = 0;
        sa_hand_back(t);
    }
    if (crit) {
        sa_note_next(log0, (struct uthread *)crit->x[4]);
        sa_push_free(s);
        __usa_load(crit);
    }
    lib_lock(me);
    sa_recycle();
    struct uthread *next = q_pop(&runq);
    sa_note_next(log0, next);
    sa_push_free(s);                            /* recycled under the lock, after our switch */
    switch_to(me, next ? next : sa_idle());
    abort();
}

/* uthread_init(UTHREAD_SA, n), model set, tp = main: upcall stacks, sa_enable, n vps. */
static int sa_start(int nvps)
{
    long mm = __sys_mmap(0, (size_t)NSA * SA_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);                /* no MAP_STACK: no guard page below */
    if (mm < 0 && mm >= -4095)
        return EAGAIN;
    char *m = (char *)mm;
    long ss[NSA][3];
    for (int i = 0; i < NSA; i++) {
        struct sa_slot *s = &sa_slots[i];
        s->stack = m + (size_t)i * SA_STACK;
        s->ut.self = &s->ut;
        s->ut.id = -1;
        s->ut.flags = T_IDLE;
        s->ut.nopreempt = 1;
        s->ut.state = RUNNING;
        s->ut.vp = &vp0;
        ss[i][0] = (long)s->stack;
        ss[i][1] = 0;
        ss[i][2] = SA_STACK;
    }
    struct uthread *idle = &sa_idle_thread;
    idle->self = idle;
    idle->id = -1;
    idle->flags = T_IDLE;
    idle->nopreempt = 1;                        /* for good: __uswitch_idle never clears it */
    idle->vp = &vp0;
    long r = __sys_sa_register(__usa_upcall, 0, offsetof(struct uthread, nopreempt));
    if (r >= 0)
        r = __sys_sa_stacks(NSA, ss);
    if (r < 0) {
        __sys_munmap(m, (size_t)NSA * SA_STACK);
        return (int)-r;
    }
    main_thread.nopreempt = 1;                  /* resumed as is by the NEWPROC upcall */
    r = __sys_sa_enable();
    main_thread.nopreempt = 0;
    if (r < 0)
        return (int)-r;
    return nvps > 1 ? uthread_setconcurrency(nvps) : 0;
}

/* ---- the API ---- */

int uthread_init(int m, int nlwps)
{
    if (model)
        return EBUSY;
    if (m != UTHREAD_M1 && m != UTHREAD_MN && m != UTHREAD_SA)
        return EINVAL;
    if ((m == UTHREAD_MN || m == UTHREAD_SA) && nlwps < 1)
        return EINVAL;
    struct uthread *t = &main_thread;
    t->err = errno;
    t->self = t;
    t->id = 0;
    t->state = RUNNING;
    t->vp = &vp0;
    t->all_next = 0;
    all_threads = t;
    init_idle(&vp0);
    vp0.lwpid = (int)__sys_lwp_self();
    unsigned long harts = 0;                    /* spin only if another hart can run the */
    __sys_sched_getaffinity(0, sizeof harts, &harts);   /* thread we wait for */
    spin_ok = __builtin_popcountl(harts) > 1;
    all_vps = &vp0;
    if (m == UTHREAD_MN) {                   /* vp0's idle loop gets a stack of its own */
        size_t len = IDLE_STACK + PAGE;
        char *s = map_stack(len);
        if (!s)
            return EAGAIN;
        vp0.idle.map = s;
        vp0.idle.maplen = len;
        vp0.idle.ctx.ra = (long)__uthread_trampoline;
        vp0.idle.ctx.sp = ((long)s + (long)len) & ~15L;
        vp0.idle.ctx.s[0] = (long)vp_loop;
        vp0.idle.ctx.s[1] = (long)&vp0;
    }
    __asm__ volatile("mv tp, %0" : : "r"(t) : "memory");   /* errno now lives in t */
    model = m;
    stats.model = m;
    fast_yield = m == UTHREAD_M1 && !trace_on;
    if (m == UTHREAD_SA) {
        int e = sa_start(nlwps);
        if (e)
            model = 0;
        return e;
    }
    if (m == UTHREAD_MN && nlwps > 1)
        return uthread_setconcurrency(nlwps);
    return 0;
}

/* A new unbound thread's first code (through __uthread_trampoline). */
static _Noreturn void thread_entry(struct uthread *t)
{
    uthread_exit(t->fn(t->arg));
}

/* A bound thread's LWP starts here (__uthread_lwp_start, tp = t). Timer ticks are for
   the pool's LWPs, so this one blocks SIGVTALRM. */
static _Noreturn void bound_main(struct uthread *t)
{
    t->lwpid = (int)__sys_lwp_self();
    unsigned long set = 1UL << (SIGVTALRM - 1);
    __sys_rt_sigprocmask(SIG_BLOCK, &set, 0, sizeof set);
    uthread_exit(t->fn(t->arg));
}

int uthread_create(uthread_t *out, void *(*fn)(void *), void *arg, int flags)
{
    if (!model) {
        int e = uthread_init(UTHREAD_M1, 1);   /* no uthread_init: plain M:1 */
        if (e)
            return e;
    }
    if (flags & ~UTHREAD_BOUND || (flags & UTHREAD_BOUND && model == UTHREAD_M1))
        return EINVAL;                          /* M:1 has no LWP to give it */
    size_t len = STACK_SIZE + PAGE;             /* + the guard page */
    struct uthread *me = cur();
    lib_lock(me);
    struct uthread *old = stack_cache;          /* a joined thread's stack, if any */
    if (old) {
        stack_cache = old->next;
        ncached--;
    }
    lib_unlock(me);
    char *m = old ? old->map : map_stack(len);
    if (!m)
        return EAGAIN;
    struct uthread *t = (struct uthread *)(((uintptr_t)m + len - sizeof(struct uthread)) & ~(uintptr_t)15);
    t->self = t;                                /* every field but the context: the */
    t->err = 0;                                 /* registers a new thread starts with */
    t->state = 0;                               /* are only those set below */
    t->lwpid = 0;
    t->vp = 0;
    t->next = t->joiner = 0;
    t->ret = 0;
    t->flags = flags;
    t->fn = fn;
    t->arg = arg;
    t->map = m;
    t->maplen = len;
    t->nopreempt = 1;                           /* not running: cleared by the switch to it */
    t->ctx.sp = (long)t;                        /* the stack grows down from the block */
    t->ctx.ra = (long)__uthread_trampoline;     /* first __uswitch "returns" there ... */
    t->ctx.s[0] = (long)(flags & UTHREAD_BOUND ? (void *)bound_main : (void *)thread_entry);
    t->ctx.s[1] = (long)t;                      /* ... and calls s0(s1) */
    lib_lock(me);
    t->id = next_id++;
    t->all_next = all_threads;
    all_threads = t;
    nlive++;
    if (flags & UTHREAD_BOUND) {
        t->state = RUNNING;
        lib_unlock(me);
        long r = __sys_lwp_create(__uthread_lwp_start, t, t, 0);
        if (r < 0) {
            lib_lock(me);
            for (struct uthread **pp = &all_threads; *pp; pp = &(*pp)->all_next)
                if (*pp == t) {
                    *pp = t->all_next;
                    break;
                }
            nlive--;
            lib_unlock(me);
            __sys_munmap(m, len);
            return r == -ENOMEM ? EAGAIN : (int)-r;
        }
        t->lwpid = (int)r;
    } else {
        make_runnable(t);
        lib_unlock(me);
    }
    *out = t;
    return 0;
}

/* Every model, every case. */
static __attribute__((noinline)) void yield_general(void)
{
    struct uthread *me = cur();
    if (!model)
        return;
    if (me->flags) {                            /* bound: its LWP yields its hart */
        __sys_sched_yield();
        return;
    }
    lib_lock(me);
    struct uthread *next = q_pop(&runq);
    if (!next) {
        lib_unlock(me);
        return;
    }
    me->state = RUNNABLE;
    q_push(&runq, me);
    switch_to(me, next);
}

/* The path S8 counts: M:1, tracing off. The same steps as yield_general, for one LWP:
   a dozen loads and stores around __uswitch, which is a tail call here, so it returns
   straight to our caller when we are switched back to. */
void uthread_yield(void)
{
    if (!fast_yield) {
        yield_general();
        return;
    }
    struct uthread *me = cur();
    me->nopreempt = 1;                          /* lib_lock: M:1 has no other LWP */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    struct uthread *next = q_pop(&runq);
    if (!next) {                                /* alone: keep running */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        me->nopreempt = 0;
        return;
    }
    me->state = RUNNABLE;
    q_push(&runq, me);
    next->state = RUNNING;                      /* switch_to, less vp and tracing */
    stats.switches++;
    __uswitch(me, next, &sched_lock);
}

_Noreturn void uthread_exit(void *ret)
{
    struct uthread *me = cur();
    if (!model)
        exit(0);
    lib_lock(me);
    me->ret = ret;
    me->state = ZOMBIE;
    if (--nlive == 0) {                         /* the last one: end the process */
        lib_unlock(me);
        exit(0);
    }
    if (me->joiner)
        make_runnable(me->joiner);
    if (me->flags & T_BOUND) {                  /* its joiner lwp_waits, then unmaps */
        lib_unlock(me);
        for (;;)
            __sys_lwp_exit();
    }
    struct uthread *next = q_pop(&runq);
    if (!next) {
        if (model == UTHREAD_M1)
            deadlock();
        next = model == UTHREAD_SA ? sa_idle() : &me->vp->idle;
    }
    switch_to(me, next);                        /* for good: the joiner unmaps our stack */
    abort();
}

int uthread_join(uthread_t t, void **ret)
{
    struct uthread *me = cur();
    if (!model || !t)
        return ESRCH;
    if (t == me)
        return EDEADLK;
    lib_lock(me);
    struct uthread *x = all_threads;
    while (x && x != t)
        x = x->all_next;
    if (!x || t->joiner) {
        lib_unlock(me);
        return x ? EINVAL : ESRCH;              /* already joined, or being joined */
    }
    if (t->state != ZOMBIE) {
        t->joiner = me;
        me->state = BLOCKED;
        block(me);
        lib_lock(me);
    }
    for (struct uthread **pp = &all_threads; *pp; pp = &(*pp)->all_next)
        if (*pp == t) {
            *pp = t->all_next;
            break;
        }
    lib_unlock(me);
    if (ret)
        *ret = t->ret;
    if (t->flags & T_BOUND)                     /* be sure its LWP is off the stack */
        while (__sys_lwp_wait(t->lwpid) == -EINTR)
            ;
    if (t->map) {                               /* keep a few stacks for the next creates */
        lib_lock(me);
        int keep = ncached < STACK_CACHE;
        if (keep) {
            t->next = stack_cache;
            stack_cache = t;
            ncached++;
        }
        lib_unlock(me);
        if (!keep)
            __sys_munmap(t->map, t->maplen);
    }
    return 0;
}

uthread_t uthread_self(void)
{
    return model ? cur() : &main_thread;
}

int uthread_id(uthread_t t)
{
    return t ? t->id : -1;
}

int uthread_setconcurrency(int n)
{
    if (n < 1)
        return EINVAL;
    if (model == UTHREAD_SA) {
        long r = __sys_sa_setconcurrency(n);
        if (r < 0)
            return (int)-r;
        sa_want = n;
        sa_nvps = (int)r;
        return 0;
    }
    if (model != UTHREAD_MN)
        return n == 1 ? 0 : EINVAL;             /* M:1 has exactly one LWP */
    struct uthread *me = cur();
    int err = 0;
    lib_lock(me);
    while (npool < n && !err)
        err = add_vp();
    for (struct vp *v = all_vps; npool > n && v; v = v->all_next) {
        if (v == &vp0 || v->retire)
            continue;                           /* the first LWP stays */
        v->retire = 1;                          /* it exits the next time it is idle */
        npool--;
        if (v->on_idle) {
            for (struct vp **pp = &idle_vps; *pp; pp = &(*pp)->idle_next)
                if (*pp == v) {
                    *pp = v->idle_next;
                    break;
                }
            v->on_idle = 0;
            __sys_lwp_unpark(v->lwpid);
        }
    }
    lib_unlock(me);
    return err;
}

/* SIGVTALRM: switch threads if that is safe now (see the top of this file). */
static void on_tick(int sig)
{
    (void)sig;
    struct uthread *me = cur();
    if (!me)                                    /* a new LWP before its first instruction: */
        return;                                 /* touch nothing, not even gp is set yet */
    if (me->nopreempt || me->flags || (&__libc_locks_held && __libc_locks_held)) {
        stat_add(&stats.deferred);
        return;
    }
    stat_add(&stats.preemptions);
    uthread_yield();                            /* we return here when picked again */
}

int uthread_preempt(int quantum_us)
{
    if (quantum_us < 0)
        return EINVAL;
    if (!model) {
        int e = uthread_init(UTHREAD_M1, 1);
        if (e)
            return e;
    }
    if (quantum_us) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_tick;
        sa.sa_flags = SA_RESTART | SA_NODEFER;
        if (sigaction(SIGVTALRM, &sa, 0) < 0)
            return errno;
    }
    long s = quantum_us / 1000000, us = quantum_us % 1000000;
    long it[4] = { s, us, s, us };              /* interval, then first expiry */
    long r = __sys_setitimer(ITIMER_VIRTUAL, it, 0);
    return r < 0 ? (int)-r : 0;
}

/* ---- synchronisation ---- */

/* The caller; a program that synchronises before uthread_init gets M:1 (like create). */
static inline struct uthread *self(void)
{
    if (__builtin_expect(!model, 0))
        uthread_init(UTHREAD_M1, 1);
    return cur();
}

void umutex_lock(umutex_t *m)
{
    struct uthread *me = self();
    int c = 0;
    if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        m->owner = me;                          /* uncontended: one atomic, no lock */
        return;
    }
    if (model == UTHREAD_MN && npool > 1 && spin_ok)   /* the owner may run on another hart */
        for (int n = 0; n < MUTEX_SPIN; n++) {
            c = 0;
            if (m->state == 0 && __atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_ACQUIRE,
                                                             __ATOMIC_RELAXED)) {
                m->owner = me;
                return;
            }
        }
    lib_lock(me);
    if (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) == 0) {
        m->owner = me;                          /* freed meanwhile: ours (marked contended) */
    } else {
        q_push(&m->waiters, me);
        me->state = BLOCKED;
        block(me);                              /* back when the unlocker handed it to us */
        return;
    }
    lib_unlock(me);
}

/* Give m to its first waiter, or free it. Lock held. */
static void mutex_release(umutex_t *m)
{
    m->owner = 0;
    int c = 1;
    if (__atomic_compare_exchange_n(&m->state, &c, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return;
    struct uthread *w = q_pop(&m->waiters);
    if (w) {                                    /* handoff: m stays locked, now for w */
        m->owner = w;
        m->state = m->waiters.head ? 2 : 1;
        make_runnable(w);
    } else {
        __atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
    }
}

void umutex_unlock(umutex_t *m)
{
    struct uthread *me = self();
    int c = 1;
    m->owner = 0;
    if (__atomic_compare_exchange_n(&m->state, &c, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return;                                 /* nobody waits: one atomic, no lock */
    lib_lock(me);
    mutex_release(m);
    lib_unlock(me);
}

void ucond_wait(ucond_t *c, umutex_t *m)
{
    struct uthread *me = self();
    lib_lock(me);
    q_push(&c->waiters, me);                    /* queued before m is released: */
    me->state = BLOCKED;                        /* a signal after the release finds us */
    mutex_release(m);
    block(me);
    umutex_lock(m);
}

void ucond_signal(ucond_t *c)
{
    struct uthread *me = self();
    lib_lock(me);
    struct uthread *w = q_pop(&c->waiters);
    if (w)
        make_runnable(w);
    lib_unlock(me);
}

void ucond_broadcast(ucond_t *c)
{
    struct uthread *me = self();
    lib_lock(me);
    for (struct uthread *w; (w = q_pop(&c->waiters)); )
        make_runnable(w);
    lib_unlock(me);
}

void usem_init(usem_t *s, int value)
{
    s->count = value;
    s->waiters.head = s->waiters.tail = 0;
}

void usem_wait(usem_t *s)
{
    struct uthread *me = self();
    lib_lock(me);
    if (s->count > 0) {
        s->count--;
        lib_unlock(me);
    } else {
        q_push(&s->waiters, me);
        me->state = BLOCKED;
        block(me);                              /* the poster handed its unit to us */
    }
}

void usem_post(usem_t *s)
{
    struct uthread *me = self();
    lib_lock(me);
    struct uthread *w = q_pop(&s->waiters);
    if (w)
        make_runnable(w);
    else
        s->count++;
    lib_unlock(me);
}

/* ---- blocking calls, tracing, statistics ---- */

void uthread_block_begin(void)
{
    struct uthread *me = cur();
    if (model != UTHREAD_MN || me->flags)
        return;
    lib_lock(me);
    me->vp->blocked = 1;
    nblocked++;
    if (nblocked >= npool && runq.head && !idle_vps)
        grow_pool();                            /* SIGWAITING: no LWP left for the runnable */
    __atomic_store_n(&sched_lock, 0, __ATOMIC_RELEASE);   /* lib_unlock, but nopreempt stays */
                                                /* set: we stay on this vp until block_end */
}

void uthread_block_end(void)
{
    struct uthread *me = cur();
    if (model != UTHREAD_MN || me->flags)
        return;
    lib_lock(me);
    me->vp->blocked = 0;
    nblocked--;
    lib_unlock(me);
}

void uthread_sleep_us(long us)
{
    if (us <= 0)
        return;
    struct timespec ts = { us / 1000000, us % 1000000 * 1000 };
    uthread_block_begin();
    while (__sys_nanosleep(&ts, &ts) == -EINTR)
        ;
    uthread_block_end();
}

void uthread_trace(int on)
{
    trace_on = on;
    fast_yield = model == UTHREAD_M1 && !on;
}

void uthread_stats(struct uthread_stats *st)
{
    *st = stats;
    st->nlwps = model == UTHREAD_MN ? npool : model == UTHREAD_SA ? sa_nvps : 1;
    st->nthreads = nlive;
    st->model = model;
}
