/* Files and directories: the POSIX calls on regular files, descriptors and directories. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "linux.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir %s: %s\n", dir, errname(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = "/tmp/files.d";
    CHECK("mkdir", mkdir(dir, 0755) == 0);
    RESULT("mkdir again", mkdir(dir, 0755));
    CHECK("chdir", chdir(dir) == 0);
    char cwd[256];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
    RESULT("getcwd into 4 bytes", getcwd(cwd, 4) ? 0 : -1);

    int fd = open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK("open O_CREAT|O_EXCL", fd >= 0);
    RESULT("open O_EXCL existing", open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644));
    printf("write: %zd\n", write(fd, "hello, files\n", 13));
    printf("lseek SEEK_CUR: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("lseek SEEK_SET 7: %ld\n", (long)lseek(fd, 7, SEEK_SET));
    char buf[64] = {0};
    printf("read: %zd \"%.5s\"\n", read(fd, buf, 5), buf);
    printf("pwrite at 100: %zd\n", pwrite(fd, "far", 3, 100));
    struct stat st;
    fstat(fd, &st);
    printf("fstat: regular %d, size %ld\n", S_ISREG(st.st_mode), (long)st.st_size);
    memset(buf, 1, sizeof buf);
    printf("pread hole at 50: %zd, zeroes %d\n", pread(fd, buf, 10, 50),
           buf[0] == 0 && buf[9] == 0);
    printf("lseek SEEK_END: %ld\n", (long)lseek(fd, 0, SEEK_END));
    RESULT("lseek negative", lseek(fd, -1000, SEEK_SET));
    CHECK("ftruncate 5", ftruncate(fd, 5) == 0);
    fstat(fd, &st);
    printf("size after ftruncate: %ld\n", (long)st.st_size);
    struct iovec iov[2] = {{"ab", 2}, {"cd\n", 3}};
    lseek(fd, 0, SEEK_END);
    printf("writev: %zd\n", writev(fd, iov, 2));
    char x[4], y[8] = {0};
    struct iovec riov[2] = {{x, 4}, {y, 8}};
    lseek(fd, 0, SEEK_SET);
    printf("readv: %zd \"%.4s\" \"%s\"\n", readv(fd, riov, 2), x, strtok(y, "\n"));
    CHECK("fsync", fsync(fd) == 0);

    int fd2 = dup(fd);
    printf("dup shares offset: %ld\n", (long)lseek(fd2, 0, SEEK_CUR));
    int fd9 = dup2(fd, 9);
    printf("dup2 to 9: %d\n", fd9);
    printf("FD_CLOEXEC after dup2: %d\n", fcntl(9, F_GETFD) & FD_CLOEXEC);
    fcntl(9, F_SETFD, FD_CLOEXEC);
    printf("FD_CLOEXEC after F_SETFD: %d\n", fcntl(9, F_GETFD) & FD_CLOEXEC);
    printf("F_GETFL accmode O_RDWR: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    int fd3 = fcntl(fd, F_DUPFD, 20);
    printf("F_DUPFD 20: %d\n", fd3);
    close(fd2), close(fd3), close(9), close(fd);
    RESULT("close again", close(fd));
    RESULT("read bad fd", read(fd, buf, 1));

    fd = open("a.txt", O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    write(fd, "Z", 1);
    printf("O_APPEND offset after write: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    RESULT("read on O_WRONLY", read(fd, buf, 1));
    close(fd);
    fd = open("a.txt", O_RDONLY);
    RESULT("write on O_RDONLY", write(fd, "x", 1));
    close(fd);

    CHECK("mkdir sub", mkdir("sub", 0755) == 0);
    fd = open("sub/b.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(fd);
    int dfd = open("sub", O_RDONLY | O_DIRECTORY);
    fd = openat(dfd, "c.txt", O_CREAT | O_WRONLY, 0644);
    CHECK("openat relative to a directory fd", fd >= 0);
    close(fd);
    CHECK("fstatat", fstatat(dfd, "c.txt", &st, 0) == 0 && S_ISREG(st.st_mode));
    close(dfd);
    RESULT("O_DIRECTORY on a file", open("a.txt", O_RDONLY | O_DIRECTORY));
    RESULT("open a/ (ENOTDIR)", open("a.txt/x", O_RDONLY));
    RESULT("open missing", open("missing", O_RDONLY));
    RESULT("open directory for writing", open("sub", O_WRONLY));
    list(".");
    list("sub");

    CHECK("rename file", rename("a.txt", "sub/a2.txt") == 0);
    RESULT("stat old name", stat("a.txt", &st));
    CHECK("stat new name", stat("sub/a2.txt", &st) == 0 && st.st_size == 11);
    RESULT("rename dir into itself", rename("sub", "sub/deeper"));
    RESULT("rmdir non-empty", rmdir("sub"));
    RESULT("unlink a directory", unlink("sub"));
    RESULT("rmdir a file", rmdir("sub/b.txt"));
    CHECK("unlink", unlink("sub/a2.txt") == 0 && unlink("sub/b.txt") == 0 && unlink("sub/c.txt") == 0);
    CHECK("rmdir", rmdir("sub") == 0);
    list(".");
    CHECK("chdir ..", chdir("..") == 0);
    CHECK("rmdir files.d", rmdir(dir) == 0);
    RESULT("chdir removed", chdir(dir));
    char name[300];
    memset(name, 'n', sizeof name);
    name[299] = 0;
    RESULT("open 299-byte name", open(name, O_CREAT | O_WRONLY, 0644));
    puts("done");
    return 0;
}
