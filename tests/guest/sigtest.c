/* Signal semantics at the system-call level: sigtest MODE */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ksigaction { unsigned long handler, flags, mask; };
long __sys_rt_sigaction(long sig, const struct ksigaction *act, struct ksigaction *old, long size);
long __sys_rt_sigprocmask(long how, const unsigned long *set, unsigned long *old, long size);
long __sys_rt_sigreturn(void);
long __sys_sigaltstack(const void *ss, void *old);
long __sys_setitimer(long which, const long *nv, long *ov);
long __sys_getitimer(long which, long *cur);
long __sys_tgkill(long tgid, long tid, long sig);
long __sys_rt_sigpending(unsigned long *set, long size);
long __sys_rt_sigsuspend(const unsigned long *mask, long size);

#define SA_RESTART 0x10000000UL
#define SA_ONSTACK 0x08000000UL
static volatile int hits, last_sig;
static volatile long handler_sp;

static void on_sig(int sig) { hits++; last_sig = sig; long sp; __asm__ volatile("mv %0, sp" : "=r"(sp)); handler_sp = sp; }

static int act(int sig, void (*fn)(int), unsigned long flags) {
    struct ksigaction a = {(unsigned long)fn, flags, 0};
    return (int)__sys_rt_sigaction(sig, &a, 0, 8);
}

static int child_status(void (*fn)(void)) {
    pid_t pid = fork();
    if (pid == 0) { fn(); _exit(0); }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void bad_handler(void) { act(SIGUSR1, (void (*)(int))0x12345678, 0); kill(getpid(), SIGUSR1); }
static void bad_frame(void) { __asm__ volatile("li sp, 16\n li a7, 139\n ecall"); }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "handler")) {
        act(SIGUSR1, on_sig, 0);
        double d = 1.5;
        long keep = 12345;
        kill(getpid(), SIGUSR1);
        kill(getpid(), SIGUSR1);
        printf("hits %d sig %d keep %ld fp %.1f\n", hits, last_sig, keep, d * 2);
        return 0;
    }
    if (!strcmp(mode, "restart")) {
        int fds[2]; pipe(fds);
        pid_t pid = fork();
        if (pid == 0) {           /* signal the parent while it reads, then write */
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, 0); kill(getppid(), SIGUSR1);
            nanosleep(&ts, 0); kill(getppid(), SIGUSR2);
            nanosleep(&ts, 0); write(fds[1], "x", 1);
            _exit(0);
        }
        act(SIGUSR1, on_sig, SA_RESTART);   /* read restarts after this one ... */
        act(SIGUSR2, on_sig, 0);            /* ... and fails with EINTR after this one */
        char c;
        long r = read(fds[0], &c, 1);
        int e = errno;
        long r2 = read(fds[0], &c, 1);
        printf("first %ld %s hits %d second %ld %c\n", r, e == EINTR ? "EINTR" : "?", hits, r2, c);
        waitpid(pid, 0, 0);
        return 0;
    }
    if (!strcmp(mode, "altstack")) {
        static char alt[16384];
        long ss[3] = {(long)alt, 0, sizeof alt};
        __sys_sigaltstack(ss, 0);
        act(SIGUSR1, on_sig, SA_ONSTACK);
        kill(getpid(), SIGUSR1);
        printf("on alt stack %d\n", handler_sp >= (long)alt && handler_sp < (long)alt + (long)sizeof alt);
        return 0;
    }
    if (!strcmp(mode, "itimer")) {
        act(SIGALRM, on_sig, 0);
        long it[4] = {0, 0, 0, 3000};        /* 3 ms of virtual wall time */
        __sys_setitimer(0, it, 0);
        struct timespec ts = {1, 0};
        long r = nanosleep(&ts, 0);
        printf("real: nanosleep %ld %s sig %d\n", r, errno == EINTR ? "EINTR" : "?", last_sig);
        act(SIGVTALRM, on_sig, 0);
        long vt[4] = {0, 1000, 0, 1000};     /* every 1 ms of user time */
        __sys_setitimer(1, vt, 0);
        hits = 0;
        for (volatile long i = 0; hits < 3; i++)
            ;
        long cur[4]; __sys_getitimer(1, cur);
        printf("virtual: hits %d sig %d interval %ld\n", hits, last_sig, cur[1]);
        return 0;
    }
    if (!strcmp(mode, "bad")) {
        int a = child_status(bad_handler), b = child_status(bad_frame);
        printf("bad handler %d bad frame %d\n", WIFSIGNALED(a) ? WTERMSIG(a) : -1, WIFSIGNALED(b) ? WTERMSIG(b) : -1);
        return 0;
    }
    if (!strcmp(mode, "stop")) {
        pid_t pid = fork();
        if (pid == 0) { for (;;) ; }
        kill(pid, SIGSTOP);
        int st = 0;
        pid_t w = waitpid(pid, &st, WUNTRACED);
        printf("stopped %d sig %d\n", w == pid && WIFSTOPPED(st), WSTOPSIG(st));
        kill(pid, SIGCONT);
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        printf("then %s %d\n", WIFSIGNALED(st) ? "killed" : "exited", WTERMSIG(st));
        return 0;
    }
    if (!strcmp(mode, "mask")) {
        act(SIGUSR1, on_sig, 0);
        unsigned long set = 1UL << (SIGUSR1 - 1), pend = 0;
        __sys_rt_sigprocmask(0, &set, 0, 8);
        __sys_tgkill(getpid(), getpid(), SIGUSR1);
        __sys_rt_sigpending(&pend, 8);
        int before = hits;
        unsigned long none = 0;
        long r = __sys_rt_sigsuspend(&none, 8);
        unsigned long now = 0;
        __sys_rt_sigprocmask(0, 0, &now, 8);
        printf("pending %d before %d after %d suspend %ld mask kept %d\n", (pend & set) != 0, before, hits, r,
               (now & set) != 0);
        return 0;
    }
    return 2;
}
