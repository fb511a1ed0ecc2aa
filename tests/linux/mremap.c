/* mremap (grow in place or move, shrink), madvise (MADV_DONTNEED zeroes private anonymous
 * pages), mincore, msync of anonymous memory. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4; i++)
        m[i * pg] = 'A' + i;
    char *g = mremap(m, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
    if (CHECK("mremap grow MREMAP_MAYMOVE", g != MAP_FAILED)) {
        printf("contents kept: %c%c%c%c, new pages zero %d\n", g[0], g[pg], g[2 * pg], g[3 * pg],
               g[63 * pg] == 0);
        g[63 * pg] = 'Z';
        char *s = mremap(g, 64 * pg, 2 * pg, 0);
        printf("mremap shrink stays in place: %d, %c%c\n", s == g, s[0], s[pg]);
        m = s;
    }
    mmap(m + 2 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    RESULT("mremap grow without MAYMOVE into a neighbour",
           mremap(m, 2 * pg, 4 * pg, 0) == MAP_FAILED ? -1 : 0);
    RESULT("mremap of unmapped memory", mremap((void *)pg, pg, 2 * pg, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);

    memset(m, 'x', 2 * pg);
    CHECK("madvise MADV_DONTNEED", madvise(m, pg, MADV_DONTNEED) == 0);
    printf("private anonymous page reads zero after MADV_DONTNEED: %d, next page kept %c\n", m[5] == 0,
           m[pg + 5]);
    CHECK("madvise MADV_WILLNEED", madvise(m, 2 * pg, MADV_WILLNEED) == 0);
    RESULT("madvise unaligned", madvise(m + 1, pg, MADV_DONTNEED));
    unsigned char vec[2];
    CHECK("mincore", mincore(m, 2 * pg, vec) == 0);
    printf("resident: %d %d\n", vec[0] & 1, vec[1] & 1);
    CHECK("msync of anonymous memory", msync(m, 2 * pg, MS_SYNC) == 0);
    RESULT("msync unaligned", msync(m + 1, pg, MS_SYNC));
    puts("done");
    return 0;
}
