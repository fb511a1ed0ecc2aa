/* uthread/sync.c: synchronisation of user threads: mutexes, condition variables,
   semaphores. They block the thread, not its LWP (block(), in core.c).
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

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
