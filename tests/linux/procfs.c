/* A minimal /proc: /proc/self/exe, /proc/self/maps, /proc/self/stat, /proc/PID/cmdline,
 * /proc/self/status, /proc/self/fd. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "linux.h"

static int read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t got, total = 0;
    while (total < (ssize_t)n - 1 && (got = read(fd, buf + total, n - 1 - total)) > 0)
        total += got;
    buf[total] = 0;
    close(fd);
    return (int)total;
}

int main(int argc, char **argv)
{
    (void)argc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char buf[8192], path[64];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n >= 0) {
        buf[n] = 0;
        const char *base = strrchr(buf, '/');
        printf("/proc/self/exe ends in the program's name: %d\n", base && strcmp(base + 1, "procfs") == 0);
    } else {
        printf("readlink /proc/self/exe: %s\n", errname(errno));
    }
    if (read_file("/proc/self/maps", buf, sizeof buf) > 0) {
        int stack = strstr(buf, "[stack]") != NULL, rx = strstr(buf, "r-xp") != NULL;
        printf("/proc/self/maps: has [stack] %d, has an r-xp text mapping %d\n", stack, rx);
    } else {
        printf("/proc/self/maps: %s\n", errname(errno));
    }
    if (read_file("/proc/self/stat", buf, sizeof buf) > 0) {
        int pid = 0;
        char comm[32] = {0}, state = 0;
        sscanf(buf, "%d (%31[^)]) %c", &pid, comm, &state);
        printf("/proc/self/stat: pid matches %d, comm %s, state %c\n", pid == getpid(), comm, state);
    } else {
        printf("/proc/self/stat: %s\n", errname(errno));
    }
    snprintf(path, sizeof path, "/proc/%d/cmdline", getpid());
    int len = read_file(path, buf, sizeof buf);
    if (len > 0) {
        const char *base = strrchr(buf, '/');
        printf("/proc/PID/cmdline: argv[0] is the program %d, NUL-separated args \"%s\"\n",
               strcmp(base ? base + 1 : buf, "procfs") == 0, buf + strlen(buf) + 1);
    } else {
        printf("/proc/PID/cmdline: %s\n", errname(errno));
    }
    if (read_file("/proc/self/status", buf, sizeof buf) > 0) {
        char *name = strstr(buf, "Name:");
        char *pid = strstr(buf, "\nPid:");
        printf("/proc/self/status: Name line %d, Pid matches %d\n", name && strncmp(name, "Name:\tprocfs", 12) == 0,
               pid && atoi(pid + 5) == getpid());
    } else {
        printf("/proc/self/status: %s\n", errname(errno));
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int std = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            std += strcmp(e->d_name, "0") == 0 || strcmp(e->d_name, "1") == 0 || strcmp(e->d_name, "2") == 0;
        closedir(d);
        printf("/proc/self/fd lists 0, 1 and 2: %d\n", std == 3);
    } else {
        printf("/proc/self/fd: %s\n", errname(errno));
    }
    (void)argv;
    puts("done");
    return 0;
}
