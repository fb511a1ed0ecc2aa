/* Code written at run time must run as written (tests/test_vm.py): each hart keeps its own
   translated code, so the kernel has to keep it coherent with memory.
   smc read:     new code arrives through read() into an executable page;
   smc migrate:  the thread writes code and runs fence.i on hart 0, then moves to hart 1
                 (which ran the old code) before running it;
   smc threads:  one thread writes code on hart 0, another on hart 1 synchronises, runs
                 fence.i and runs it;
   smc samepage: code stores a new instruction into its own page and runs it;
   smc mprotect: code written through a RW mapping, made RX, run on another hart;
   smc flush:    riscv_flush_icache (Linux 259): 0 for flags 0 and 1, EINVAL for others;
   smc loop:     a loop in its own page storing into that page 100,000 times;
   smc shared:   MAP_SHARED code, writable in the parent on hart 0 and only executable in a
                 forked child on hart 1, which runs each version the parent writes (and
                 with "shared wx" the child's mapping is writable and executable too).
   Each round writes `li a0, round; ret` and checks what the call returns. Prints
   "stale N of R" and exits 0 when N is 0. Needs 2 harts. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread.h>
#include <unistd.h>

#define PAGE 4096L
#define ROUNDS 20
#ifndef SYS_riscv_flush_icache
#define SYS_riscv_flush_icache 259                   /* Linux riscv64 */
#endif

static unsigned int *code;
static int stale;

static unsigned int li_a0(int v) { return (unsigned int)v << 20 | 0x513; }   /* addi a0, zero, v */
#define RET 0x00008067u
#define FENCE_I() __asm__ volatile("fence.i" ::: "memory")

static void pin(int hart)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(hart, &s);
    sched_setaffinity(0, sizeof s, &s);
}

static int call(void) { return ((int (*)(void))(void *)code)(); }

static void emit(int v)
{
    code[0] = li_a0(v);
    code[1] = RET;
}

static void result(int round, int got)
{
    if (got != round) {
        stale++;
        printf("round %d: ran code returning %d\n", round, got);
    }
}

static void by_read(void)
{
    int fds[2];
    pipe(fds);
    for (int r = 1; r <= ROUNDS; r++) {
        unsigned int insn[2] = { li_a0(r), RET };
        write(fds[1], insn, sizeof insn);
        read(fds[0], code, sizeof insn);
        FENCE_I();
        result(r, call());
    }
}

static void migrate(void)
{
    emit(0);
    for (int r = 1; r <= ROUNDS; r++) {
        pin(1);
        call();                                      /* hart 1 translates the old code */
        pin(0);
        emit(r);
        FENCE_I();
        pin(1);
        result(r, call());
    }
}

static volatile int seq, ack;

static void *runner(void *arg)
{
    pin(1);
    for (int r = 1; r <= ROUNDS; r++) {
        call();                                      /* the old code, translated on hart 1 */
        ack = -r;
        while (__atomic_load_n(&seq, __ATOMIC_ACQUIRE) != r)
            ;
        FENCE_I();
        result(r, call());
    }
    return arg;
}

static void threads(void)
{
    thread_t t;
    emit(0);
    pin(0);
    thread_create(&t, runner, 0);
    for (int r = 1; r <= ROUNDS; r++) {
        while (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != -r)
            ;
        emit(r);
        __atomic_store_n(&seq, r, __ATOMIC_RELEASE);
    }
    thread_join(t, 0);
}

/* At code: sw a1, 64(a0); fence.i; j code+64. At code+64 the stored instruction, then ret. */
static void samepage(void)
{
    code[0] = 0x04B52023;                            /* sw a1, 64(a0) */
    code[1] = 0x0000100F;                            /* fence.i */
    code[2] = 0x0380006F;                            /* j .+56 */
    code[16] = li_a0(0);
    code[17] = RET;
    FENCE_I();
    for (int r = 1; r <= ROUNDS; r++) {
        pin(r & 1);
        result(r, ((int (*)(void *, long))(void *)code)(code, li_a0(r)));
    }
}

/* At code: sw a1, 64(a0); addi a2, a2, -1; bnez a2, code; ret. */
static void loop(void)
{
    code[0] = 0x04B52023;                            /* sw a1, 64(a0) */
    code[1] = 0xFFF60613;                            /* addi a2, a2, -1 */
    code[2] = 0xFE061CE3;                            /* bnez a2, .-8 */
    code[3] = RET;
    FENCE_I();
    ((void (*)(void *, long, long))(void *)code)(code, 5, 100000);
    result(5, (int)code[16]);
}

static void by_mprotect(void)
{
    for (int r = 1; r <= ROUNDS; r++) {
        pin(0);
        mprotect(code, PAGE, PROT_READ | PROT_WRITE);
        emit(r);
        mprotect(code, PAGE, PROT_READ | PROT_EXEC);
        FENCE_I();
        pin(r & 1);
        result(r, call());
    }
}

static void shared(int wx)
{
    volatile long *sync = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    code = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    emit(0);
    int pid = fork();
    if (pid == 0) {
        mprotect(code, PAGE, PROT_READ | PROT_EXEC | (wx ? PROT_WRITE : 0));
        pin(1);
        for (int r = 1; r <= ROUNDS; r++) {
            call();                                  /* the old code, translated on hart 1 */
            __atomic_store_n(&sync[1], r, __ATOMIC_RELEASE);
            while (__atomic_load_n(&sync[0], __ATOMIC_ACQUIRE) != r)
                ;
            FENCE_I();
            result(r, call());
        }
        _exit(stale);
    }
    pin(0);
    for (int r = 1; r <= ROUNDS; r++) {
        while (__atomic_load_n(&sync[1], __ATOMIC_ACQUIRE) != r)
            ;
        emit(r);
        __atomic_store_n(&sync[0], r, __ATOMIC_RELEASE);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    stale = WIFEXITED(status) ? WEXITSTATUS(status) : ROUNDS;
}

static void flush(void)
{
    long a = syscall(SYS_riscv_flush_icache, 0L, 0L, 0L);
    long b = syscall(SYS_riscv_flush_icache, (long)code, (long)code + PAGE, 1L);
    errno = 0;
    long c = syscall(SYS_riscv_flush_icache, 0L, 0L, 2L);
    printf("riscv_flush_icache: %ld %ld %ld errno %s\n", a, b, c, errno == EINVAL ? "EINVAL" : "other");
    if (a != 0 || b != 0 || c != -1 || errno != EINVAL)
        stale = 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "read";
    code = mmap(0, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        printf("mmap failed\n");
        return 2;
    }
    if (!strcmp(mode, "read"))
        by_read();
    else if (!strcmp(mode, "migrate"))
        migrate();
    else if (!strcmp(mode, "threads"))
        threads();
    else if (!strcmp(mode, "samepage"))
        samepage();
    else if (!strcmp(mode, "mprotect"))
        by_mprotect();
    else if (!strcmp(mode, "flush"))
        flush();
    else if (!strcmp(mode, "loop"))
        loop();
    else if (!strcmp(mode, "shared"))
        shared(argc > 2);
    else
        return 2;
    printf("%s: stale %d of %d\n", mode, stale, ROUNDS);
    return stale != 0;
}
