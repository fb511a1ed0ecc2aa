/* File mappings: MAP_SHARED writes reach the file (and read() sees them), write() reaches the
 * mapping, MAP_PRIVATE writes stay private, offsets, SIGBUS past the end, the errors. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

static sigjmp_buf jump;
static volatile int caught;
static void on_bus(int sig) { caught = sig; siglongjmp(jump, 1); }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    const char *path = "/tmp/mapped.dat";
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    char page[8192];
    for (int i = 0; i < 2 * pg; i++)
        page[i] = 'a' + i / pg;
    write(fd, page, 2 * pg);

    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!CHECK("mmap MAP_SHARED file", m != MAP_FAILED))
        return 1;
    printf("mapping shows the file: %c %c\n", m[0], m[pg]);
    memcpy(m + 10, "SHARED", 6);
    CHECK("msync", msync(m, 2 * pg, MS_SYNC) == 0);
    char buf[16] = {0};
    pread(fd, buf, 6, 10);
    printf("read() sees the store through the mapping: %s\n", buf);
    pwrite(fd, "WRITE", 5, pg + 20);
    printf("the mapping sees write(): %.5s\n", m + pg + 20);
    pid_t pid = fork();
    if (pid == 0) {
        memcpy(m + 100, "CHILD", 5);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("a child's store through the shared mapping: %.5s\n", m + 100);

    char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, pg);
    if (CHECK("mmap MAP_PRIVATE at offset one page", p != MAP_FAILED)) {
        printf("private mapping shows page 2: %c %.5s\n", p[0], p + 20);
        memcpy(p, "PRIVATE", 7);
        pread(fd, buf, 7, pg);
        printf("the file does not see private stores: %.7s\n", buf);
        munmap(p, pg);
    }
    char *ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
    printf("read-only shared mapping: %.6s\n", ro != MAP_FAILED ? ro + 10 : "failed");
    munmap(ro, pg);
    munmap(m, 2 * pg);
    close(fd);
    fd = open(path, O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, 16);
    printf("after munmap and reopen: %.16s\n", buf);

    RESULT("PROT_WRITE MAP_SHARED of an O_RDONLY fd",
           mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
    p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("PROT_WRITE MAP_PRIVATE of an O_RDONLY fd: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    RESULT("unaligned offset", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED ? -1 : 0);
    close(fd);

    fd = open(path, O_RDWR);
    ftruncate(fd, 100);
    m = mmap(NULL, 3 * pg, PROT_READ, MAP_SHARED, fd, 0);
    printf("mapping longer than the file: %s\n", m == MAP_FAILED ? errname(errno) : "ok");
    printf("bytes after EOF in the last page read as zero: %d\n", m[100] == 0 && m[pg - 1] == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sigaction(SIGBUS, &sa, NULL);
    if (sigsetjmp(jump, 1) == 0)
        (void)*(volatile char *)(m + 2 * pg);
    printf("a page past EOF: SIGBUS %d\n", caught == SIGBUS);
    munmap(m, 3 * pg);
    close(fd);

    int pfd[2];
    pipe(pfd);
    RESULT("mmap of a pipe", mmap(NULL, pg, PROT_READ, MAP_SHARED, pfd[0], 0) == MAP_FAILED ? -1 : 0);
    fd = open("/tmp", O_RDONLY);
    RESULT("mmap of a directory", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
    unlink(path);
    puts("done");
    return 0;
}
