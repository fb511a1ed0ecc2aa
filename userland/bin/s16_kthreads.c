/* S16: the kernel thread is the unit of scheduling. ps (one row per kernel thread) lists
   the LWPs of every process, each backed by a kernel thread, and beside them pure kernel
   threads (PID 0, name in brackets: the reaper, the deferred-work daemon) that have no
   user context at all. This program starts 2 threads, runs ps and checks both kinds. */
#include <demo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

static volatile int done;

static void *idle(void *arg)
{
    (void)arg;
    struct timespec ms = { 0, 1000000 };
    while (!done)
        nanosleep(&ms, 0);
    return 0;
}

static char *run_ps(void)
{
    static char out[8192];
    return capture("/bin/ps", out, sizeof out) == 0 ? out : 0;
}

int main(void)
{
    thread_t t[2];
    for (int i = 0; i < 2; i++)
        if (thread_create(&t[i], idle, 0)) {
            printf("S16 FAILED: thread_create\n");
            return 1;
        }
    char *ps = run_ps();
    done = 1;
    for (int i = 0; i < 2; i++)
        thread_join(t[i], 0);
    if (!ps) {
        printf("S16 FAILED: could not run ps\n");
        return 1;
    }
    printf("%s", ps);
    int kthreads = 0, lwps = 0, mine = 0, order_ok = 1, names_ok = 1;
    char names[256] = "";
    for (char *line = strchr(ps, '\n'); line && line[1]; ) {   /* skip the header */
        line++;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char *end;
        long pid = strtol(line, &end, 10);
        char *name = strrchr(line, ' ');
        name = name ? name + 1 : line;
        if (pid == 0) {
            kthreads++;
            if (name[0] != '[' || name[strlen(name) - 1] != ']')
                names_ok = 0;
            if (strlen(names) + strlen(name) + 2 < sizeof names) {
                if (names[0])
                    strcat(names, " ");
                strcat(names, name);
            }
        } else {
            lwps++;
            order_ok &= kthreads == 0;   /* every LWP comes before the kernel threads */
            mine += pid == getpid();
        }
        line = nl;
    }
    printf("%d LWPs (%d of this process), %d pure kernel threads: %s\n", lwps, mine, kthreads, names);
    if (kthreads >= 2 && names_ok && mine == 3 && order_ok) {
        printf("S16 OK: the kernel schedules %d LWPs and %d pure kernel threads (%s), "
               "all kernel threads\n", lwps, kthreads, names);
        return 0;
    }
    printf("S16 FAILED: kernel threads %d (names %s), LWPs of this process %d (want 3), order %s\n",
           kthreads, names_ok ? "ok" : "not bracketed", mine, order_ok ? "ok" : "mixed");
    return 1;
}
