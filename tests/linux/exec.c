/* exec: execve with argv and envp, execvp's PATH search, close-on-exec, posix_spawn,
 * system(), popen() and vfork(). The program runs itself as the child: `exec child ARGS`. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

extern char **environ;

static int child(int argc, char **argv)
{
    printf("child argc %d:", argc);
    for (int i = 2; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    const char *v = getenv("EXEC_TEST");
    printf("child EXEC_TEST=%s\n", v ? v : "(unset)");
    printf("child fd 5 open: %d, fd 6 open: %d\n", fcntl(5, F_GETFD) >= 0, fcntl(6, F_GETFD) >= 0);
    return 7;
}

static int run(const char *what, pid_t pid)
{
    int status;
    if (pid < 0) {
        printf("%s: %s\n", what, errname(errno));
        return -1;
    }
    waitpid(pid, &status, 0);
    printf("%s: exit %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *self = argv[0];

    int keep = dup2(1, 5);
    int drop = dup2(1, 6);
    fcntl(drop, F_SETFD, FD_CLOEXEC);
    (void)keep;
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = {(char *)self, "child", "one", "two words", "", NULL};
        char *env[] = {"EXEC_TEST=from execve", NULL};
        execve(self, args, env);
        printf("execve: %s\n", errname(errno));
        _exit(127);
    }
    run("execve", pid);
    close(5), close(6);

    if ((pid = fork()) == 0) {
        execl("/no/such/program", "x", (char *)NULL);
        printf("execl missing: %s\n", errname(errno));
        _exit(127);
    }
    run("execl missing", pid);
    if ((pid = fork()) == 0) {
        execl("/tmp", "x", (char *)NULL);
        printf("execl a directory: %s\n", errname(errno));
        _exit(127);
    }
    run("execl a directory", pid);
    int fd = open("/tmp/notelf", O_CREAT | O_TRUNC | O_WRONLY, 0755);
    write(fd, "just text, no ELF and no #!\n", 28);
    close(fd);
    if ((pid = fork()) == 0) {
        execl("/tmp/notelf", "notelf", (char *)NULL);
        printf("execl a text file: %s\n", errname(errno));
        _exit(127);
    }
    run("execl a text file", pid);
    unlink("/tmp/notelf");

    char dir[256];
    strncpy(dir, self, sizeof dir - 1);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : self;
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    char path[300];
    snprintf(path, sizeof path, "/nonexistent:%s", dir);
    setenv("PATH", path, 1);
    setenv("EXEC_TEST", "inherited", 1);
    if ((pid = fork()) == 0) {
        execlp(base, base, "child", "via PATH", (char *)NULL);
        printf("execlp: %s\n", errname(errno));
        _exit(127);
    }
    run("execlp", pid);

    char *sargs[] = {(char *)self, "child", "spawned", NULL};
    int err = posix_spawn(&pid, self, NULL, NULL, sargs, environ);
    if (err)
        printf("posix_spawn: %s\n", errname(err));
    else
        run("posix_spawn", pid);

    fflush(stdout);
    int st = system("exit 3");
    printf("system(\"exit 3\"): %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    FILE *p = popen("echo from popen", "r");
    char line[64] = {0};
    if (p && fgets(line, sizeof line, p))
        printf("popen read: %s", line);
    printf("pclose: %d\n", p ? WEXITSTATUS(pclose(p)) : -1);

    static volatile int shared_word;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = vfork()) == 0) {
        shared_word = 42;                /* Linux: the child runs on the parent's memory */
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);
        _exit(5);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("vfork: the parent sees the child's store %d, resumed after the child's exit %d\n",
           shared_word == 42, ms >= 20);
    run("vfork", pid);
    if ((pid = vfork()) == 0) {
        execl(self, self, "child", "after vfork", (char *)NULL);
        _exit(127);
    }
    run("vfork and execl", pid);
    puts("done");
    return 0;
}
