/* ps: one row per kernel thread, from lwpinfo: every LWP of every process (PID, its LWP
   id, state, hart, program name), then the pure kernel threads, PID 0, name in brackets.
   ps -p: one row per process instead (procinfo): PID PPID STATE HART NAME. */
#include <errno.h>
#include <kos.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *hartname(int hart, char *buf, size_t n)
{
    if (hart < 0)
        return "-";
    snprintf(buf, n, "%d", hart);
    return buf;
}

/* Call fill(buf, cap) with a growing buffer until every record fits. */
static void *fetch(int (*fill)(void *, int), size_t size, int *n)
{
    for (int cap = 64;; cap *= 2) {
        void *p = malloc((size_t)cap * size);
        if (!p) {
            fprintf(stderr, "ps: out of memory\n");
            exit(1);
        }
        *n = fill(p, cap);
        if (*n < cap)
            return p;
        free(p);
    }
}

static int fill_procs(void *p, int n) { return procinfo(p, n); }
static int fill_lwps(void *p, int n) { return lwpinfo(p, n); }

static int processes(void)
{
    int n;
    struct procinfo *p = fetch(fill_procs, sizeof *p, &n);
    if (n < 0) {
        fprintf(stderr, "ps: procinfo: %s\n", strerror(errno));
        return 1;
    }
    printf("%5s %5s %5s %4s %s\n", "PID", "PPID", "STATE", "HART", "NAME");
    for (int i = 0; i < n; i++) {
        char hart[12];
        printf("%5d %5d %5c %4s %.16s\n", p[i].pid, p[i].ppid, p[i].state,
               hartname(p[i].hart, hart, sizeof hart), p[i].name);
    }
    free(p);
    return 0;
}

static int threads(void)
{
    int n;
    struct lwpinfo *p = fetch(fill_lwps, sizeof *p, &n);
    if (n < 0) {
        fprintf(stderr, "ps: lwpinfo: %s\n", strerror(errno));
        return 1;
    }
    printf("%5s %5s %5s %4s %s\n", "PID", "LWP", "STATE", "HART", "NAME");
    for (int i = 0; i < n; i++) {
        char hart[12], name[20];
        if (p[i].kernel)
            snprintf(name, sizeof name, "[%.16s]", p[i].name);
        else
            snprintf(name, sizeof name, "%.16s", p[i].name);
        printf("%5d %5d %5c %4s %s\n", p[i].pid, p[i].lwpid, p[i].state,
               hartname(p[i].hart, hart, sizeof hart), name);
    }
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "-p") == 0)
        return processes();
    if (argc != 1) {
        fprintf(stderr, "usage: ps [-p]\n");
        return 2;
    }
    return threads();
}
