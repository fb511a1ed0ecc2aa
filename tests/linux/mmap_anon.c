/* Anonymous private mappings: zero fill, protection faults, MAP_FIXED, partial munmap,
 * MAP_FIXED_NOREPLACE, MAP_POPULATE / MAP_NORESERVE, the argument checks. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "linux.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static sigjmp_buf jump;
static volatile int fault_code;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jump, 1);
}

/* 1 if writing (or reading) *p faults, recording the signal's code and address. */
static int faults(volatile char *p, int write)
{
    fault_code = 0;
    fault_addr = 0;
    if (sigsetjmp(jump, 1) == 0) {
        if (write)
            *p = 1;
        else
            (void)*p;
        return 0;
    }
    return 1;
}

static const char *code(void)
{
    return fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long pg = sysconf(_SC_PAGESIZE);
    printf("page size: %ld\n", pg);

    size_t len = 64 << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!CHECK("mmap 64 MiB", m != MAP_FAILED))
        return 1;
    printf("page aligned: %d\n", ((uintptr_t)m & (pg - 1)) == 0);
    int zero = 1;
    for (size_t off = 0; off < len; off += 1 << 20)
        zero &= m[off] == 0, m[off] = 7;
    printf("zero filled, sparse writes ok: %d %d\n", zero, m[5 << 20] == 7);

    CHECK("munmap the middle page", munmap(m + 2 * pg, pg) == 0);
    printf("unmapped page: faults %d %s, si_addr right %d\n", faults(m + 2 * pg + 8, 0), code(),
           fault_addr == m + 2 * pg + 8);
    printf("neighbours intact: %d\n", !faults(m + pg, 1) && !faults(m + 3 * pg, 1));

    CHECK("mprotect read-only", mprotect(m, pg, PROT_READ) == 0);
    printf("write to read-only: faults %d %s; read ok %d\n", faults(m, 1), code(), !faults(m, 0));
    mprotect(m, pg, PROT_NONE);
    printf("PROT_NONE read: faults %d %s\n", faults(m + 100, 0), code());
    mprotect(m, pg, PROT_READ | PROT_WRITE);
    printf("writable again: %d\n", !faults(m, 1));
    RESULT("mprotect unaligned", mprotect(m + 1, pg, PROT_READ));

    char *fixed = mmap(m + 2 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the hole: at the address %d, zero %d\n", fixed == m + 2 * pg, fixed[0] == 0);
    m[4 * pg] = 9;
    fixed = mmap(m + 4 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED over a used page replaces it: %d\n", fixed == m + 4 * pg && fixed[0] == 0);
    char *nr = mmap(m + 5 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE over a mapping: %s\n", nr == MAP_FAILED ? errname(errno) : "mapped");
    char *hint = mmap(m + 6 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("a taken hint goes elsewhere: %d\n", hint != MAP_FAILED && hint != m + 6 * pg);
    munmap(hint, pg);
    CHECK("munmap all", munmap(m, len) == 0);
    printf("after munmap: faults %d %s\n", faults(m + len / 2, 1), code());
    CHECK("munmap of unmapped space", munmap(m, len) == 0);

    char *pop = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    printf("MAP_POPULATE: %s\n", pop != MAP_FAILED && pop[15 * pg] == 0 ? "ok" : errname(errno));
    char *nores = mmap(NULL, 1UL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    printf("MAP_NORESERVE 1 GiB: %s\n", nores != MAP_FAILED ? "ok" : errname(errno));
    if (nores != MAP_FAILED) {
        nores[(1UL << 30) - 1] = 1;
        munmap(nores, 1UL << 30);
    }
    char *stack = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    printf("MAP_STACK: every page usable %d\n", stack != MAP_FAILED && !faults(stack, 1) && !faults(stack + 7 * pg, 1));

    RESULT("length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    RESULT("neither private nor shared", mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    RESULT("MAP_FIXED unaligned", mmap((void *)0x12345, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0);
    RESULT("file mapping of a bad fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 77, 0) == MAP_FAILED ? -1 : 0);
    RESULT("munmap unaligned", munmap((void *)0x12345, pg));
    RESULT("mmap 1 TiB", mmap(NULL, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
    puts("done");
    return 0;
}
