#ifndef _UTHREAD_H
#define _UTHREAD_H
/* User-level ("green") threads: one library, three models (docs/uthreads.md).

   UTHREAD_M1  every user thread runs on the process's one LWP; the kernel never hears of
               them (claims S8-S12). Cooperative, or preemptive with uthread_preempt.
   UTHREAD_MN  Solaris-style: unbound user threads multiplexed over a pool of LWPs,
               UTHREAD_BOUND threads each on an LWP of their own (S17, S18).
   UTHREAD_SA  scheduler activations: the kernel tells the library's upcall handler when a
               virtual processor is added, blocks, unblocks or is preempted (nlwps = vps).

   Calls return 0 or a positive errno, like pthreads. Each user thread has its own
   mmap(MAP_STACK) stack with a guard page below it. The switch saves what the RISC-V
   calling convention says a callee must preserve (ra, sp, s0-s11, fs0-fs11) and sets tp
   to the new thread's control block; every other register is dead at a call, so the C
   compiler has already saved what it needs. No TLS is used: errno is per user thread
   because it lives in the control block tp points at. */

typedef struct uthread *uthread_t;
enum { UTHREAD_M1 = 1, UTHREAD_MN = 2, UTHREAD_SA = 3 };
enum { UTHREAD_BOUND = 1 };                       /* flag for uthread_create (MN, SA) */

int       uthread_init(int model, int nlwps);     /* nlwps: LWP pool (MN); M1 ignores it */
int       uthread_create(uthread_t *t, void *(*fn)(void *), void *arg, int flags);
void      uthread_yield(void);
int       uthread_join(uthread_t t, void **ret);
_Noreturn void uthread_exit(void *ret);
uthread_t uthread_self(void);
int       uthread_id(uthread_t t);                /* small integer, 0 = main */
int       uthread_setconcurrency(int nlwps);      /* MN: grow/shrink the LWP pool */
int       uthread_preempt(int quantum_us);        /* 0 = cooperative; >0 = timer-preemptive */

/* A FIFO of blocked user threads (library-private fields). */
struct uthread_q { struct uthread *head, *tail; };

/* state: 0 free, 1 locked, 2 locked and maybe waiters. Unlock hands the mutex straight
   to the first waiter (FIFO), so a woken thread never has to fight for it again. */
typedef struct umutex { volatile int state; struct uthread *owner; struct uthread_q waiters; } umutex_t;
typedef struct ucond { struct uthread_q waiters; } ucond_t;
typedef struct usem { int count; struct uthread_q waiters; } usem_t;
#define   UMUTEX_INITIALIZER { 0, 0, { 0, 0 } }
#define   UCOND_INITIALIZER  { { 0, 0 } }
#define   USEM_INITIALIZER(n) { (n), { 0, 0 } }

void umutex_lock(umutex_t *m);
void umutex_unlock(umutex_t *m);
void ucond_wait(ucond_t *c, umutex_t *m);
void ucond_signal(ucond_t *c);
void ucond_broadcast(ucond_t *c);
void usem_init(usem_t *s, int value);
void usem_wait(usem_t *s);
void usem_post(usem_t *s);
/* Blocks only the calling user thread where the model allows: M1 sleeps in the kernel and
   so stops every user thread (S10); MN sleeps on the caller's LWP and grows the pool if
   that would leave runnable threads without an LWP. */
void uthread_sleep_us(long us);

/* ---- extensions beyond the API: for the demos and for teaching ---- */

/* 1: every user-level switch also makes a uevent(UTHREAD_EV_SWITCH, to_id) system call, so
   the kernel's event stream (kernel/trace.py) shows it. Off by default: a switch then makes
   no system call at all (S8). The kernel switches it on at exec when it traces green threads
   (tools.run --trace, --timeline), by writing 2 into the library's word __uthread_trace
   (docs/abi.md). */
#define UTHREAD_EV_SWITCH 1
void uthread_trace(int on);

/* Wrap a blocking system call made by a user thread (uthread_sleep_us does): under MN,
   if every LWP of the pool would be blocked in the kernel while runnable user threads
   wait, uthread_block_begin first adds an LWP to the pool (Solaris's SIGWAITING idea,
   detected by the library). Both are no-ops under M1 and for bound threads. */
void uthread_block_begin(void);
void uthread_block_end(void);

struct uthread_stats {
    long switches;        /* user-level switches (thread to thread, or to an LWP's idle loop) */
    long preemptions;     /* timer ticks that switched threads */
    long deferred;        /* timer ticks ignored: the library or a libc lock was busy */
    long parks;           /* lwp_park calls by idle LWPs and blocked bound threads */
    long grown;           /* LWPs added because the whole pool was blocked in the kernel */
    int  nlwps;           /* LWPs of the pool now (MN), 1 for M1 */
    int  nthreads;        /* user threads alive (main included) */
    int  model;
};
void uthread_stats(struct uthread_stats *st);

/* UTHREAD_SA: the upcalls the library received, oldest first (at most 256 kept). One record
   per activation an upcall told about; `first` marks the first record of each upcall. */
enum { UTHREAD_UPCALL_NEWPROC, UTHREAD_UPCALL_PREEMPTED, UTHREAD_UPCALL_BLOCKED,
       UTHREAD_UPCALL_UNBLOCKED };
struct uthread_upcall {
    int type;             /* UTHREAD_UPCALL_* */
    int sa_id, vp;        /* the activation it is about, and its virtual processor */
    int thread;           /* id of the user thread whose context came with it, -1: none */
    int next;             /* id of the user thread the handler ran next, -1: none (idle) */
    int first;
};
int uthread_upcalls(struct uthread_upcall *out, int max);   /* returns how many were logged */

#endif
