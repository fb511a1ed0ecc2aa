/* wc [FILE...]: lines, words and bytes of each file (stdin without FILE), and a total. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long tl, tw, tc;

static int count(int fd, const char *name)
{
    static char buf[8192];
    long l = 0, w = 0, c = 0;
    int inword = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        c += n;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n')
                l++;
            if (isspace((unsigned char)buf[i]))
                inword = 0;
            else if (!inword) {
                inword = 1;
                w++;
            }
        }
    }
    if (n < 0) {
        fprintf(stderr, "wc: %s: %s\n", name, strerror(errno));
        return 1;
    }
    printf("%7ld %7ld %7ld%s%s\n", l, w, c, *name ? " " : "", name);
    tl += l, tw += w, tc += c;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return count(0, "");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "wc: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        status |= count(fd, argv[i]);
        close(fd);
    }
    if (argc > 2)
        printf("%7ld %7ld %7ld total\n", tl, tw, tc);
    return status;
}
