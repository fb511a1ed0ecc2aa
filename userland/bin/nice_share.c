/* nice_share [-s S] SPEC...: CPU shares of processes of different nice values (the stride
   lab, docs/labs.md). Each SPEC is N or NxT: a process with nice N and T CPU-bound threads
   (default 1; no SPEC: 0 10 15). They compete for S virtual seconds (default 0.1), measured as in sched_share
   (lwpinfo: the sum over a process's LWPs, over the window), then are killed. Prints each
   process's CPU time and share, and the share stride scheduling gives it: its tickets
   (20 - nice) over the sum, whatever its thread count. Run it on one hart. */
#include <demo.h>
#include <kos.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define MAXP 8
#define MAXT 16

long __sys_setpriority(long which, long who, long prio);

static long cputime(int pid)
{
    static struct lwpinfo li[512];
    int n = lwpinfo(li, 512);
    long sum = 0;
    for (int i = 0; i < n; i++)
        if (li[i].pid == pid)
            sum += li[i].cputime_ns;
    return sum;
}

/* "0.25", "2", ".5" -> ns; -1 if not a number */
static long parse_ns(const char *s)
{
    long whole = 0, frac = 0, scale = 1;
    if (!*s)
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        whole = whole * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && scale < 1000000000L; s++) {
            frac = frac * 10 + (*s - '0');
            scale *= 10;
        }
    return *s ? -1 : whole * 1000000000L + frac * (1000000000L / scale);
}

/* "N" or "NxT" */
static int parse_spec(const char *s, int *nice, int *nt)
{
    char *end;
    long n = strtol(s, &end, 10);
    long t = 1;
    if (end == s)
        return -1;
    if (*end == 'x') {
        char *e2;
        t = strtol(end + 1, &e2, 10);
        if (e2 == end + 1 || *e2)
            return -1;
    } else if (*end) {
        return -1;
    }
    if (n < -20 || n > 19 || t < 1 || t > MAXT)
        return -1;
    *nice = (int)n;
    *nt = (int)t;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *dflt[] = { "0", "10", "15" };
    int a = 1;
    long window = 100000000L;
    if (a + 1 < argc && argv[a][0] == '-' && argv[a][1] == 's' && !argv[a][2]) {
        window = parse_ns(argv[a + 1]);
        a += 2;
    }
    const char **specs = argc > a ? (const char **)argv + a : dflt;
    int np = argc > a ? argc - a : 3;
    int nice[MAXP], nt[MAXP], pid[MAXP];
    if (window <= 0 || np > MAXP) {
        fprintf(stderr, "nice_share: -s takes seconds > 0; at most %d processes\n", MAXP);
        return 2;
    }
    for (int i = 0; i < np; i++)
        if (parse_spec(specs[i], &nice[i], &nt[i]) < 0) {
            fprintf(stderr, "usage: nice_share [-s SECONDS] NICE[xTHREADS]...: nice -20..19, 1..%d threads\n",
                    MAXT);
            return 2;
        }
    fflush(stdout);
    for (int i = 0; i < np; i++) {
        pid[i] = fork();
        if (pid[i] < 0) {
            perror("nice_share: fork");
            return 1;
        }
        if (pid[i] == 0) {
            if (__sys_setpriority(0, 0, nice[i]) < 0)
                _exit(1);
            thread_t t;
            for (int j = 1; j < nt[i]; j++)
                if (thread_create(&t, spin_forever, (void *)(long)j))
                    _exit(1);
            spin_forever(0);
        }
    }
    vsleep(20000000);           /* let them all get going */
    long c0[MAXP], d[MAXP], sum = 0;
    int tickets = 0;
    for (int i = 0; i < np; i++)
        c0[i] = cputime(pid[i]);
    vsleep(window);
    for (int i = 0; i < np; i++) {
        d[i] = cputime(pid[i]) - c0[i];
        sum += d[i];
        tickets += 20 - nice[i];
    }
    for (int i = 0; i < np; i++) {
        kill(pid[i], SIGKILL);
        waitpid(pid[i], 0, 0);
    }
    if (sum <= 0) {
        printf("nice_share FAILED: no CPU time measured\n");
        return 1;
    }
    for (int i = 0; i < np; i++)
        printf("process %d (pid %d, nice %d, %d thread%s): %ld ns CPU, share %.3f (stride: %d/%d = %.3f)\n",
               i, pid[i], nice[i], nt[i], nt[i] > 1 ? "s" : "", d[i], (double)d[i] / (double)sum,
               20 - nice[i], tickets, (double)(20 - nice[i]) / tickets);
    return 0;
}
