/* sleep SECONDS: block for that much virtual time (fractions allowed, e.g. 0.5). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sleep SECONDS\n");
        return 2;
    }
    long ns = 0, scale = 1000000000L;
    const char *p = argv[1];
    for (; *p >= '0' && *p <= '9'; p++)
        ns = ns * 10 + (*p - '0');
    ns *= scale;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++)
            ns += (*p - '0') * (scale /= 10);
    if (*p) {
        fprintf(stderr, "sleep: bad number %s\n", argv[1]);
        return 2;
    }
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    return nanosleep(&ts, NULL) == 0 ? 0 : 1;
}
