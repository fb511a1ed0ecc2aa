/* S7: a crash in one thread takes down the whole process, and only that process.
   The parent forks a child that runs 4 threads; each reports its lwpid on a pipe and then
   writes heartbeats to it; thread 3 writes to address 0x10. The kernel kills the child by
   SIGSEGV: all 4 threads die together (the pipe reaches EOF: no writer is left, and
   lwpinfo lists no LWP of the child). A sibling process and the parent live on. */
#include <errno.h>
#include <kos.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

#define N 4
#define CRASHER 3

static int wfd;
static mutex_t m = MUTEX_INITIALIZER;
static cond_t cv = COND_INITIALIZER;
static int ready;

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, 0);
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    dprintf(wfd, "ready %d %d\n", i, thread_self());
    mutex_lock(&m);
    ready++;
    cond_broadcast(&cv);
    while (ready < N)
        cond_wait(&cv, &m);
    mutex_unlock(&m);
    if (i == CRASHER) {
        msleep(5);
        dprintf(wfd, "crash %d %d\n", i, thread_self());
        *(volatile int *)0x10 = 42;
    }
    for (int beat = 1;; beat++) {
        dprintf(wfd, "beat %d %d\n", i, beat);
        msleep(1);
    }
}

static void child(void)
{
    thread_t t[N];
    for (int i = 0; i < N; i++)
        if (thread_create(&t[i], worker, (void *)(long)i))
            _exit(98);
    for (int i = 0; i < N; i++)
        thread_join(t[i], 0);
    _exit(97);   /* not reached: the crash ends every thread, main included */
}

static int sibling(void)
{
    volatile unsigned long sum = 0;
    for (long i = 0; i < 200000; i++)
        sum += (unsigned long)i * i;
    msleep(20);   /* outlive the crash */
    return sum ? 0 : 1;
}

int main(void)
{
    int p[2];
    if (pipe(p) < 0) {
        perror("S7 FAILED: pipe");
        return 1;
    }
    fflush(stdout);
    pid_t sib = fork();
    if (sib == 0) {
        close(p[0]);
        close(p[1]);
        _exit(sibling());
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("S7 FAILED: fork");
        return 1;
    }
    if (pid == 0) {
        close(p[0]);
        wfd = p[1];
        child();
    }
    close(p[1]);
    printf("parent %d: child %d runs %d threads, thread %d will write to address 0x10\n",
           getpid(), pid, N, CRASHER);

    /* Read the child's reports until EOF: EOF means no thread of the child is left. */
    int lwps[N] = { 0 }, beats[N] = { 0 }, after[N] = { 0 }, crashed = 0;
    char buf[4096], line[64];
    size_t ln = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        for (ssize_t k = 0; k < n; k++) {
            if (buf[k] != '\n') {
                if (ln < sizeof line - 1)
                    line[ln++] = buf[k];
                continue;
            }
            line[ln] = 0;
            ln = 0;
            char *what = line, *sp = strchr(line, ' '), *end;
            if (!sp)
                continue;
            *sp = 0;
            int i = (int)strtol(sp + 1, &end, 10), v = (int)strtol(end, 0, 10);
            if (i < 0 || i >= N)
                continue;
            if (strcmp(what, "ready") == 0) {
                lwps[i] = v;
                printf("child thread %d is lwp %d\n", i, v);
            } else if (strcmp(what, "crash") == 0) {
                crashed = 1;
                printf("child thread %d (lwp %d): writing to address 0x10\n", i, v);
            } else if (strcmp(what, "beat") == 0) {
                beats[i]++;
                after[i] += crashed;
            }
        }
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        perror("S7 FAILED: waitpid");
        return 1;
    }
    int segv = WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
    if (segv)
        printf("child %d killed by signal %d (SIGSEGV)\n", pid, WTERMSIG(st));
    else
        printf("child %d: status 0x%x, not killed by SIGSEGV\n", pid, st);
    for (int i = 0; i < N; i++)
        printf("child thread %d (lwp %d): %d heartbeats\n", i, lwps[i], beats[i]);

    /* The kernel's view: no LWP of the child may remain. */
    struct lwpinfo li[256];
    int nl = lwpinfo(li, 256), left = 0;
    for (int k = 0; k < nl; k++)
        for (int i = 0; i < N; i++)
            if (li[k].lwpid == lwps[i] || li[k].pid == pid)
                left++;
    printf("LWPs of child %d left in the kernel: %d\n", pid, left);

    int sst;
    waitpid(sib, &sst, 0);
    int sib_ok = WIFEXITED(sst) && WEXITSTATUS(sst) == 0;
    printf("sibling %d %s\n", sib, sib_ok ? "exited 0" : "did not finish normally");

    int all_started = 1;
    for (int i = 0; i < N; i++)
        all_started &= lwps[i] > 0;
    if (segv && crashed && all_started && nl >= 0 && left == 0 && sib_ok) {
        printf("S7 OK: one thread faulted, all %d threads of process %d died with it; "
               "parent %d and sibling %d lived on\n", N, pid, getpid(), sib);
        return 0;
    }
    printf("S7 FAILED: segv=%d crashed=%d started=%d lwps-left=%d sibling=%d\n", segv, crashed,
           all_started, left, sib_ok);
    return 1;
}
