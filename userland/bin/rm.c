/* rm [-r] [-f] PATH...: remove files; -r removes directories and what they hold; -f says
   nothing about missing paths. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int recursive, force;

static int removeall(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (force && errno == ENOENT)
            return 0;
        fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0) {
            fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
            return 1;
        }
        return 0;
    }
    if (!recursive) {
        fprintf(stderr, "rm: %s: is a directory (use -r)\n", path);
        return 1;
    }
    int status = 0;
    for (;;) {                       /* re-read after each removal: the directory changes */
        DIR *d = opendir(path);
        if (!d) {
            fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
            return 1;
        }
        struct dirent *e;
        char child[512] = "";
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                break;
            }
        closedir(d);
        if (!child[0])
            break;
        if (removeall(child)) {
            status = 1;
            break;
        }
    }
    if (!status && rmdir(path) < 0) {
        fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    int i = 1, status = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
        for (char *f = argv[i] + 1; *f; f++) {
            if (*f == 'r')
                recursive = 1;
            else if (*f == 'f')
                force = 1;
            else {
                fprintf(stderr, "usage: rm [-r] [-f] PATH...\n");
                return 2;
            }
        }
    if (i == argc && !force) {
        fprintf(stderr, "usage: rm [-r] [-f] PATH...\n");
        return 2;
    }
    for (; i < argc; i++)
        status |= removeall(argv[i]);
    return status;
}
