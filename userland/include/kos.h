#ifndef _KOS_H
#define _KOS_H
/* This project's private system calls (docs/abi.md). */

struct procinfo {          /* 48 bytes */
    int  pid, ppid, pgid;
    int  state;            /* 'R' running, 'r' runnable, 'S' sleeping, 'Z' zombie */
    int  hart;             /* hart it runs on now, -1 if none */
    int  nthreads;
    long cputime_ns;       /* virtual time spent running, user + kernel */
    char name[16];         /* NUL-terminated, basename of the program */
};

struct kstat {             /* 40 bytes */
    long free_frames;      /* free 4 KiB physical frames now */
    long total_frames;
    long vtime_ns;         /* virtual time since boot */
    long nprocs;           /* live + zombie processes */
    long ncpus;            /* harts */
};

/* Fill up to n records in pid order; return how many, or -1 with errno. */
int procinfo(struct procinfo *buf, int n);
/* Machine-wide counters; 0, or -1 with errno. */
int kstat(struct kstat *st);

/* ---- Threads (LWPs): the kernel calls thread.h builds on. -1 and errno on failure. ---- */
struct timespec;

struct lwpinfo {           /* 48 bytes */
    int  pid;              /* owning process, 0 for a pure kernel thread */
    int  lwpid;
    int  state;            /* 'R' running, 'r' runnable, 'S' sleeping, 'Z' exited, not yet waited */
    int  hart;             /* hart it runs on now, -1 if none */
    int  kernel;           /* 1 for a pure kernel thread (no user context) */
    int  pad;
    long cputime_ns;
    char name[16];
};

#define LWP_DETACHED 1
/* A new LWP of this process at entry(arg) on stack_top (16-byte aligned), tp = 0. */
int  lwp_create(void (*entry)(void *), void *arg, void *stack_top, int flags);
_Noreturn void lwp_exit(void);
int  lwp_self(void);
int  lwp_park(long timeout_ns);       /* < 0: forever */
int  lwp_unpark(int lwpid);
int  lwp_wait(int lwpid);             /* 0: any; returns the reaped lwpid */
/* One record per kernel thread: every LWP of every process, then pure kernel threads. */
int  lwpinfo(struct lwpinfo *buf, int n);
// LAB syscall BEGIN: the libc function's prototype
/* The live LWPs of process pid (0: the caller's). */
int  lwpcount(int pid);
// LAB syscall END
/* The HOST's monotonic clock: for printing host costs only, never to decide anything. */
int  hostclock(struct timespec *ts);

#endif
