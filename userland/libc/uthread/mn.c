/* uthread/mn.c: the virtual processors of the M:N model: the pool of LWPs and their
   idle loops (its growth: uthread_block_begin, in block.c).
   Part of the green-thread library, included by uthread.c (which says why) after the
   parts before it; not compiled on its own. */

/* Idle LWPs. Each vp has an *idle thread* with its own small stack running vp_loop():
   take a runnable thread from the run queue and switch to it, or, if there is none, put
   the vp on the idle list and lwp_park() until make_runnable() unparks it. A blocking
   thread with nothing to switch to switches to its vp's idle thread. */

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
    if (m < 0 && m >= -4095)
        return 0;
    __sys_mprotect((void *)m, PAGE, PROT_NONE);      /* the guard page */
    return (void *)m;
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
