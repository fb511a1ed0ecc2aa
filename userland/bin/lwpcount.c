/* lwpcount: the syscall lab's test program (docs/labs.md). It asks the new system call
   lwpcount(pid) how many LWPs the kernel sees: of this process alone, with three 1:1
   threads, after joining them, of a child that runs four green threads on one LWP (M:1)
   and of one that runs them over a pool of two (M:N); then the errors: no such process
   (ESRCH) and a negative pid (EINVAL). One line each: "NAME: VALUE". Until the call is in
   the system-call table the program says so and exits 1. */
#include <errno.h>
#include <kos.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#ifdef SYS_lwpcount

static volatile int stop;

static void *sleeper(void *arg)
{
    struct timespec ts = { 0, 1000000 };
    while (!stop)
        nanosleep(&ts, 0);
    return arg;
}

static void *green(void *arg)
{
    for (;;)
        uthread_yield();
    return arg;
}

/* A child running four green threads under model (with nlwps LWPs under M:N): it writes a
   byte to fd once they all exist, then keeps yielding until killed. */
static int green_child(int model, int nlwps, int fd)
{
    int pid = fork();
    if (pid != 0)
        return pid;
    uthread_t t;
    if (uthread_init(model, nlwps))
        _exit(1);
    for (int i = 0; i < 4; i++)
        if (uthread_create(&t, green, 0, 0))
            _exit(1);
    uthread_yield();
    if (write(fd, "r", 1) != 1)
        _exit(1);
    green(0);
    _exit(0);
}

static void of_child(const char *name, int model, int nlwps)
{
    int p[2];
    char c;
    if (pipe(p) < 0) {
        perror("lwpcount: pipe");
        return;
    }
    int pid = green_child(model, nlwps, p[1]);
    if (pid < 0 || read(p[0], &c, 1) != 1) {
        printf("%s: the child did not start\n", name);
        return;
    }
    printf("%s: %d\n", name, lwpcount(pid));
    kill(pid, SIGKILL);
    waitpid(pid, 0, 0);
    close(p[0]);
    close(p[1]);
}

static void error(const char *name, int pid)
{
    errno = 0;
    int r = lwpcount(pid);
    printf("%s: %d %s\n", name, r, r < 0 ? strerror(errno) : "(no error)");
}

int main(void)
{
    thread_t t[3];
    printf("alone: %d\n", lwpcount(0));
    printf("alone, by pid: %d\n", lwpcount(getpid()));
    for (int i = 0; i < 3; i++)
        thread_create(&t[i], sleeper, 0);
    printf("with 3 threads: %d\n", lwpcount(0));
    stop = 1;
    for (int i = 0; i < 3; i++)
        thread_join(t[i], 0);
    printf("after joining them: %d\n", lwpcount(0));
    of_child("M:1 child, 4 green threads", UTHREAD_M1, 1);
    of_child("M:N child, 4 green threads on 2 LWPs", UTHREAD_MN, 2);
    error("no such process", 30000);
    error("negative pid", -1);
    return 0;
}

#else

int main(void)
{
    printf("lwpcount: the system call is not in kernel/syscalls.tbl yet (lab syscall)\n");
    return 1;
}

#endif
