#ifndef _SCHED_H
#define _SCHED_H
#include <sys/types.h>

int sched_yield(void);
int sched_getcpu(void);

/* CPU affinity of an LWP (pid 0: the calling one): a mask of up to 64 harts. */
typedef struct { unsigned long __bits[1]; } cpu_set_t;
#define CPU_SETSIZE 64
#define CPU_ZERO(s) ((s)->__bits[0] = 0)
#define CPU_SET(c, s) ((s)->__bits[0] |= 1UL << (c))
#define CPU_CLR(c, s) ((s)->__bits[0] &= ~(1UL << (c)))
#define CPU_ISSET(c, s) ((int)(((s)->__bits[0] >> (c)) & 1))
#define CPU_COUNT(s) __builtin_popcountl((s)->__bits[0])
int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set);
int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set);

#endif
