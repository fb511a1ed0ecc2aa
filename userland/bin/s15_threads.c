/* S15: kernel threads are visible to the OS, which provides the thread library.
   s15_threads [N]: N threads (default 4) of the 1:1 library each print their lwpid and
   hart, then sleep; meanwhile main runs /bin/ps (fork + exec) and checks that every
   thread appears in it as an LWP of this process. */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define MAXT 32

static mutex_t m = MUTEX_INITIALIZER;
static cond_t cv = COND_INITIALIZER;
static int started;
static volatile int done;
static int lwp[MAXT];

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    lwp[i] = thread_self();
    printf("thread %d: lwp %d on hart %d\n", i, lwp[i], sched_getcpu());
    mutex_lock(&m);
    started++;
    cond_broadcast(&cv);
    mutex_unlock(&m);
    struct timespec ms = { 0, 1000000 };
    while (!done)
        nanosleep(&ms, 0);
    return 0;
}

/* Run /bin/ps with its output on a pipe; return the text (static buffer). */
static char *run_ps(void)
{
    static char out[8192];
    return capture("/bin/ps", out, sizeof out) == 0 ? out : 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 1 || n > MAXT) {
        fprintf(stderr, "usage: s15_threads [N], 1 <= N <= %d\n", MAXT);
        return 2;
    }
    int me = getpid();
    printf("main: pid %d, lwp %d on hart %d, starting %d threads\n", me, thread_self(),
           sched_getcpu(), n);
    thread_t t[MAXT];
    for (int i = 0; i < n; i++)
        if (thread_create(&t[i], worker, (void *)(long)i)) {
            printf("S15 FAILED: thread_create\n");
            return 1;
        }
    mutex_lock(&m);
    while (started < n)
        cond_wait(&cv, &m);
    mutex_unlock(&m);

    char *ps = run_ps();
    if (!ps) {
        printf("S15 FAILED: could not run ps\n");
        return 1;
    }
    printf("main: ps says\n%s", ps);
    int seen = 0, main_seen = 0;
    for (char *line = ps; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char *end;
        long pid = strtol(line, &end, 10), id = strtol(end, 0, 10);
        if (pid == me) {
            main_seen |= id == me;
            for (int i = 0; i < n; i++)
                seen += id == lwp[i];
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    done = 1;
    for (int i = 0; i < n; i++)
        thread_join(t[i], 0);
    if (seen == n && main_seen) {
        printf("S15 OK: ps lists all %d threads as LWPs of process %d, beside its main LWP\n", n, me);
        return 0;
    }
    printf("S15 FAILED: ps listed %d of %d threads%s\n", seen, n, main_seen ? "" : ", not main");
    return 1;
}
