/* spin N [P [W]]: P processes (default 1) each run a loop of N iterations of W instructions
   (W = 2, the default, or 4), one translated block an iteration. Prints "spin start" before
   the first fork and "spin done" after the last wait: make bench times the host between the
   two lines, and runs the same loops (symbols spin_loop, spin_loop4) under bare unicorn.
   The branches go to local labels: to a global symbol the assembler emits `beqz` over a `j`
   (in case it is out of reach), which would split each iteration into two blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void spin(long n) {
    __asm__ volatile(
        "mv t1, %0\n"
        ".globl spin_loop\n"
        "spin_loop:\n"
        "1: addi t1, t1, -1\n"
        "bnez t1, 1b\n" : : "r"(n) : "t1");
}

__attribute__((noinline)) static void spin4(long n) {
    __asm__ volatile(
        "mv t1, %0\n"
        ".globl spin_loop4\n"
        "spin_loop4:\n"
        "1: addi t0, t0, 1\n"
        "addi t1, t1, -1\n"
        "xor t2, t2, t0\n"
        "bnez t1, 1b\n" : : "r"(n) : "t0", "t1", "t2");
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int procs = argc > 2 ? atoi(argv[2]) : 1;
    void (*loop)(long) = argc > 3 && atoi(argv[3]) == 4 ? spin4 : spin;
    printf("spin start\n");
    fflush(stdout);
    for (int i = 1; i < procs; i++)
        if (fork() == 0) {
            loop(n);
            _exit(0);
        }
    loop(n);
    while (wait(NULL) > 0)
        ;
    printf("spin done\n");
    return 0;
}
