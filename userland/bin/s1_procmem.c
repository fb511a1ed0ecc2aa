/* S1: a process has its own memory; processes do not share memory by default. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int global = 1;

int main(void)
{
    int *heap = malloc(sizeof *heap);
    if (!heap) {
        printf("S1 FAILED: malloc\n");
        return 1;
    }
    *heap = 1;
    printf("parent %d: global=%d at %p, heap=%d at %p\n", getpid(), global, (void *)&global,
           *heap, (void *)heap);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("S1 FAILED: fork");
        return 1;
    }
    if (pid == 0) {
        global = 2;
        *heap = 2;
        printf("child  %d: global=%d at %p, heap=%d at %p\n", getpid(), global, (void *)&global,
               *heap, (void *)heap);
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("S1 FAILED: child did not exit cleanly\n");
        return 1;
    }
    printf("parent %d: global=%d at %p, heap=%d at %p\n", getpid(), global, (void *)&global,
           *heap, (void *)heap);
    if (global == 1 && *heap == 1) {
        printf("S1 OK: parent still sees 1 and 1\n");
        return 0;
    }
    printf("S1 FAILED: parent sees %d and %d\n", global, *heap);
    return 1;
}
