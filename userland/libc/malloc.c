/* Size-class allocator: blocks of 2^k bytes (k = 5..20) carved from the brk heap and
   kept on per-class free lists; bigger requests get their own mmap. Every block has a
   16-byte header, so user pointers are 16-byte aligned. The free lists and the arena are
   shared by all threads: a futex lock (heap_lock) guards them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#define MIN_CLASS 5
#define MAX_CLASS 20
#define HDR 16
#define CHUNK (64 * 1024)
#define PAGE 4096

struct header {
    size_t size;   /* block size including header */
    size_t cls;    /* size class, or 0 for a block mmap'd on its own */
};

struct freeblock {
    struct header h;
    struct freeblock *next;
};

static struct freeblock *freelist[MAX_CLASS + 1];
static char *arena, *arena_end;
static volatile int heap_lock;

void __malloc_lock(void) { __lock(&heap_lock); }
void __malloc_unlock(void) { __unlock(&heap_lock); }

/* Make room for `size` more bytes in the arena: extend the brk heap, or map a new chunk. */
static int grow_arena(size_t size)
{
    size_t grow = size > CHUNK ? size : CHUNK;
    char *top = sbrk(0);
    if (top != (char *)-1 && top == arena_end) {
        if (sbrk((intptr_t)grow) != (void *)-1) {
            arena_end += grow;   /* contiguous: the old remainder stays usable */
            return 0;
        }
    } else if (top != (char *)-1) {
        size_t pad = (size_t)(-(uintptr_t)top & 15);
        if (sbrk((intptr_t)(pad + grow)) != (void *)-1) {
            arena = top + pad;
            arena_end = arena + grow;
            return 0;
        }
    }
    char *p = mmap(0, grow, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    arena = p;
    arena_end = p + grow;
    return 0;
}

static void *carve(size_t size)
{
    if ((size_t)(arena_end - arena) < size && grow_arena(size) < 0)
        return NULL;
    void *b = arena;
    arena += size;
    return b;
}

void *malloc(size_t n)
{
    if (n > ((size_t)1 << MAX_CLASS) - HDR) {
        if (n > SIZE_MAX / 2) {
            errno = ENOMEM;
            return NULL;
        }
        size_t size = (n + HDR + PAGE - 1) & ~(size_t)(PAGE - 1);
        struct header *h = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (h == MAP_FAILED)
            return NULL;
        h->size = size;
        h->cls = 0;
        return (char *)h + HDR;
    }
    size_t cls = MIN_CLASS;
    while (((size_t)1 << cls) < n + HDR)
        cls++;
    __lock(&heap_lock);
    struct header *h = (struct header *)freelist[cls];
    if (h) {
        freelist[cls] = freelist[cls]->next;
    } else {
        h = carve((size_t)1 << cls);
        if (!h) {
            __unlock(&heap_lock);
            errno = ENOMEM;
            return NULL;
        }
        h->size = (size_t)1 << cls;
        h->cls = cls;
    }
    __unlock(&heap_lock);
    return (char *)h + HDR;
}

void free(void *p)
{
    if (!p)
        return;
    struct header *h = (struct header *)((char *)p - HDR);
    if (h->cls == 0) {
        munmap(h, h->size);
        return;
    }
    struct freeblock *f = (struct freeblock *)h;
    __lock(&heap_lock);
    f->next = freelist[h->cls];
    freelist[h->cls] = f;
    __unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    size_t cap = ((struct header *)((char *)p - HDR))->size - HDR;
    if (n <= cap)
        return p;
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, cap);
        free(p);
    }
    return q;
}
