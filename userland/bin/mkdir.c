/* mkdir [-p] DIR...: make directories; -p makes missing parents and accepts existing ones. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int make(const char *path, int parents)
{
    if (parents) {
        char buf[256];
        if (strlen(path) >= sizeof buf) {
            fprintf(stderr, "mkdir: %s: %s\n", path, strerror(ENAMETOOLONG));
            return 1;
        }
        strcpy(buf, path);
        for (char *p = buf + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = 0;
            if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "mkdir: %s: %s\n", buf, strerror(errno));
                return 1;
            }
            *p = '/';
        }
    }
    if (mkdir(path, 0755) < 0 && !(parents && errno == EEXIST)) {
        fprintf(stderr, "mkdir: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1, parents = 0, status = 0;
    if (i < argc && strcmp(argv[i], "-p") == 0) {
        parents = 1;
        i++;
    }
    if (i == argc) {
        fprintf(stderr, "usage: mkdir [-p] DIR...\n");
        return 2;
    }
    for (; i < argc; i++)
        status |= make(argv[i], parents);
    return status;
}
