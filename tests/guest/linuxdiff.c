/* linuxdiff MODE: behaviours where pvtos once differed from Linux riscv64 (issue 12, items 5
   and 7). Each mode prints what Linux prints (tests/test_linuxdiff.py has the lines). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>

struct ksigaction { unsigned long handler, flags, mask; };

static long sys(long n, long a, long b, long c, long d, long e, long f) {
    register long a7 __asm__("a7") = n, a0 __asm__("a0") = a, a1 __asm__("a1") = b, a2 __asm__("a2") = c,
                  a3 __asm__("a3") = d, a4 __asm__("a4") = e, a5 __asm__("a5") = f;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5) : "memory");
    return a0;
}

static char *base;
static void on_fault(int sig, siginfo_t *si, void *uc) {
    long addr = *(long *)((char *)si + 16);
    printf("%s code %d addr base+%ld\n", sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "?",
           si->si_code, addr - (long)base);
    fflush(stdout);
    _exit(0);                         /* returning would run the faulting instruction again */
}

static void catch_faults(void) {
    struct ksigaction a = {(unsigned long)on_fault, SA_SIGINFO, 0};
    sys(SYS_rt_sigaction, SIGBUS, (long)&a, 0, 8, 0, 0);
    sys(SYS_rt_sigaction, SIGSEGV, (long)&a, 0, 8, 0, 0);
}

static void in_child(void (*fn)(int), int arg) {
    fflush(stdout);
    int pid = fork();
    if (pid == 0) { catch_faults(); fn(arg); printf("no fault\n"); fflush(stdout); _exit(0); }
    waitpid(pid, 0, 0);
}

/* An atomic at a misaligned address: SIGBUS, BUS_ADRALN (1), si_addr = the address. */
static void atomic(int which) {
    long r = 0, v = 5;
    switch (which) {
    case 0: __asm__ volatile("amoadd.w %0, %2, (%1)" : "=r"(r) : "r"(base + 1), "r"(v) : "memory"); break;
    case 1: __asm__ volatile("amoswap.d %0, %2, (%1)" : "=r"(r) : "r"(base + 4), "r"(v) : "memory"); break;
    case 2: __asm__ volatile("lr.w %0, (%1)" : "=r"(r) : "r"(base + 2) : "memory"); break;
    case 3: __asm__ volatile("lr.d %0, (%1)" : "=r"(r) : "r"(base + 12) : "memory"); break;
    case 4: __asm__ volatile("sc.d %0, %2, (%1)" : "=r"(r) : "r"(base + 4), "r"(v) : "memory"); break;
    }
}

/* Plain loads and stores at misaligned addresses are legal (Linux emulates them), also when
   they cross into a page not touched yet. */
static void plain(void) {
    char *p = base + 4096 - 3;                     /* 3 bytes in page 0, 5 in page 1 (untouched) */
    volatile long *q = (volatile long *)p;
    long x = *q;
    *q = 0x1122334455667788L;
    volatile long *q2 = (volatile long *)(base + 3 * 4096 - 5);   /* a store into page 3, untouched */
    *q2 = 0x0102030405060708L;
    printf("misaligned ok %ld %lx %lx\n", x, *q, *q2);
}

static void waitbad(void) {
    int pid = fork();
    if (pid == 0) _exit(3);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, 0);
    long r = sys(SYS_wait4, pid, 16, 0, 0, 0, 0);        /* status pointer in page 0 */
    long again = sys(SYS_wait4, pid, 0, 0, 0, 0, 0);
    printf("wait4 bad status %ld, then %ld\n", r, again);
}

static void sigkill_action(void) {
    struct ksigaction dfl = {0, 0, 0}, ign = {1, 0, 0}, old = {7, 7, 7};
    printf("SIGKILL dfl %ld ign %ld SIGSTOP dfl %ld query %ld handler %lu\n",
           sys(SYS_rt_sigaction, SIGKILL, (long)&dfl, 0, 8, 0, 0),
           sys(SYS_rt_sigaction, SIGKILL, (long)&ign, 0, 8, 0, 0),
           sys(SYS_rt_sigaction, SIGSTOP, (long)&dfl, 0, 8, 0, 0),
           sys(SYS_rt_sigaction, SIGKILL, 0, (long)&old, 8, 0, 0), old.handler);
}

