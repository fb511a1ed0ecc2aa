#ifndef _THREAD_H
#define _THREAD_H
/* The 1:1 thread library: every thread is one kernel LWP (docs/abi.md "Threads (LWPs)").
   Calls return 0 or a positive errno, like pthreads. A thread's stack is an mmap(MAP_STACK)
   region with a guard page at its low end; its control block (return value, errno, stack)
   is pointed to by the tp register. */

typedef int thread_t;                                   /* the kernel's LWP id */
int      thread_create(thread_t *t, void *(*fn)(void *), void *arg);
int      thread_join(thread_t t, void **ret);
void     thread_exit(void *ret);
thread_t thread_self(void);
typedef struct { volatile int state; } mutex_t;          /* futex based */
#define  MUTEX_INITIALIZER {0}
void     mutex_lock(mutex_t *m);   void mutex_unlock(mutex_t *m);
typedef struct { volatile int seq; } cond_t;
#define  COND_INITIALIZER {0}
void     cond_wait(cond_t *c, mutex_t *m);  void cond_signal(cond_t *c);  void cond_broadcast(cond_t *c);
int      sched_getcpu(void);                             /* the hart this thread runs on */

#endif
