/* uthread/block.c: blocking system calls (the M:N pool's growth), tracing, statistics.
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

/* Pool growth (M:N). If a user thread makes a blocking system call, its LWP blocks with
   it. When every LWP of the pool is blocked in the kernel and runnable threads wait, the
   library adds an LWP: Solaris had the kernel send SIGWAITING for this; here the library
   detects it itself, in uthread_block_begin() (the wrapper around blocking calls, used by
   uthread_sleep_us) and in make_runnable() (a thread became runnable while all are
   blocked). A blocking call made without the wrapper is not seen. */

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
    __uthread_trace = on;
    fast_yield = model == UTHREAD_M1 && !on;
}

void uthread_stats(struct uthread_stats *st)
{
    *st = stats;
    st->nlwps = model == UTHREAD_MN ? npool : model == UTHREAD_SA ? sa_nvps : 1;
    st->nthreads = nlive;
    st->model = model;
}
