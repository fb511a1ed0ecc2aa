/* s13_upcalls: claim S13 at the system-call level. The program registers an upcall handler
   and enables scheduler activations; its main thread then blocks in the kernel (nanosleep).
   The kernel tells the handler at once (BLOCKED, on a new activation of the same virtual
   processor), which keeps the processor busy with other work; when the sleep ends the
   kernel hands main's context back (UNBLOCKED, preempting the busy activation) and the
   handler resumes it. A real thread library does the same with its ready list. */
#include <demo.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sa_t { void *ctx; int id; int cpu; };
long __sys_sa_register(void *upcall, long flags, long crit_off);
long __sys_sa_stacks(long n, void *stacks);
long __sys_sa_enable(void);
long __sys_exit_group(long status);

#define CTX 960                            /* a ucontext as in a signal frame */
static char stacks[6][16384] __attribute__((aligned(16)));
static volatile int log_type[16], log_id[16], log_n, work_during_block;
static volatile int blocked_id;

/* Resume a saved context: copy it into a signal frame and let rt_sigreturn load it. */
static void resume(void *ctx) {
    static char frame[128 + CTX] __attribute__((aligned(16)));
    memcpy(frame + 128, ctx, CTX);
    __asm__ volatile("mv sp, %0\n li a7, 139\n ecall" : : "r"(frame) : "memory");
    for (;;)
        ;
}

static void upcall(int type, struct sa_t **sas, int events, int interrupted, void *arg) {
    (void)arg;
    for (int i = 0; i < events + interrupted && log_n < 16; i++) {
        log_type[log_n] = i < events ? type : 1;       /* interrupted ones are PREEMPTED */
        log_id[log_n++] = sas[i]->id;
    }
    if (type == 0 || type == 3) {                      /* NEWPROC, UNBLOCKED: resume main */
        for (int i = 0; i < events; i++)
            if (sas[i]->ctx)
                resume(sas[i]->ctx);
    }
    if (type == 2) {                                   /* BLOCKED: keep the vp busy */
        blocked_id = sas[0]->id;
        for (;;)
            work_during_block++;
    }
    for (;;)
        ;
}

int main(void) {
    long ss[6][3];
    for (int i = 0; i < 6; i++) {
        ss[i][0] = (long)stacks[i];
        ss[i][1] = 0;
        ss[i][2] = sizeof stacks[i];
    }
    long r1 = __sys_sa_register(upcall, 0, -1), r2 = __sys_sa_stacks(6, ss);
    long r3 = __sys_sa_enable();                        /* returns here through NEWPROC */
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, 0);                                  /* blocks: BLOCKED upcall */
    printf("S13: upcalls without a thread library; costs: %s\n", costs_profile());
    printf("register %ld stacks %ld enable %ld\n", r1, r2, r3);
    for (int i = 0; i < log_n; i++)
        printf("upcall %s id %d\n", (const char *[]){"NEWPROC", "PREEMPTED", "BLOCKED", "UNBLOCKED"}[log_type[i]],
               log_id[i]);
    printf("blocked %d work during block %s\n", blocked_id, work_during_block > 1000 ? "yes" : "no");
    int ok = log_n == 4 && log_type[0] == 0 && log_type[1] == 2 && log_type[2] == 3 && log_type[3] == 1
             && work_during_block > 1000;
    printf(ok ? "S13 OK: BLOCKED let other work run on the processor, UNBLOCKED gave main's context back\n"
              : "S13 FAILED\n");
    fflush(stdout);
    __sys_exit_group(0);
    return 0;
}
