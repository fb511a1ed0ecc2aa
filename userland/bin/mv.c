/* mv SRC DST, mv SRC... DIR: rename (within one file system; EXDEV across them). */
#include <errno.h>
#include <srcdst.h>
#include <stdio.h>
#include <string.h>

static int move(const char *src, const char *dst)
{
    if (rename(src, dst) < 0) {
        fprintf(stderr, "mv: %s -> %s: %s\n", src, dst, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return each_target(argc, argv, "mv", move);
}
