/* The counter CSRs read around a loop of known length (tests/test_blockcount.py): rdinstret
   and rdcycle twice each, with rdtime, then the same in a forked child on another hart. The
   loop is 2 instructions an iteration; from one read of a counter to the next run the three
   reads, the `mv` that sets up the loop and the loop: 4 + 2n instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void measure(const char *who, long n)
{
    unsigned long i0, c0, t0, i1, c1, t1;
    __asm__ volatile(
        "rdinstret %0\n"
        "rdcycle %1\n"
        "rdtime %2\n"
        "mv t1, %6\n"
        "1: addi t1, t1, -1\n"
        "bnez t1, 1b\n"
        "rdinstret %3\n"
        "rdcycle %4\n"
        "rdtime %5\n"
        : "=&r"(i0), "=&r"(c0), "=&r"(t0), "=&r"(i1), "=&r"(c1), "=&r"(t1)
        : "r"(n) : "t1");
    printf("%s: instret %lu cycle %lu time %lu; deltas %lu %lu %lu\n", who, i0, c0, t0,
           i1 - i0, c1 - c0, t1 - t0);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    measure("parent", n);
    fflush(stdout);
    if (fork() == 0) {
        measure("child", n);
        return 0;
    }
    wait(0);
    return 0;
}
