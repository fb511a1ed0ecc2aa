/* nullsys N: N getppid() calls, the cheapest system call, through the raw stub. */
#include <stdlib.h>

long __sys_getppid(void);

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    for (long i = 0; i < n; i++)
        __sys_getppid();
    return 0;
}
