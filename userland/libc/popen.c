/* popen/pclose (POSIX): a command run by /bin/sh -c with its stdout (mode "r") or stdin
   (mode "w") on a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXPOPEN 8
static struct { FILE *f; pid_t pid; } popened[MAXPOPEN];

FILE *popen(const char *cmd, const char *mode)
{
    int reading = mode[0] == 'r';
    if ((mode[0] != 'r' && mode[0] != 'w') || mode[1]) {
        errno = EINVAL;
        return 0;
    }
    int slot = 0;
    while (slot < MAXPOPEN && popened[slot].f)
        slot++;
    int p[2];
    if (slot == MAXPOPEN) {
        errno = EMFILE;
        return 0;
    }
    if (pipe2(p, O_CLOEXEC) < 0)
        return 0;
    fflush(0);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return 0;
    }
    if (pid == 0) {
        dup2(p[reading ? 1 : 0], reading ? 1 : 0);   /* dup2 clears close-on-exec */
        char *argv[] = { "sh", "-c", (char *)cmd, 0 };
        execv("/bin/sh", argv);
        _exit(127);
    }
    close(p[reading ? 1 : 0]);
    FILE *f = fdopen(p[reading ? 0 : 1], mode);
    if (!f) {
        close(p[reading ? 0 : 1]);
        waitpid(pid, 0, 0);
        return 0;
    }
    popened[slot].f = f;
    popened[slot].pid = pid;
    return f;
}

int pclose(FILE *f)
{
    int slot = 0;
    while (slot < MAXPOPEN && popened[slot].f != f)
        slot++;
    if (slot == MAXPOPEN) {
        errno = ECHILD;
        return -1;
    }
    pid_t pid = popened[slot].pid;
    popened[slot].f = 0;
    fclose(f);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}
