/* sysfuzz SEED ROUNDS [CALLS [PROCS]]: each round PROCS children (default 1), each in its own
   process group, make CALLS (default 300) random system calls with random arguments (good
   pointers, bad pointers, huge and negative numbers; signals to themselves or their group);
   the parent kills them after a deadline. The kernel must survive everything: the machine
   ends normally. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long state;
static unsigned long rnd(void) { state = state * 6364136223846793005UL + 1442695040888963407UL; return state >> 11; }

static const long nrs[] = {
    SYS_getcwd, SYS_dup, SYS_dup3, SYS_fcntl, SYS_ioctl, SYS_mkdirat, SYS_unlinkat, SYS_chdir,
    SYS_openat, SYS_close, SYS_pipe2, SYS_getdents64, SYS_lseek, SYS_read, SYS_write, SYS_readv,
    SYS_writev, SYS_newfstatat, SYS_fstat, SYS_set_tid_address, SYS_futex,
    SYS_nanosleep, SYS_getitimer, SYS_setitimer, SYS_clock_gettime, SYS_sched_setaffinity,
    SYS_sched_getaffinity, SYS_sched_yield, SYS_sigaltstack, SYS_rt_sigsuspend, SYS_rt_sigaction,
    SYS_rt_sigprocmask, SYS_rt_sigpending, SYS_setpgid, SYS_getpgid, SYS_setsid,
    SYS_uname, SYS_getcpu, SYS_getpid, SYS_gettid, SYS_brk, SYS_munmap, SYS_clone, SYS_execve,
    SYS_mmap, SYS_mprotect, SYS_wait4, SYS_procinfo, SYS_kstat, SYS_lwp_create, SYS_lwp_self,
    SYS_lwp_park, SYS_lwp_unpark, SYS_lwp_wait, SYS_lwpinfo, SYS_uevent, SYS_sa_register,
    SYS_sa_stacks, SYS_sa_enable, SYS_sa_setconcurrency, SYS_sa_yield, SYS_sa_preempt, 999, 600, 0, 1,
    SYS_pipe2, SYS_dup3, SYS_lwp_create, SYS_futex,
    SYS_symlinkat, SYS_linkat, SYS_readlinkat, SYS_statfs, SYS_fstatfs, SYS_faccessat, SYS_faccessat2,
    SYS_fchmod, SYS_fchmodat, SYS_fchmodat2, SYS_fchownat, SYS_fchown, SYS_utimensat, SYS_umask,
    SYS_fchdir, SYS_sendfile, SYS_pselect6, SYS_ppoll, SYS_clock_getres, SYS_clock_nanosleep, SYS_times,
    SYS_getrusage, SYS_sysinfo, SYS_setpriority, SYS_getpriority, SYS_setuid, SYS_setresuid,
    SYS_getresuid, SYS_getgroups, SYS_setgroups, SYS_prlimit64, SYS_getrlimit, SYS_setrlimit,
    SYS_prctl, SYS_getrandom, SYS_membarrier,
    SYS_rt_sigtimedwait, SYS_timer_create, SYS_timer_settime, SYS_timer_gettime, SYS_timer_getoverrun,
    SYS_timer_delete, SYS_mremap, SYS_msync, SYS_mincore, SYS_madvise
};
/* Calls that usually end the caller: one call in 25 is one of these. */
static const long lethal[] = {SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_kill, SYS_tgkill, SYS_tkill};
static char scratch[8192];

static long arg(void) {
    switch (rnd() % 9) {
    case 0: return 0;
    case 1: return (long)(rnd() % 64);
    case 2: return -1;
    case 3: return (long)(scratch + rnd() % 4096);
    case 4: return (long)rnd() << 11;
    case 5: return (long)0xffffffff80000000UL;
    case 6: return 0x3ffffff000L;
    case 7: return (long)(rnd() % 0x20000);
    default: return (long)(scratch + 8192 - rnd() % 16);
    }
}

static long call(long n, long a, long b, long c, long d, long e, long f) {
    register long a7 __asm__("a7") = n, a0 __asm__("a0") = a, a1 __asm__("a1") = b, a2 __asm__("a2") = c,
                  a3 __asm__("a3") = d, a4 __asm__("a4") = e, a5 __asm__("a5") = f;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5) : "memory");
    return a0;
}

static void child(int calls) {
    call(SYS_setpgid, 0, 0, 0, 0, 0, 0);          /* signals to "the group" stay among the fuzzers */
    long me = call(SYS_getpid, 0, 0, 0, 0, 0, 0);
    for (int i = 0; i < calls; i++) {
        long n = rnd() % 25 ? nrs[rnd() % (sizeof nrs / sizeof nrs[0])]
                            : lethal[rnd() % (sizeof lethal / sizeof lethal[0])];
        long a = arg();
        if (n == SYS_kill)                         /* never the parent or init, even after a */
            a = rnd() % 2 ? -me : me;              /* random setpgid joined their group */
        else if (n == SYS_tgkill)
            a = me;
        else if (n == SYS_tkill)
            a = me + (long)(rnd() % 3);
        call(n, a, arg(), arg(), arg(), arg(), arg());
    }
    _exit(0);
}

int main(int argc, char **argv) {
    unsigned long seed = argc > 1 ? strtoul(argv[1], 0, 10) : 1;
    int rounds = argc > 2 ? atoi(argv[2]) : 10;
    int calls = argc > 3 ? atoi(argv[3]) : 300;
    int procs = argc > 4 ? atoi(argv[4]) : 1;
    int killed = 0, exited = 0;
    pid_t pids[64];
    if (procs < 1 || procs > 64) procs = 1;
    for (int r = 0; r < rounds; r++) {
        fflush(stdout);
        for (int c = 0; c < procs; c++) {
            state = (seed * 1000003UL + (unsigned long)r) * 64 + (unsigned long)c;
            pids[c] = fork();
            if (pids[c] == 0)
                child(calls);
        }
        int st = 0;
        struct timespec ts = {0, 1000000};
        for (int c = 0; c < procs; c++) {
            if (pids[c] < 0)
                continue;
            for (int w = 0; w < 50 && waitpid(pids[c], &st, WNOHANG) == 0; w++)
                nanosleep(&ts, 0);
            if (waitpid(pids[c], &st, WNOHANG) == 0) {
                kill(pids[c], SIGKILL);
                killed++;
            }
        }
        while (waitpid(-1, &st, 0) > 0)
            ;
        exited++;
    }
    printf("sysfuzz: %d rounds, %d children killed at the deadline, parent alive\n", exited, killed);
    return 0;
}
