#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int sig = SIGTERM, i = 1, status = 0;
    if (i < argc && argv[i][0] == '-' && argv[i][1]) {
        const char *name = argv[i] + 1;
        if (strncmp(name, "SIG", 3) == 0)
            name += 3;
        if (str2sig(name, &sig) < 0) {
            fprintf(stderr, "kill: %s: invalid signal\n", argv[i] + 1);
            return 2;
        }
        i++;
    }
    if (i == argc) {
        fprintf(stderr, "usage: kill [-SIG] pid...\n");
        return 2;
    }
    for (; i < argc; i++) {
        char *end;
        long pid = strtol(argv[i], &end, 10);
        if (*end || end == argv[i]) {
            fprintf(stderr, "kill: %s: not a pid\n", argv[i]);
            status = 1;
        } else if (kill((int)pid, sig) < 0) {
            fprintf(stderr, "kill: %ld: %s\n", pid, strerror(errno));
            status = 1;
        }
    }
    return status;
}
