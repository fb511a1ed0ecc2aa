/* upcalls: claim S13 with the thread library. User threads on 2 virtual processors
   (UTHREAD_SA) of a 4-hart machine: thread 1 reads the first 16 KiB of FILE (default:
   sleeps SLEEP_US in the kernel instead) while threads 2-4 compute in chunks, yielding after each. The program
   prints every upcall the library received and checks the paper's sequence: BLOCKED for the
   reader's activation, another user thread run on that processor at once, then UNBLOCKED
   with the reader's context and the reader resuming.
     upcalls [FILE|-] [SLEEP_US]       default: -, 3000 us
   uevent markers 300 and 301 bracket the blocking call. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uthread.h>

#define NW 3
#define CHUNK 1000

static const char *file;
static long sleep_us = 3000, got;
static volatile long chunks[NW];
static volatile int waiting, done;
static long during;

static long total(void)
{
    long s = 0;
    for (int i = 0; i < NW; i++)
        s += chunks[i];
    return s;
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    unsigned long x = (unsigned long)i + 1;
    while (!done) {
        for (int k = 0; k < CHUNK; k++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        chunks[i]++;
        uthread_yield();
    }
    return (void *)x;
}

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < NW; i++)
        while (!chunks[i])
            uthread_yield();                    /* every worker has started */
    long before = total();
    syscall(SYS_uevent, 300, 0);
    waiting = 1;
    if (file) {
        static char buf[4096];
        int fd = open(file, O_RDONLY);
        for (long n; fd >= 0 && got < 4 * (long)sizeof buf && (n = read(fd, buf, sizeof buf)) > 0; )
            got += n;
        if (fd >= 0)
            close(fd);
    } else {
        struct timespec ts = { sleep_us / 1000000, sleep_us % 1000000 * 1000 };
        nanosleep(&ts, 0);
    }
    waiting = 0;
    syscall(SYS_uevent, 301, 0);
    during = total() - before;
    done = 1;
    return 0;
}

static const char *name(int type)
{
    static const char *n[] = { "NEWPROC", "PREEMPTED", "BLOCKED", "UNBLOCKED" };
    return type >= 0 && type < 4 ? n[type] : "?";
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "-"))
        file = argv[1];
    if (argc > 2)
        sleep_us = atol(argv[2]);
    int e = uthread_init(UTHREAD_SA, 2);
    if (e) {
        printf("S13 FAILED: uthread_init: %s\n", strerror(e));
        return 1;
    }
    uthread_t r, w[NW];
    uthread_create(&r, reader, 0, 0);
    for (int i = 0; i < NW; i++)
        uthread_create(&w[i], worker, (void *)(long)i, 0);
    uthread_join(r, 0);
    for (int i = 0; i < NW; i++)
        uthread_join(w[i], 0);
    struct uthread_upcall ev[256];
    int n = uthread_upcalls(ev, 256);
    if (n > 256)
        n = 256;
    int rid = uthread_id(r), blocked = -1, unblocked = -1, ok_next = 0;
    printf("reader is thread %d; %s\n", rid, file ? file : "nanosleep");
    for (int i = 0; i < n; i++) {
        printf("upcall%s %-9s sa %d vp %d", ev[i].first ? " " : "+", name(ev[i].type), ev[i].sa_id,
               ev[i].vp);
        if (ev[i].thread >= 0)
            printf(" context of thread %d", ev[i].thread);
        printf(" -> runs %s", ev[i].next >= 0 ? "thread" : "nothing (idle)");
        if (ev[i].next >= 0)
            printf(" %d", ev[i].next);
        printf("\n");
        if (ev[i].type == UTHREAD_UPCALL_BLOCKED && blocked < 0) {
            blocked = i;
            ok_next = ev[i].next > 0 && ev[i].next != rid;
        }
        if (ev[i].type == UTHREAD_UPCALL_UNBLOCKED && ev[i].thread == rid && blocked >= 0 && unblocked < 0)
            unblocked = i;
    }
    printf("work done by threads 2-4 while the reader waited: %ld chunks%s\n", during,
           file ? "" : "");
    if (file)
        printf("read %ld bytes\n", got);
    int ok = blocked >= 0 && ok_next && unblocked > blocked && during > 0;
    printf(ok ? "S13 OK: BLOCKED, thread %d ran on the processor during the wait, UNBLOCKED gave "
                "the reader back and it resumed\n" : "S13 FAILED\n", blocked >= 0 ? ev[blocked].next : -1);
    return !ok;
}
