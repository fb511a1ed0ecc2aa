/* spin N [P]: P processes (default 1) each run a loop of 2*N instructions, one translated
   block an iteration. Prints "spin start" before the first fork and "spin done" after the
   last wait: make bench times the host between the two lines. tools/bench.py runs the same loop (symbol spin_loop) under bare
   unicorn. The branch goes to a local label: to the global symbol the assembler emits
   `beqz` over a `j` (in case it is out of reach), a loop of 3 instructions in 2 blocks. */
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

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int procs = argc > 2 ? atoi(argv[2]) : 1;
    printf("spin start\n");
    fflush(stdout);
    for (int i = 1; i < procs; i++)
        if (fork() == 0) {
            spin(n);
            _exit(0);
        }
    spin(n);
    while (wait(NULL) > 0)
        ;
    printf("spin done\n");
    return 0;
}
