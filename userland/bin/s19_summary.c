/* S19: user-level threads in one run. The seed's summary: "no kernel context-switch
   overhead, but a single blocking system call can stall the entire process, and true
   multi-core parallelism is impossible without kernel threads backing them."
   This program runs the three demos that show it, under M:1 and under M:N, and prints
   their figures side by side:
     S8   s8_switch             instructions per user-level switch (no system call)
     S10  s10_block             work the other threads did while one slept in the kernel
     S11  s11_parallel          virtual time of 4 CPU-bound threads / the serial time
   Run it on 4 harts (the default of tools.run). Each demo's own output is shown first. */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[8192];

/* Run the command line CMD (a program in /bin and its arguments) with its output in
   `out`; its exit status, or -1. */
static int run(const char *cmd)
{
    int st = capture(cmd, out, sizeof out);
    printf("$ %s\n%s", cmd, out);
    return st;
}

/* The (non-negative, decimal) number after `key` in out, or -1. */
static double after(const char *key)
{
    char *p = strstr(out, key);
    if (!p)
        return -1;
    char *end;
    double v = (double)strtol(p + strlen(key), &end, 10), scale = 0.1;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
            v += (*end - '0') * scale;
    return v;
}

int main(void)
{
    double sw[2], during[2], slept[2], ratio[2];
    int bad = 0;
    const char *s8[2] = { "s8_switch 2000 m1", "s8_switch 2000 mn" };
    const char *s10[2] = { "s10_block m1", "s10_block mn 2" };
    const char *s11[2] = { "s11_parallel m1", "s11_parallel mn 4" };
    for (int m = 0; m < 2; m++) {
        bad |= run(s8[m]) != 0;
        sw[m] = after("plain: ");
        sw[m] = sw[m] >= 0 ? after("instructions, ") : -1;
        bad |= run(s10[m]) != 0;
        during[m] = after("before the sleep, ");
        slept[m] = after("woke after ");
        bad |= run(s11[m]) != 0;
        ratio[m] = after("ratio to the serial time: ");
    }
    printf("\nS19: user-level threads, S8 + S10 + S11 in one run (costs: %s)\n", costs_profile());
    printf("%-40s %-24s %s\n", "", "M:1 (1 LWP)", "M:N (LWP pool)");
    char a[40], b[40];
    snprintf(a, sizeof a, "%.0f instr, no syscall", sw[0]);
    snprintf(b, sizeof b, "%.0f instr, no syscall (1 LWP)", sw[1]);
    printf("%-40s %-24s %s\n", "S8  user-level switch (2 threads, 1 LWP)", a, b);
    snprintf(a, sizeof a, "%.0f chunks in %.0f us", during[0], slept[0]);
    snprintf(b, sizeof b, "%.0f chunks in %.0f us (2 LWPs)", during[1], slept[1]);
    printf("%-40s %-24s %s\n", "S10 others' work while one thread sleeps", a, b);
    snprintf(a, sizeof a, "%.2f x serial", ratio[0]);
    snprintf(b, sizeof b, "%.2f x serial (4 LWPs)", ratio[1]);
    printf("%-40s %-24s %s\n", "S11 4 CPU-bound threads on 4 harts", a, b);
    if (!bad && sw[0] > 0 && sw[0] < 100 && during[0] == 0 && during[1] > 0 && ratio[0] >= 0.9 &&
        ratio[1] <= 0.35) {
        printf("S19 OK: M:1 switches without the kernel, but one blocking call stalls every "
               "thread and 4 threads get no speedup; LWPs under M:N restore both\n");
        return 0;
    }
    printf("S19 FAILED: a demo failed or a figure is off\n");
    return 1;
}
