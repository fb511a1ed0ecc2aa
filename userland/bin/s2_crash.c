/* S2: a crash in one process does not affect others. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int work(int n)
{
    volatile unsigned long sum = 0;
    for (int i = 0; i < 100000 * n; i++)
        sum += (unsigned long)i * i;
    return sum ? 0 : 1;
}

int main(void)
{
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("S2 FAILED: fork");
            return 1;
        }
        if (pids[i] == 0) {
            if (i == 1) {
                printf("child %d: writing to address 0x10\n", getpid());
                fflush(stdout);
                *(volatile int *)0x10 = 42;
                _exit(99);   /* not reached */
            }
            _exit(work(i + 1));
        }
    }
    int crashed = 0, finished = 0;
    for (int i = 0; i < 3; i++) {
        int status;
        if (waitpid(pids[i], &status, 0) != pids[i]) {
            perror("waitpid");
            continue;
        }
        if (WIFEXITED(status)) {
            printf("child %d exited %d\n", pids[i], WEXITSTATUS(status));
            finished += i != 1 && WEXITSTATUS(status) == 0;
        } else if (WIFSIGNALED(status)) {
            char name[SIG2STR_MAX] = "?";
            sig2str(WTERMSIG(status), name);
            printf("child %d killed by signal %d (SIG%s)\n", pids[i], WTERMSIG(status), name);
            crashed += i == 1 && WTERMSIG(status) == SIGSEGV;
        }
    }
    if (crashed == 1 && finished == 2) {
        printf("S2 OK: 1 crashed, 2 finished, parent alive\n");
        return 0;
    }
    printf("S2 FAILED: %d crashed, %d finished\n", crashed, finished);
    return 1;
}
