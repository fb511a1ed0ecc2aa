/* vmstress maps N: N one-page mmaps, each touched, alternating PROT_READ|PROT_WRITE and
   PROT_READ|PROT_WRITE|PROT_EXEC so that no two merge (N regions).
   vmstress malloc SIZE: malloc(SIZE) and touch the block until malloc fails or the kernel
   kills the process for want of memory. Prints what it did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "maps";
    long n = argc > 2 ? atol(argv[2]) : 12000, i;
    if (!strcmp(mode, "malloc")) {
        for (i = 0;; i++) {
            char *p = malloc(n);
            if (!p)
                break;
            p[0] = 1;
            if ((i & 1023) == 0)
                printf("%ld blocks\n", i);
        }
        printf("malloc failed after %ld blocks\n", i);
        return 0;
    }
    for (i = 0; i < n; i++) {
        int prot = PROT_READ | PROT_WRITE | (i & 1 ? PROT_EXEC : 0);
        char *p = mmap(0, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            break;
        p[0] = 1;
    }
    printf("mapped %ld\n", i);
    return 0;
}
