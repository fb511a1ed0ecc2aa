/* fork and wait: exit statuses, signals, WNOHANG, ECHILD, process ids, memory copies. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

static int global = 1;

static void show(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: status %#x\n", what, status);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t me = getpid();
    int status;
    int *heap = malloc(sizeof *heap);
    *heap = 10;
    pid_t pid = fork();
    if (pid == 0) {
        global = 2, *heap = 20;
        printf("child: parent is the forker %d, own pid differs %d, copies %d %d\n",
               getppid() == me, getpid() != me, global, *heap);
        exit(3);
    }
    pid_t w = waitpid(pid, &status, 0);
    printf("waitpid returned the child: %d\n", w == pid);
    show("exit(3)", status);
    printf("parent copies unchanged: %d %d\n", global, *heap);

    if ((pid = fork()) == 0)
        _exit(300);
    waitpid(pid, &status, 0);
    show("_exit(300)", status);

    if ((pid = fork()) == 0)
        abort();
    waitpid(pid, &status, 0);
    show("abort()", status);

    if ((pid = fork()) == 0) {
        *(volatile int *)0 = 1;
        _exit(0);
    }
    waitpid(pid, &status, 0);
    show("null store", status);

    int fds[2];
    pipe(fds);
    if ((pid = fork()) == 0) {
        char c;
        close(fds[1]);
        read(fds[0], &c, 1);          /* blocks until the parent closes its end */
        _exit(0);
    }
    close(fds[0]);
    printf("WNOHANG on a running child: %d\n", waitpid(pid, &status, WNOHANG));
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    show("SIGTERM", status);
    close(fds[1]);

    for (int i = 0; i < 5; i++)
        if (fork() == 0)
            _exit(10 + i);
    int sum = 0, n = 0;
    while ((w = wait(&status)) > 0)
        sum += WEXITSTATUS(status), n++;
    printf("wait reaped %d children, statuses sum %d, then %s\n", n, sum, errname(errno));
    RESULT("waitpid(-1) with no children", waitpid(-1, &status, 0));
    RESULT("waitpid of a stranger", waitpid(1, &status, 0));

    if ((pid = fork()) == 0) {
        if (fork() == 0) {          /* grandchild outlives its parent: reparented */
            usleep(20000);
            printf("orphan's parent is no longer the child: %d\n", getppid() != me);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(pid, &status, 0);
    usleep(300000);                 /* the orphan prints meanwhile */
    if ((pid = fork()) == 0)
        _exit(setpgid(0, 0) == 0 && getpgid(0) == getpid() ? 0 : 1);
    waitpid(pid, &status, 0);
    show("child that set its process group", status);
    printf("getpgid(0) == getpgrp(): %d\n", getpgid(0) == getpgrp());
    puts("done");
    return 0;
}
