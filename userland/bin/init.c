/* init: start PROG (default /bin/sh), reap every child, exit with PROG's status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char *def[] = { "/bin/sh", NULL };
    char **args = argc > 1 ? argv + 1 : def;
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "init: fork: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        execv(args[0], args);
        fprintf(stderr, "init: exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        int status;
        pid_t pid = wait4(-1, &status, 0, NULL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "init: wait4: %s\n", strerror(errno));
            return 1;
        }
        if (pid == child) {
            /* Drain children that are already zombies, then leave with PROG's status. */
            while (wait4(-1, NULL, WNOHANG, NULL) > 0)
                ;
            return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        }
    }
}
