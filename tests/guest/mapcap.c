/* The number of mappings is capped as on Linux (vm.max_map_count): past it mmap, and a
   munmap or mprotect that would split a mapping, fail with ENOMEM (tests/test_vm.py).
   mapcap N: maps up to N single pages, alternating PROT_READ and PROT_READ|PROT_WRITE so
   that no two neighbours merge; prints how many it got and the errno that stopped it, then
   what munmap and mprotect of a page inside a 3-page mapping give. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096L

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 70000, got = 0;
    char *big = mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int err = 0;
    for (long i = 0; i < n; i++) {
        void *p = mmap(0, PAGE, i & 1 ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            err = errno;
            break;
        }
        got++;
    }
    printf("mapped %ld, then %s\n", got, err ? strerror(err) : "no error");
    errno = 0;
    int u = munmap(big + PAGE, PAGE);
    printf("munmap split: %d %s\n", u, u ? strerror(errno) : "");
    errno = 0;
    int m = mprotect(big + PAGE, PAGE, PROT_READ);
    printf("mprotect split: %d %s\n", m, m ? strerror(errno) : "");
    big[0] = 1;                                    /* the mapping is whole and writable */
    printf("mprotect whole: %d\n", mprotect(big, 3 * PAGE, PROT_READ));
    return 0;
}
