/* nullsys N: N getppid() calls, the cheapest system call, through the raw stub, between
   the lines "nullsys start" and "nullsys done" (make bench times the host between them). */
#include <stdio.h>
#include <stdlib.h>

long __sys_getppid(void);

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    printf("nullsys start\n");
    fflush(stdout);
    for (long i = 0; i < n; i++)
        __sys_getppid();
    printf("nullsys done\n");
    return 0;
}
