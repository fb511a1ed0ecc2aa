/* Pipes: data between processes, end of file, EPIPE and SIGPIPE, non-blocking ends,
 * close-on-exec, a transfer larger than the pipe's buffer. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2], status;
    CHECK("pipe", pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        const char *msg = "through the pipe";
        write(p[1], msg, strlen(msg));
        _exit(0);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n, total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    printf("parent read %zd bytes: %s; then read returns %zd (EOF)\n", total, buf, n);
    close(p[0]);
    waitpid(pid, &status, 0);

    pipe(p);
    int avail = -1;
    write(p[1], "12345", 5);
    if (ioctl(p[0], FIONREAD, &avail) == 0)
        printf("FIONREAD: %d\n", avail);
    else
        printf("FIONREAD: %s\n", errname(errno));
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    RESULT("write with no reader, SIGPIPE ignored", write(p[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    if ((pid = fork()) == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("writer with no reader, default SIGPIPE: killed by %d\n",
           WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    close(p[1]);

    CHECK("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    printf("flags: nonblock %d, cloexec %d\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0,
           (fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0);
    RESULT("read empty non-blocking pipe", read(p[0], buf, 1));
    long cap = 0;
    char block[4096];
    memset(block, 'x', sizeof block);
    while ((n = write(p[1], block, sizeof block)) > 0)
        cap += n;
    printf("non-blocking writes filled %ld bytes, then %s\n", cap, errname(errno));
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[1], F_GETPIPE_SZ));
    close(p[0]), close(p[1]);

    pipe(p);
    enum { BIG = 1 << 20 };
    if ((pid = fork()) == 0) {
        close(p[0]);
        unsigned char *data = malloc(BIG);
        for (int i = 0; i < BIG; i++)
            data[i] = (unsigned char)(i * 7 + i / 4096);
        ssize_t off = 0;
        while (off < BIG) {
            ssize_t w = write(p[1], data + off, BIG - off);
            if (w <= 0)
                _exit(1);
            off += w;
        }
        _exit(0);
    }
    close(p[1]);
    unsigned long sum = 0, got = 0, reads = 0;
    unsigned char chunk[10000];
    while ((n = read(p[0], chunk, sizeof chunk)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            unsigned long k = got + i;
            sum += chunk[i] == (unsigned char)(k * 7 + k / 4096);
        }
        got += n, reads++;
    }
    waitpid(pid, &status, 0);
    printf("1 MiB through the pipe: %lu bytes, %lu correct, writer exit %d\n", got, sum,
           WEXITSTATUS(status));
    close(p[0]);

    pipe(p);
    if ((pid = fork()) == 0) {
        dup2(p[1], 1);
        close(p[0]), close(p[1]);
        printf("child stdout is the pipe\n");
        exit(0);
    }
    close(p[1]);
    memset(buf, 0, sizeof buf);
    total = 0;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    printf("parent got: %s", buf);
    waitpid(pid, &status, 0);
    puts("done");
    return 0;
}
