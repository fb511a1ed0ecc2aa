/* Sample program for the debugger tests: LWPs made with raw system calls (no thread
   library), a fork, a signal and a crash on request. Line numbers matter to the tests.
   dbgthreads [crash|fork] */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

long __sys_lwp_create(void *entry, void *arg, void *stack_top, long flags);
long __sys_lwp_exit(void);
long __sys_lwp_wait(long lwpid);

volatile long shared;

void bump(long by)
{
    __atomic_fetch_add(&shared, by, __ATOMIC_SEQ_CST);
}

void worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 3; i++)
        bump(id);
    __sys_lwp_exit();
}

static void *stack_top(void)
{
    char *s = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return s + 65536;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "crash")) {
        volatile int *bad = (int *)0x18;
        *bad = 1;
    }
    if (!strcmp(mode, "fork")) {
        int pid = fork();
        if (pid == 0) {
            bump(100);
            _exit(3);
        }
        int status;
        waitpid(pid, &status, 0);
        printf("child %d exit %d\n", pid, WEXITSTATUS(status));
        return 0;
    }
    long a = __sys_lwp_create(worker, (void *)1, stack_top(), 0);
    long b = __sys_lwp_create(worker, (void *)10, stack_top(), 0);
    __sys_lwp_wait(a);
    __sys_lwp_wait(b);
    printf("shared %ld\n", shared);
    return 0;
}
