/* sched_share [T [S]]: CPU shares under the kernel's scheduling policy (claim S14).
   Forks process A with T CPU-bound threads (default 8) and process B with 1 CPU-bound
   thread, lets them compete for S virtual seconds (default 0.2), measuring the CPU time
   each consumed in that window (lwpinfo: the sum over its LWPs), then kills both.
   A flat round robin over threads gives A about T/(T+1); the two-level policy (fair between
   processes across the machine, then between their threads) 1/2 on one or two harts, and
   on H harts what is left when B has its one hart (H/2 each, up to what one can use). The
   program judges: PASS if A's share is one of the two within TOLERANCE, else FAIL (exit 1). */
#include <demo.h>
#include <kos.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define MAXT 64
#define TOLERANCE 0.03    /* how far a measured share may be from a policy's */

/* CPU time of every LWP of pid, summed; -1 if it has none. */
static long cputime(int pid, int *nlwp)
{
    static struct lwpinfo li[512];
    int n = lwpinfo(li, 512);
    long sum = 0;
    *nlwp = 0;
    for (int i = 0; i < n; i++)
        if (li[i].pid == pid) {
            sum += li[i].cputime_ns;
            ++*nlwp;
        }
    return *nlwp ? sum : -1;
}

/* The harts this process may run on: the machine's, unless restricted. */
static int harts(void)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return 1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        n += CPU_ISSET(i, &set) ? 1 : 0;
    return n ? n : 1;
}

static double fabs_(double x)
{
    return x < 0 ? -x : x;
}

static double parse_seconds(const char *s)
{
    /* strtod-free: "0.25", "2", ".5" */
    long whole = 0, frac = 0, scale = 1;
    for (; *s >= '0' && *s <= '9'; s++)
        whole = whole * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && scale < 1000000000L; s++) {
            frac = frac * 10 + (*s - '0');
            scale *= 10;
        }
    return whole + (double)frac / scale;
}

int main(int argc, char **argv)
{
    int nt = argc > 1 ? atoi(argv[1]) : 8;
    double secs = argc > 2 ? parse_seconds(argv[2]) : 0.2;
    if (nt < 1 || nt > MAXT || secs <= 0) {
        fprintf(stderr, "usage: sched_share [T [S]]: 1 <= T <= %d threads, S > 0 seconds\n", MAXT);
        return 2;
    }
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
        thread_t t;
        for (int i = 0; i < nt; i++)
            if (thread_create(&t, spin_forever, (void *)(long)i))
                _exit(1);
        thread_join(t, 0);   /* blocks for good: main is not one of the T */
        _exit(1);
    }
    pid_t b = fork();
    if (b == 0)
        spin_forever(0);
    if (a < 0 || b < 0) {
        perror("sched_share: fork");
        return 1;
    }
    vsleep(20000000);   /* let both get going: A's threads exist from here on */
    int la, lb;
    long a0 = cputime(a, &la), b0 = cputime(b, &lb);
    vsleep((long)(secs * 1e9));
    long a1 = cputime(a, &la), b1 = cputime(b, &lb);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    waitpid(a, 0, 0);
    waitpid(b, 0, 0);
    long da = a1 - a0, db = b1 - b0;
    printf("costs: %s\n", costs_profile());
    printf("process A (pid %d, %d CPU-bound threads, %d LWPs): %ld ns CPU\n", a, nt, la, da);
    printf("process B (pid %d, 1 CPU-bound thread): %ld ns CPU\n", b, db);
    if (a0 < 0 || b0 < 0 || da + db <= 0) {
        printf("S14 FAILED: no CPU time measured\n");
        return 1;
    }
    double share = (double)da / (double)(da + db);
    int h = harts();
    /* flat: every thread one competitor, A's T threads against B's one. Two-level, fair
       between processes across the machine: B can use at most one hart and A at most T;
       each gets half the harts, and what one cannot use goes to the other. */
    double b_harts = h / 2.0 < 1 ? h / 2.0 : 1, a_harts = h - b_harts < nt ? h - b_harts : nt;
    double flat = (double)nt / (nt + 1), fair = a_harts / (a_harts + b_harts);
    int is_flat = fabs_(share - flat) <= TOLERANCE, is_fair = fabs_(share - fair) <= TOLERANCE;
    printf("share of A: %.3f (flat over threads: %d/%d = %.3f, two-level: %.3f on %d hart%s)\n", share,
           nt, nt + 1, flat, fair, h, h > 1 ? "s" : "");
    if (is_flat || is_fair)
        printf("S14 PASS: the %d-thread process got %.3f of the CPU, the 1-thread process %.3f: %s\n", nt,
               share, 1 - share, is_flat && is_fair ? "flat's and two-level's share" :
               is_flat ? "flat's share (every thread counts)" : "two-level's share (fair between processes)");
    else
        printf("S14 FAIL: the %d-thread process got %.3f of the CPU: neither flat's %.3f nor two-level's %.3f\n",
               nt, share, flat, fair);
    return is_flat || is_fair ? 0 : 1;
}
