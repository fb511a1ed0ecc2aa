/* slowread [-c MIB] [-b BYTES] [-q] FILE: read FILE from start to end, BYTES at a time
   (default 4096: one block), printing how long each read() took in virtual time. A read
   that misses the buffer cache sleeps until the disk's interrupt: it takes the disk's
   latency plus the transfer; a hit takes a microsecond or two.
   -c MIB: first create FILE with MIB MiB (fsync'd). More than the cache holds (8 MiB)
   means its first blocks are evicted again before they are read back.
   -q: print only the summary line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAITED_NS 10000L     /* a read slower than this waited for the disk */

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static char buf[1 << 20];

static int create(const char *path, long mib)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "slowread: %s: %s\n", path, strerror(errno));
        return 1;
    }
    long t0 = now_ns();
    for (long off = 0; off < mib << 20; off += 65536) {
        for (int i = 0; i < 65536; i += 8)
            *(long *)(buf + i) = off + i;
        if (write(fd, buf, 65536) != 65536) {
            fprintf(stderr, "slowread: write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fprintf(stderr, "slowread: fsync %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("created %s: %ld MiB in %ld us\n", path, mib, (now_ns() - t0) / 1000);
    return 0;
}

int main(int argc, char **argv)
{
    long mib = 0, chunk = 4096;
    int quiet = 0, i = 1;
    for (; i < argc - 1 && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-c") == 0)
            mib = atol(argv[++i]);
        else if (strcmp(argv[i], "-b") == 0)
            chunk = atol(argv[++i]);
        else if (strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else
            break;
    }
    if (i != argc - 1 || chunk <= 0 || chunk > (long)sizeof buf || mib < 0) {
        fprintf(stderr, "usage: slowread [-c MIB] [-b BYTES] [-q] FILE\n");
        return 2;
    }
    const char *path = argv[i];
    if (mib && create(path, mib))
        return 1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "slowread: %s: %s\n", path, strerror(errno));
        return 1;
    }
    long reads = 0, waited = 0, waited_ns = 0, bytes = 0, t0 = now_ns();
    for (;;) {
        long t = now_ns();
        ssize_t n = read(fd, buf, (size_t)chunk);
        long dt = now_ns() - t;
        if (n < 0) {
            fprintf(stderr, "slowread: read %s: %s\n", path, strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        if (!quiet)
            printf("read %5ld at %10ld: %7ld bytes in %9ld ns%s\n", reads, bytes, (long)n, dt,
                   dt >= WAITED_NS ? " (waited for the disk)" : "");
        reads++;
        bytes += n;
        if (dt >= WAITED_NS) {
            waited++;
            waited_ns += dt;
        }
    }
    long total = now_ns() - t0;
    printf("slowread: %ld reads of %ld bytes, %ld waited for the disk (mean %ld us), "
           "%ld bytes in %ld us: %ld KB/s\n", reads, chunk, waited, waited ? waited_ns / waited / 1000 : 0,
           bytes, total / 1000, total ? bytes * 1000000L / total : 0);
    close(fd);
    return 0;
}