static void futexes(void) {
    long unmapped = 0x1000000000L, kernel = (long)0xffffffc000000000UL;
    static int word;
    printf("wake unmapped private %ld shared %ld kernel-addr %ld misaligned %ld\n",
           sys(SYS_futex, unmapped, 1 | 128, 1, 0, 0, 0), sys(SYS_futex, unmapped, 1, 1, 0, 0, 0),
           sys(SYS_futex, kernel, 1 | 128, 1, 0, 0, 0), sys(SYS_futex, (long)&word + 2, 1 | 128, 1, 0, 0, 0));
    struct timespec ts = {0, 1000};
    printf("wait unmapped private %ld shared %ld value-differs %ld timeout %ld clock-realtime %ld bad-op %ld\n",
           sys(SYS_futex, unmapped, 0 | 128, 0, 0, 0, 0), sys(SYS_futex, unmapped, 0, 0, 0, 0, 0),
           sys(SYS_futex, (long)&word, 128, 1, 0, 0, 0), sys(SYS_futex, (long)&word, 128, 0, (long)&ts, 0, 0),
           sys(SYS_futex, (long)&word, 0 | 256, 0, (long)&ts, 0, 0), sys(SYS_futex, (long)&word, 77, 0, 0, 0, 0));
    static int word2 = 5;
    static const int ro = 0;
    long w = (long)&word, w2 = (long)&word2;
    printf("requeue negative %ld misaligned2 %ld unmapped2 private %ld shared %ld kernel2 %ld realtime %ld "
           "cmp-differs %ld cmp-same %ld\n",
           sys(SYS_futex, w, 3 | 128, -1, 1, w2, 0), sys(SYS_futex, w, 3 | 128, 0, 1, w2 + 1, 0),
           sys(SYS_futex, w, 3 | 128, 0, 1, unmapped, 0), sys(SYS_futex, w, 3, 0, 1, unmapped, 0),
           sys(SYS_futex, w, 3 | 128, 0, 1, kernel, 0), sys(SYS_futex, w, 3 | 256, 0, 1, w2, 0),
           sys(SYS_futex, w, 4 | 128, 0, 1, w2, word + 1), sys(SYS_futex, w, 4 | 128, 0, 1, w2, word));
    long add = sys(SYS_futex, w, 5 | 128, 1, 1, w2, (1L << 28) | (3 << 12) | 5);
    int after_add = word2;
    long badop = sys(SYS_futex, w, 5 | 128, 1, 1, w2, (7L << 28) | (3 << 12));
    int after_badop = word2;
    long badcmp = sys(SYS_futex, w, 5 | 128, 1, 1, w2, (8L << 24) | (1 << 12));
    printf("wake-op add %ld word %d bad-op %ld word %d bad-cmp %ld word %d read-only %ld shift-or %ld word %d\n",
           add, after_add, badop, after_badop, badcmp, word2,
           sys(SYS_futex, w, 5 | 128, 1, 1, (long)&ro, 0),
           sys(SYS_futex, w, 5 | 128, 1, 1, w2, (2L << 28) | (8L << 28) | (4 << 12)), word2);
    printf("bitset wait-zero %ld wake-zero %ld past-monotonic %ld past-realtime %ld differs %ld wake %ld\n",
           sys(SYS_futex, w, 9 | 128, 0, 0, 0, 0), sys(SYS_futex, w, 10 | 128, 1, 0, 0, 0),
           sys(SYS_futex, w, 9 | 128, 0, (long)&ts, 0, -1), sys(SYS_futex, w, 9 | 128 | 256, 0, (long)&ts, 0, -1),
           sys(SYS_futex, w, 9 | 128, 1, 0, 0, 1), sys(SYS_futex, w, 10 | 128, 1, 0, 0, 1));
}

static void badhandler(void) {
    struct ksigaction a = {(unsigned long)-1, 0, 0};
    sys(SYS_rt_sigaction, SIGUSR1, (long)&a, 0, 8, 0, 0);
    kill(getpid(), SIGUSR1);
}

static void on_usr2(int sig) { (void)sig; }

/* A stopped process keeps a handled signal pending and stays stopped; a signal whose
   default action terminates ends it at once (Linux). */
static void stopsig(void) {
    struct ksigaction a = {(unsigned long)on_usr2, 0, 0};
    sys(SYS_rt_sigaction, SIGUSR2, (long)&a, 0, 8, 0, 0);     /* inherited by the child */
    fflush(stdout);
    int pid = fork();
    if (pid == 0)
        for (;;) sched_yield();
    int st = 0;
    kill(pid, SIGSTOP);
    waitpid(pid, &st, WUNTRACED);
    int stopped = WIFSTOPPED(st) ? WSTOPSIG(st) : -1;
    kill(pid, SIGUSR2);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, 0);
    int alive = waitpid(pid, &st, WNOHANG) == 0;
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    printf("stopped %d, after SIGUSR2 %s, then killed by %d\n", stopped, alive ? "still stopped" : "gone",
           WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

static void atomics(void) {
    for (int i = 0; i < 5; i++) {
        printf("%d: ", i);
        in_child(atomic, i);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    base = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base[0] = 1;                                          /* page 0 present, the others not */
    if (!strcmp(mode, "atomics")) atomics();
    else if (!strcmp(mode, "plain")) plain();
    else if (!strcmp(mode, "waitbad")) waitbad();
    else if (!strcmp(mode, "sigkill")) sigkill_action();
    else if (!strcmp(mode, "futex")) futexes();
    else if (!strcmp(mode, "badhandler")) badhandler();
    else if (!strcmp(mode, "stopsig")) stopsig();
    else { printf("unknown mode %s\n", mode); return 1; }
    return 0;
}
