#ifndef _SRCDST_H
#define _SRCDST_H
/* The command line of cp and mv: PROG SRC DST, or PROG SRC... DIR. Not part of the C
   library: a helper the two programs of userland/bin share. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Calls fn(src, target) for every SRC, target being DST or DIR/basename(SRC); returns the
   statuses fn returned, ORed (2 on a usage error, 1 if several SRCs but DST is no dir). */
static inline int each_target(int argc, char **argv, const char *prog,
                              int (*fn)(const char *src, const char *target))
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC DST | %s SRC... DIR\n", prog, prog);
        return 2;
    }
    const char *dst = argv[argc - 1];
    struct stat st;
    int todir = stat(dst, &st) == 0 && S_ISDIR(st.st_mode);
    if (argc > 3 && !todir) {
        fprintf(stderr, "%s: %s: not a directory\n", prog, dst);
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc - 1; i++) {
        char target[512];
        const char *s = strrchr(argv[i], '/');
        const char *base = s && s[1] ? s + 1 : argv[i];
        if (todir)
            snprintf(target, sizeof target, "%s/%s", dst, base);
        else
            snprintf(target, sizeof target, "%s", dst);
        status |= fn(argv[i], target);
    }
    return status;
}

#endif
