/* MAP_SHARED anonymous memory across fork (one copy for both), against MAP_PRIVATE (copy on
 * write), with an atomic counter that parent and child both increment, and a process-shared
 * mutex and condition variable in it (futexes without FUTEX_PRIVATE_FLAG). */
#include <pthread.h>
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

    struct pshared { pthread_mutex_t m; pthread_cond_t c; int ready, seen; } *ps = (void *)(shared + 2 * pg + 64);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&ps->m, &ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&ps->c, &ca);
    ps->ready = ps->seen = 0;
    if ((pid = fork()) == 0) {
        pthread_mutex_lock(&ps->m);
        while (!ps->ready)
            pthread_cond_wait(&ps->c, &ps->m);
        ps->seen = ps->ready;
        pthread_cond_signal(&ps->c);
        pthread_mutex_unlock(&ps->m);
        _exit(0);
    }
    usleep(20000);                     /* the child is (most likely) waiting by now */
    pthread_mutex_lock(&ps->m);
    ps->ready = 3;
    pthread_cond_broadcast(&ps->c);
    while (!ps->seen)
        pthread_cond_wait(&ps->c, &ps->m);
    pthread_mutex_unlock(&ps->m);
    waitpid(pid, NULL, 0);
    printf("process-shared condition variable: the child saw %d\n", ps->seen);
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
