/* execve as Linux: "#!" scripts (an interpreter with and without its argument, spaces and
 * tabs, no newline, a script as interpreter, ENOENT for a missing interpreter, ELOOP for a
 * loop, EACCES for one without an x bit, ENOEXEC for an empty "#!"), argv of 100000
 * strings, E2BIG past 2 MiB or for one string past 128 KiB, and argv NULL (argc 1, ""). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

static void put(const char *path, const char *text, int mode)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
}

static void run(const char *what, const char *path, char **argv, char **envp)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        execve(path, argv, envp);
        printf("%s: %s\n", what, errname(errno));
        exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (WEXITSTATUS(st) == 5)
        printf("  (%s)\n", what);
}

int main(int argc, char **argv)
{
    if (getenv("SHOW")) {                       /* the interpreter: print what it was given */
        printf("argc %d:", argc);
        for (int i = 0; i < argc && i < 5; i++)
            printf(" [%s]", argv[i]);
        printf("\n");
        return 5;
    }
    char *show[] = { "SHOW=1", 0 }, *av[] = { "arg0", "one", 0 };
    mkdir("/tmp/sc", 0755);
    int in = open("/proc/self/exe", O_RDONLY), out = open("/tmp/sc/show", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    static char buf[1 << 16];
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
    put("/tmp/sc/plain", "#!/tmp/sc/show\necho not read\n", 0755);
    run("plain", "/tmp/sc/plain", av, show);
    put("/tmp/sc/witharg", "#!/tmp/sc/show  -x  y \t\n", 0755);
    run("with an argument", "/tmp/sc/witharg", av, show);
    put("/tmp/sc/spaces", "#! \t/tmp/sc/show \t \n", 0755);
    run("spaces and tabs", "/tmp/sc/spaces", av, show);
    put("/tmp/sc/nonl", "#!/tmp/sc/show", 0755);
    run("no newline", "/tmp/sc/nonl", av, show);
    put("/tmp/sc/nested", "#!/tmp/sc/witharg\n", 0755);
    run("a script as interpreter", "/tmp/sc/nested", av, show);
    put("/tmp/sc/missing", "#!/tmp/sc/none\n", 0755);
    run("missing interpreter", "/tmp/sc/missing", av, show);
    put("/tmp/sc/loop", "#!/tmp/sc/loop\n", 0755);
    run("loop", "/tmp/sc/loop", av, show);
    put("/tmp/sc/nox", "#!/bin/sh\n", 0644);
    put("/tmp/sc/interpnox", "#!/tmp/sc/nox\n", 0755);
    run("interpreter without x", "/tmp/sc/interpnox", av, show);
    put("/tmp/sc/empty", "#!   \n", 0755);
    run("empty #!", "/tmp/sc/empty", av, show);

    char **big = calloc(100003, sizeof *big);
    big[0] = "big";
    for (int i = 1; i < 100002; i++)
        big[i] = "y";
    run("100001 strings", "/tmp/sc/show", big, show);
    char *huge = malloc(120000);
    memset(huge, 'z', 119999);
    huge[119999] = 0;
    char *many[22] = { "many" };
    for (int i = 1; i < 21; i++)
        many[i] = huge;
    run("20 strings of 120000 bytes", "/tmp/sc/show", many, show);
    char *long1 = malloc(140000);
    memset(long1, 'z', 139999);
    long1[139999] = 0;
    run("one string of 140000 bytes", "/tmp/sc/show", (char *[]){ "one", long1, 0 }, show);
    run("argv NULL", "/tmp/sc/show", 0, show);
    return 0;
}
