#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int long_fmt;

static char type_char(mode_t m)
{
    return S_ISDIR(m) ? 'd' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p'
         : S_ISLNK(m) ? 'l' : S_ISSOCK(m) ? 's' : '-';
}

static void show(int dirfd, const char *name)
{
    if (!long_fmt) {
        printf("%s\n", name);
        return;
    }
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        printf("? %3s %10s %s (%s)\n", "?", "?", name, strerror(errno));
        return;
    }
    printf("%c %3lu %10ld %s\n", type_char(st.st_mode), (unsigned long)st.st_nlink, (long)st.st_size, name);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (long_fmt)
            printf("%c %3lu %10ld %s\n", type_char(st.st_mode), (unsigned long)st.st_nlink, (long)st.st_size,
                   path);
        else
            printf("%s\n", path);
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    int status = 0;
    if (errno) {
        fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
        status = 1;
    }
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        show(fd, names[i]);
        free(names[i]);
    }
    free(names);
    closedir(d);
    return status;
}

int main(int argc, char **argv)
{
    int i = 1, status = 0;
    if (i < argc && strcmp(argv[i], "-l") == 0) {
        long_fmt = 1;
        i++;
    }
    if (i == argc)
        return list(".");
    for (int first = i; i < argc; i++) {
        if (argc - first > 1)
            printf("%s%s:\n", i > first ? "\n" : "", argv[i]);
        status |= list(argv[i]);
    }
    return status;
}
