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

#endif
