/* MAP_SHARED anonymous memory across fork (one copy for both), against MAP_PRIVATE (copy on
 * write), with an atomic counter that parent and child both increment. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    char *shared = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *private = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!CHECK("mmap shared and private", shared != MAP_FAILED && private != MAP_FAILED))
        return 1;
    strcpy(shared, "parent");
    strcpy(private, "parent");
    pid_t pid = fork();
    if (pid == 0) {
        printf("child sees shared \"%s\", private \"%s\"\n", shared, private);
        strcpy(shared, "child");
        strcpy(private, "child");
        strcpy(shared + 3 * pg, "untouched page written by the child");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent sees shared \"%s\", private \"%s\"\n", shared, private);
    printf("last shared page: \"%s\"\n", shared + 3 * pg);

    atomic_long *counter = (atomic_long *)(shared + pg);
    atomic_store(counter, 0);
    enum { N = 4, ADDS = 20000 };
    for (int i = 0; i < N; i++)
        if (fork() == 0) {
            for (int k = 0; k < ADDS; k++)
                atomic_fetch_add(counter, 1);
            _exit(0);
        }
    for (int i = 0; i < N; i++)
        wait(NULL);
    printf("4 processes x 20000 atomic adds: %ld\n", atomic_load(counter));

    int *flag = (int *)(shared + 2 * pg);
    *flag = 0;
    if ((pid = fork()) == 0) {
        while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) == 0)
            ;
        printf("child saw the parent's flag: %d\n", *flag);
        _exit(0);
    }
    __atomic_store_n(flag, 5, __ATOMIC_RELEASE);
    waitpid(pid, NULL, 0);

    if ((pid = fork()) == 0) {
        munmap(shared, 4 * pg);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("child's munmap leaves the parent's mapping: \"%s\"\n", shared);
    CHECK("munmap", munmap(shared, 4 * pg) == 0 && munmap(private, 4 * pg) == 0);
    puts("done");
    return 0;
}
