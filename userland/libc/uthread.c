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

   The library is split by concern, one file each, included below in the order of the
   file it was before: they are one translation unit, never compiled on their own. One
   unit, in that order, so that the compiler sees the whole library as before and emits
   the same instructions (it inlines the lock and the queues everywhere and sa_drain into
   the lock, and lays the library's variables out by where they are used): the virtual
   times of green-thread programs, S8's count per switch among them, do not depend on how
   the source is cut into files. */
#include "uthread/core.c"     /* types, state, the library lock, queues, switching */
#include "uthread/mn.c"       /* M:N: virtual processors and their idle loops */
#include "uthread/sa.c"       /* scheduler activations: upcalls, critical sections */
#include "uthread/api.c"      /* init, create, yield, exit, join, concurrency, preemption */
#include "uthread/sync.c"     /* mutexes, condition variables, semaphores */
#include "uthread/block.c"    /* blocking calls (M:N pool growth), tracing, statistics */
