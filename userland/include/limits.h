#ifndef _LIMITS_H_KOS
#define _LIMITS_H_KOS
#include_next <limits.h>

#define PATH_MAX 4096
#define NAME_MAX 255
#define PIPE_BUF 4096
#define ARG_MAX 131072

#endif
