/* uthread/api.c: the library's API for every model: init, create, yield, exit, join,
   concurrency, and timer preemption.
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

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
    fast_yield = m == UTHREAD_M1 && !__uthread_trace;
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
    // LAB uswitch BEGIN: M:1 yield: queue me behind the runnable threads, switch to the first
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
    // LAB uswitch SKELETON
    //     return;                                 /* your code: the same steps as yield_general */
    // LAB uswitch END
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

/* ---- timer preemption ----

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
       tick arrived on a new LWP before its first instruction could set tp; or
     - (SA) the tick interrupted a load of a whole context from a thread's mc (__usa_load,
       __uswitch_mc's tail): the thread's nopreempt already has the loaded value, 0, though
       the load is not done. A switch there, or an upcall that saved the thread's context
       while this handler ran, would write the mc that the signal frame resumes loading
       from: the thread would then load its own newer context, for ever. Under SA the
       handler is __usa_tick (uswitch.S), which returns at once from such a tick, and
       which an upcall handler recognises by its pc (uthread/sa.c).
   Then the tick is simply dropped; the next one will preempt. __uswitch orders its steps
   so that the flag of the thread tp points at is set at every instruction where a switch
   would be unsafe (see uswitch.S). The handler is installed
   with SA_NODEFER so that SIGVTALRM is not left blocked on an LWP whose handler switched
   away; a nested tick finds nopreempt set and returns at once. */

/* SIGVTALRM: switch threads if that is safe now (above). */
void __uthread_on_tick(int sig)
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
        sa.sa_handler = __uthread_on_tick;
        sa.sa_flags = SA_RESTART | SA_NODEFER;
        if (model == UTHREAD_SA) {              /* through __usa_tick (above) */
            sa.sa_sigaction = __usa_tick;
            sa.sa_flags |= SA_SIGINFO;
        }
        if (sigaction(SIGVTALRM, &sa, 0) < 0)
            return errno;
    }
    long s = quantum_us / 1000000, us = quantum_us % 1000000;
    long it[4] = { s, us, s, us };              /* interval, then first expiry */
    long r = __sys_setitimer(ITIMER_VIRTUAL, it, 0);
    return r < 0 ? (int)-r : 0;
}
