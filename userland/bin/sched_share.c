/* sched_share [T [S]]: CPU shares under the kernel's scheduling policy (claim S14).
   Forks process A with T CPU-bound threads (default 8) and process B with 1 CPU-bound
   thread, lets them compete for S virtual seconds (default 0.2), measuring the CPU time
   each consumed in that window (lwpinfo: the sum over its LWPs), then kills both.
   Run it on one hart: a flat round robin over threads gives A about T/(T+1), the
   two-level policy (fair between processes, then between their threads) about 1/2. */
#include <demo.h>
#include <kos.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define MAXT 64

static void *spin(void *arg)
{
    volatile unsigned long x = (unsigned long)arg;
    for (;;)
        x = x * 3 + 1;
    return 0;
}

static void vsleep(long ns)
{
    struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

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
            if (thread_create(&t, spin, (void *)(long)i))
                _exit(1);
        thread_join(t, 0);   /* blocks for good: main is not one of the T */
        _exit(1);
    }
    pid_t b = fork();
    if (b == 0)
        spin(0);
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
    printf("share of A: %.3f (flat over threads: %d/%d = %.3f, two-level: 0.500)\n", share, nt,
           nt + 1, (double)nt / (nt + 1));
    printf("S14 OK: the %d-thread process got %.3f of the CPU, the 1-thread process %.3f\n", nt,
           share, 1 - share);
    return 0;
}
