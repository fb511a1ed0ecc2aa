/* fsbench MODE FILE MIB [WARM]: sequential I/O on a MIB MiB file in 64 KiB calls, timed in
   virtual time. MODE: write (create, write, fsync, close), read (read it once, then WARM
   more times: those passes find it in the buffer cache), none (nothing: a boot baseline).
   Prints "PHASE start" before each pass (make bench times the host between the lines) and
   "PHASE BYTES bytes in NS ns" after it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void start(const char *phase)
{
    printf("%s start\n", phase);
    fflush(stdout);
}

static int pass(const char *phase, const char *path, long bytes)
{
    start(phase);
    int fd = open(path, O_RDONLY);
    long t = now_ns(), got = 0;
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
        got += n;
    t = now_ns() - t;
    close(fd);
    printf("%s %ld bytes in %ld ns\n", phase, got, t);
    return got != bytes;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return 2;
    const char *mode = argv[1], *path = argv[2];
    long bytes = atol(argv[3]) << 20;
    if (!strcmp(mode, "write")) {
        memset(buf, 'w', sizeof buf);
        start("write");
        long t = now_ns();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        for (long done = 0; fd >= 0 && done < bytes; done += sizeof buf)
            if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                return 1;
        if (fd < 0 || fsync(fd) < 0 || close(fd) < 0)
            return 1;
        printf("write %ld bytes in %ld ns\n", bytes, now_ns() - t);
        return 0;
    }
    if (!strcmp(mode, "read")) {
        int bad = pass("cold", path, bytes);
        for (int i = argc == 5 ? atoi(argv[4]) : 0; i > 0; i--)
            bad |= pass("warm", path, bytes);
        return bad;
    }
    return strcmp(mode, "none") != 0;
}
