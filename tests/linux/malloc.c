/* malloc family: sizes from bytes to megabytes, realloc, calloc, alignment, many blocks. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "linux.h"

static unsigned long rng = 12345;
/* The failing requests go through pointers the compiler cannot see through: clang folds an
 * impossible malloc to NULL itself, and assumes that malloc leaves errno alone. */
static void *(*volatile malloc_)(size_t) = malloc;
static void *(*volatile calloc_)(size_t, size_t) = calloc;
static void *volatile sink;
static unsigned long next(void)
{
    rng = rng * 6364136223846793005UL + 1442695040888963407UL;
    return rng >> 33;
}

static int filled(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t sizes[] = {1, 24, 100, 4096, 65536, 200000, 1 << 20, 8 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = malloc(sizes[i]);
        int ok = p != NULL && malloc_usable_size(p) >= sizes[i];
        if (ok) {
            memset(p, 0xa5, sizes[i]);
            ok = filled(p, sizes[i], 0xa5);
        }
        printf("malloc %zu: %s\n", sizes[i], ok ? "ok" : "FAILED");
        free(p);
    }

    unsigned char *p = malloc(16);
    for (int i = 0; i < 16; i++)
        p[i] = i;
    size_t grow[] = {100, 5000, 300000, 3 << 20, 50};
    int kept = 1;
    for (size_t i = 0; i < sizeof grow / sizeof grow[0]; i++) {
        p = realloc(p, grow[i]);
        for (int j = 0; j < 16; j++)
            kept &= p[j] == j;
    }
    printf("realloc keeps contents through 100..3M..50: %s\n", kept ? "ok" : "FAILED");
    free(p);

    unsigned char *z = calloc(1000, 1000);
    printf("calloc 1000x1000 zeroed: %s\n", z && filled(z, 1000000, 0) ? "ok" : "FAILED");
    free(z);
    errno = 0;
    sink = calloc_((size_t)1 << 62, 8);
    printf("calloc overflow: %s %s\n", sink ? "non-NULL" : "NULL", errname(errno));

    void *a = NULL;
    int r = posix_memalign(&a, 4096, 10000);
    printf("posix_memalign 4096: %s\n", r == 0 && ((uintptr_t)a & 4095) == 0 ? "ok" : "FAILED");
    free(a);
    r = posix_memalign(&a, 3, 10);
    printf("posix_memalign alignment 3: %s\n", errname(r));
    a = aligned_alloc(64, 640);
    printf("aligned_alloc 64: %s\n", a && ((uintptr_t)a & 63) == 0 ? "ok" : "FAILED");
    free(a);

    enum { N = 20000 };
    static unsigned char *blocks[N];
    static size_t lens[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            if (blocks[i] && next() % 2) {
                if (!filled(blocks[i], lens[i], (unsigned char)i))
                    printf("block %d corrupted\n", i);
                free(blocks[i]);
                blocks[i] = NULL;
            }
            if (!blocks[i]) {
                lens[i] = 1 + next() % (next() % 8 == 0 ? 20000 : 200);
                blocks[i] = malloc(lens[i]);
                memset(blocks[i], (unsigned char)i, lens[i]);
            }
        }
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        bad += !filled(blocks[i], lens[i], (unsigned char)i);
        free(blocks[i]);
    }
    printf("20000 blocks, 3 rounds of random free and malloc: %d corrupted\n", bad);

    errno = 0;
    sink = malloc_((size_t)1 << 46);
    printf("malloc 64 TiB: %s %s\n", sink ? "non-NULL" : "NULL", errname(errno));
    free(sink);
    errno = 0;
    sink = malloc_(SIZE_MAX - 100);
    printf("malloc SIZE_MAX-100: %s %s\n", sink ? "non-NULL" : "NULL", errname(errno));
    puts("done");
    return 0;
}
