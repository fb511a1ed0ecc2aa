/* File metadata: permissions, access(), umask, symbolic and hard links, times, statvfs. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK("chdir /tmp", chdir("/tmp") == 0);
    mode_t old = umask(022);
    umask(027);
    printf("umask returns the previous mask: %03o\n", umask(022));
    (void)old;
    int fd = open("meta.txt", O_CREAT | O_TRUNC | O_WRONLY, 0666);
    write(fd, "12345", 5);
    struct stat st;
    fstat(fd, &st);
    printf("mode after umask 022: %03o\n", st.st_mode & 0777);
    printf("owner is me: %d\n", st.st_uid == geteuid() && st.st_gid == getegid());
    printf("st_nlink: %ld, st_blksize > 0: %d\n", (long)st.st_nlink, st.st_blksize > 0);
    CHECK("fchmod 0600", fchmod(fd, 0600) == 0);
    close(fd);
    stat("meta.txt", &st);
    printf("mode after fchmod: %03o\n", st.st_mode & 0777);
    CHECK("chmod 0640", chmod("meta.txt", 0640) == 0);
    stat("meta.txt", &st);
    printf("mode after chmod: %03o\n", st.st_mode & 0777);
    CHECK("access F_OK", access("meta.txt", F_OK) == 0);
    CHECK("access R_OK|W_OK", access("meta.txt", R_OK | W_OK) == 0);
    RESULT("access missing", access("nothing-here", F_OK));
    CHECK("chown to my own ids", chown("meta.txt", geteuid(), getegid()) == 0);

    struct timespec ts[2] = {{1000000000, 0}, {1234567890, 500}};
    CHECK("utimensat", utimensat(AT_FDCWD, "meta.txt", ts, 0) == 0);
    stat("meta.txt", &st);
    printf("atime %ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec,
           (long)st.st_mtim.tv_nsec);
    struct timeval tv[2] = {{2000000000, 0}, {2000000000, 0}};
    CHECK("utimes", utimes("meta.txt", tv) == 0);
    stat("meta.txt", &st);
    printf("mtime after utimes: %ld\n", (long)st.st_mtim.tv_sec);

    CHECK("link", link("meta.txt", "meta.hard") == 0);
    stat("meta.txt", &st);
    struct stat st2;
    stat("meta.hard", &st2);
    printf("hard link: nlink %ld, same inode %d\n", (long)st.st_nlink, st.st_ino == st2.st_ino);
    RESULT("link onto existing", link("meta.txt", "meta.hard"));
    unlink("meta.hard");
    stat("meta.txt", &st);
    printf("nlink after unlink: %ld\n", (long)st.st_nlink);

    CHECK("symlink", symlink("meta.txt", "meta.sym") == 0);
    char target[64] = {0};
    ssize_t n = readlink("meta.sym", target, sizeof target - 1);
    printf("readlink: %zd \"%s\"\n", n, n > 0 ? target : "");
    lstat("meta.sym", &st);
    printf("lstat: symlink %d, size %ld\n", S_ISLNK(st.st_mode), (long)st.st_size);
    stat("meta.sym", &st);
    printf("stat follows: regular %d, size %ld\n", S_ISREG(st.st_mode), (long)st.st_size);
    RESULT("readlink on a regular file", readlink("meta.txt", target, sizeof target));
    symlink("loop2", "loop1");
    symlink("loop1", "loop2");
    RESULT("open a symlink loop", open("loop1", O_RDONLY));
    fd = open("meta.sym", O_RDONLY | O_NOFOLLOW);
    printf("O_NOFOLLOW on a symlink: %s\n", fd < 0 ? errname(errno) : "opened");
    char real[PATH_MAX];
    printf("realpath: %s\n", realpath("meta.sym", real) ? real : errname(errno));
    unlink("loop1"), unlink("loop2"), unlink("meta.sym"), unlink("meta.txt");

    struct statvfs vfs;
    CHECK("statvfs", statvfs("/", &vfs) == 0 && vfs.f_bsize > 0 && vfs.f_blocks > 0);
    puts("done");
    return 0;
}
