#ifndef _SCHED_H
#define _SCHED_H
#include <sys/types.h>

int sched_yield(void);
int sched_getcpu(void);

#endif
