/* uthread/sa.c: the model on scheduler activations (UTHREAD_SA): upcalls, the contexts they
   hand back, critical sections, upcall stacks.
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

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
        while (pc >= (char *)__usa_tick && pc < __usa_tick_end) {
            struct mctx *under = (struct mctx *)((char *)m->x[12] + UC_MCTX);  /* a2: the tick's */
            char *upc = (char *)under->x[0];                                   /* ucontext */
            if (!(upc >= (char *)__usa_load && upc < __usa_load_end) &&
                !(upc >= __uswitch_mc_tail && upc < __uswitch_mc_end) &&
                !(upc >= (char *)__usa_tick && upc < __usa_tick_end))
                break;
            m = under;                          /* the tick stopped a load (or a tick that */
            pc = upc;                           /* did): that is the context; its frame is */
        }                                       /* dropped */
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
    // LAB upcall BEGIN: no context to continue: this activation runs the next runnable thread
    lib_lock(me);
    sa_recycle();
    struct uthread *next = q_pop(&runq);
    sa_note_next(log0, next);
    sa_push_free(s);                            /* recycled under the lock, after our switch */
    switch_to(me, next ? next : sa_idle());
    // LAB upcall SKELETON
    //     (void)log0, (void)sa_recycle;
    //     static const char msg[] = "uthread: SA: the upcall handler's end is not written (lab upcall)\n";
    //     __sys_write(2, msg, sizeof msg - 1);      /* your code: docs/labs.md, lab upcall */
    // LAB upcall END
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
