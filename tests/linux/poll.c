/* poll, ppoll, select, pselect on pipes: readiness, hang-up, timeouts, bad descriptors,
 * waking when another process writes, signals during the wait. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    pipe(p);
    struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    int r = poll(fds, 2, 0);
    printf("poll empty pipe: %d, read end revents %#x, write end POLLOUT %d\n", r, fds[0].revents,
           (fds[1].revents & POLLOUT) != 0);
    write(p[1], "x", 1);
    r = poll(fds, 1, 0);
    printf("poll after a write: %d, POLLIN %d\n", r, (fds[0].revents & POLLIN) != 0);
    char c;
    read(p[0], &c, 1);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = poll(fds, 1, 50);
    printf("poll timeout 50 ms: %d, waited >= 50 ms %d\n", r, ms_since(&t0) >= 50);

    pid_t pid = fork();
    if (pid == 0) {
        struct timespec d = {0, 30 * 1000 * 1000};
        nanosleep(&d, NULL);
        write(p[1], "y", 1);
        _exit(0);
    }
    r = poll(fds, 1, -1);
    printf("poll woken by the child's write: %d, POLLIN %d\n", r, (fds[0].revents & POLLIN) != 0);
    read(p[0], &c, 1);
    waitpid(pid, NULL, 0);

    close(p[1]);
    r = poll(fds, 1, 0);
    printf("writer closed: %d, POLLHUP %d\n", r, (fds[0].revents & POLLHUP) != 0);
    struct pollfd bad = {1000, POLLIN, 0};
    r = poll(&bad, 1, 0);
    printf("closed descriptor: %d, POLLNVAL %d\n", r, bad.revents == POLLNVAL);
    struct pollfd neg = {-1, POLLIN, 0x55};
    r = poll(&neg, 1, 0);
    printf("negative fd is skipped: %d, revents %d\n", r, neg.revents);
    close(p[0]);

    pipe(p);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    struct timeval tv = {0, 0};
    r = select(p[1] + 1, &rd, &wr, NULL, &tv);
    printf("select empty pipe: %d, readable %d, writable %d\n", r, FD_ISSET(p[0], &rd) != 0,
           FD_ISSET(p[1], &wr) != 0);
    write(p[1], "z", 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 1;
    r = select(p[0] + 1, &rd, NULL, NULL, &tv);
    printf("select after a write: %d, readable %d\n", r, FD_ISSET(p[0], &rd) != 0);
    read(p[0], &c, 1);
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 0, tv.tv_usec = 40000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = select(p[0] + 1, &rd, NULL, NULL, &tv);
    printf("select timeout 40 ms: %d, waited >= 40 ms %d\n", r, ms_since(&t0) >= 40);
    FD_ZERO(&rd);
    FD_SET(900, &rd);
    tv.tv_sec = 0, tv.tv_usec = 0;
    RESULT("select on a closed descriptor", select(901, &rd, NULL, NULL, &tv));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    pid_t parent = getpid();
    if ((pid = fork()) == 0) {
        struct timespec d = {0, 20 * 1000 * 1000};
        nanosleep(&d, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    struct pollfd one = {p[0], POLLIN, 0};
    struct timespec limit = {5, 0};
    r = ppoll(&one, 1, &limit, &none);
    printf("ppoll unblocks SIGUSR1 while waiting: %d %s, handler ran %d\n", r, errname(errno), got_usr1);
    waitpid(pid, NULL, 0);
    got_usr1 = 0;
    if ((pid = fork()) == 0) {
        struct timespec d = {0, 20 * 1000 * 1000};
        nanosleep(&d, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    r = pselect(p[0] + 1, &rd, NULL, NULL, &limit, &none);
    printf("pselect likewise: %d %s, handler ran %d\n", r, errname(errno), got_usr1);
    waitpid(pid, NULL, 0);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = poll(NULL, 0, 30);
    printf("poll(NULL, 0, 30) sleeps: %d, waited >= 30 ms %d\n", r, ms_since(&t0) >= 30);
    puts("done");
    return 0;
}
