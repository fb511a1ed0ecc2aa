/* cp SRC DST, cp SRC... DIR: copy files (the copy is on the disk when cp exits). */
#include <errno.h>
#include <fcntl.h>
#include <srcdst.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[65536];

static int copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY);
    if (in < 0) {
        fprintf(stderr, "cp: %s: %s\n", src, strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(in, &st) < 0)
        st.st_mode = 0644;
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cp: %s: is a directory\n", src);
        close(in);
        return 1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 0777);   /* as Linux cp: the source's mode */
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
    return each_target(argc, argv, "cp", copy);
}
