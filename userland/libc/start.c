#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"

char **environ;

int main(int argc, char **argv, char **envp);

_Noreturn void __libc_start(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    environ = argv + argc + 1;
    exit(main(argc, argv, environ));
}

#define ATEXIT_MAX 32
static void (*atexit_fns[ATEXIT_MAX])(void);
static int atexit_n;

int atexit(void (*fn)(void))
{
    if (atexit_n == ATEXIT_MAX)
        return -1;
    atexit_fns[atexit_n++] = fn;
    return 0;
}

_Noreturn void exit(int status)
{
    while (atexit_n > 0)
        atexit_fns[--atexit_n]();
    __stdio_flush_all();
    _Exit(status);
}

_Noreturn void _Exit(int status)
{
    for (;;)
        __sys_exit_group(status);
}

_Noreturn void _exit(int status)
{
    _Exit(status);
}

long __syscall_ret(long r)
{
    if (r < 0 && r >= -4095) {
        errno = (int)-r;
        return -1;
    }
    return r;
}
