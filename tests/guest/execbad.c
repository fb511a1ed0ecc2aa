/* exec's failure contract, and the file of a running executable (tests/test_exec.py).
   execbad fail PATH...: exec each PATH; each must fail, and this process goes on: prints
                         "PATH: errno NAME" per path, then "still running".
   execbad txtbsy:       opening this running program for writing is ETXTBSY, for reading
                         is fine; a copy of it, open for writing, cannot be run (ETXTBSY);
                         closed, it runs ("copy ran" from the copy).
   execbad unlink:       removes its own file, then runs code and reads data on pages that
                         were never touched: they still come from the (unlinked) file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    return e == ENOEXEC ? "ENOEXEC" : e == ETXTBSY ? "ETXTBSY" : e == EACCES ? "EACCES"
         : e == ENOENT ? "ENOENT" : e == EIO ? "EIO" : e == EFAULT ? "EFAULT" : strerror(e);
}

/* 64 KiB aligned, so that its page is outside the fault-around window of main's pages. */
__attribute__((noinline, aligned(65536))) static int far_away(int x) { return x * 3 + 1; }
static const char far_data[65536 * 2] = { [65536 + 17] = 42 };

static int copy(const char *from, const char *to)
{
    char buf[4096];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    long n;
    if (in < 0 || out < 0)
        return -1;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    return out;                                    /* left open for writing */
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "fail")) {
        for (int i = 2; i < argc; i++) {
            char *args[] = { argv[i], 0 };
            execve(argv[i], args, 0);
            printf("%s: errno %s\n", argv[i], ename(errno));
        }
        printf("still running\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "txtbsy")) {
        int w = open(argv[0], O_WRONLY);
        printf("open self for writing: %d %s\n", w, w < 0 ? ename(errno) : "");
        int t = open(argv[0], O_RDWR | O_TRUNC);
        printf("open self O_RDWR|O_TRUNC: %d %s\n", t, t < 0 ? ename(errno) : "");
        int r = open(argv[0], O_RDONLY);
        printf("open self for reading: %s\n", r >= 0 ? "ok" : ename(errno));
        int out = copy(argv[0], "/tmp/copy");
        char *args[] = { "/tmp/copy", "copied", 0 };
        if (fork() == 0) {
            execve("/tmp/copy", args, 0);
            printf("exec of a file open for writing: errno %s\n", ename(errno));
            _exit(1);
        }
        wait(0);
        close(out);
        if (fork() == 0) {
            execve("/tmp/copy", args, 0);
            _exit(1);
        }
        wait(0);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "copied")) {
        printf("copy ran\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "unlink")) {
        printf("unlink self: %d\n", unlink(argv[0]));
        printf("far_away(4) = %d, far_data = %d\n", far_away(4), far_data[65536 + 17]);
        return 0;
    }
    return 2;
}
