#include <errno.h>
#include <kos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    int cap = 64, n;
    struct procinfo *p;
    for (;;) {   /* grow the buffer until every process fits */
        p = malloc((size_t)cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "ps: out of memory\n");
            return 1;
        }
        n = procinfo(p, cap);
        if (n < cap)
            break;
        free(p);
        cap *= 2;
    }
    if (n < 0) {
        fprintf(stderr, "ps: procinfo: %s\n", strerror(errno));
        return 1;
    }
    printf("%5s %5s %5s %4s %s\n", "PID", "PPID", "STATE", "HART", "NAME");
    for (int i = 0; i < n; i++) {
        char hart[12];
        if (p[i].hart < 0)
            strcpy(hart, "-");
        else
            snprintf(hart, sizeof hart, "%d", p[i].hart);
        printf("%5d %5d %5c %4s %.16s\n", p[i].pid, p[i].ppid, p[i].state, hart, p[i].name);
    }
    free(p);
    return 0;
}
