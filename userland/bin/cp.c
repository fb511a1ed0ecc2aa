/* cp SRC DST, cp SRC... DIR: copy files (the copy is on the disk when cp exits). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[65536];

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

static int copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY);
    if (in < 0) {
        fprintf(stderr, "cp: %s: %s\n", src, strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cp: %s: is a directory\n", src);
        close(in);
        return 1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        fprintf(stderr, "cp: %s: %s\n", dst, strerror(errno));
        close(in);
        return 1;
    }
    ssize_t n;
    int status = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                fprintf(stderr, "cp: %s: %s\n", dst, strerror(errno));
                n = -2;
                break;
            }
            off += w;
        }
        if (n == -2)
            break;
    }
    if (n == -1)
        fprintf(stderr, "cp: %s: %s\n", src, strerror(errno));
    if (n < 0)
        status = 1;
    close(in);
    if (close(out) < 0) {
        fprintf(stderr, "cp: %s: %s\n", dst, strerror(errno));
        status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cp SRC DST | cp SRC... DIR\n");
        return 2;
    }
    const char *dst = argv[argc - 1];
    struct stat st;
    int todir = stat(dst, &st) == 0 && S_ISDIR(st.st_mode);
    if (argc > 3 && !todir) {
        fprintf(stderr, "cp: %s: not a directory\n", dst);
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc - 1; i++) {
        char target[512];
        if (todir)
            snprintf(target, sizeof target, "%s/%s", dst, base(argv[i]));
        else
            snprintf(target, sizeof target, "%s", dst);
        status |= copy(argv[i], target);
    }
    return status;
}
