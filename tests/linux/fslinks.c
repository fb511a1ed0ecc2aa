/* Links and metadata, the details: symlink resolution (40 links, trailing slashes, dangling
 * links, O_CREAT through a link), hard links (EEXIST, EPERM, EXDEV, link counts), what root
 * may do (an x bit to run a file), umask and set-group-ID directories, chown clearing
 * set-user-ID, utimensat's UTIME_NOW/UTIME_OMIT, statfs, and the errno of each mistake. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linux.h"

static void chain(int n)
{
    /* c0 -> c1 -> ... -> cn, and cn is a file: c0 resolves through n links */
    char a[16], b[16];
    for (int i = 0; i < n; i++) {
        snprintf(a, sizeof a, "c%d", i);
        snprintf(b, sizeof b, "c%d", i + 1);
        unlink(a);
        symlink(b, a);
    }
    snprintf(a, sizeof a, "c%d", n);
    close(open(a, O_CREAT | O_WRONLY, 0644));
}

int main(int argc, char **argv)
{
    (void)argc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char dir[] = "/tmp/fslinksXXXXXX";
    if (!mkdtemp(dir) || chdir(dir)) {
        printf("no scratch directory: %s\n", errname(errno));
        return 1;
    }
    struct stat st;
    chain(40);
    RESULT("open through 40 links", open("c0", O_RDONLY));
    chain(41);
    RESULT("open through 41 links", open("c0", O_RDONLY));
    RESULT("lstat of the first link", lstat("c0", &st));
    for (int i = 0; i <= 41; i++) {
        char a[16];
        snprintf(a, sizeof a, "c%d", i);
        unlink(a);
    }

    mkdir("d", 0755);
    close(open("f", O_CREAT | O_WRONLY, 0644));
    symlink("d", "ld");
    symlink("f", "lf");
    symlink("nowhere", "dangling");
    RESULT("stat link-to-dir/", stat("ld/", &st));
    RESULT("stat link-to-file/", stat("lf/", &st));
    RESULT("stat file/", stat("f/", &st));
    RESULT("stat dangling", stat("dangling", &st));
    RESULT("lstat dangling", lstat("dangling", &st));
    RESULT("mkdir over a dangling link", mkdir("dangling", 0755));
    RESULT("open O_CREAT|O_EXCL on a dangling link", open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
    int fd = open("dangling", O_CREAT | O_WRONLY, 0644);
    printf("open O_CREAT through a dangling link: %s, target made %d\n", fd >= 0 ? "ok" : errname(errno),
           access("nowhere", F_OK) == 0);
    close(fd);
    RESULT("O_NOFOLLOW|O_DIRECTORY on a link to a dir", open("ld", O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
    fd = open("ld", O_PATH | O_NOFOLLOW);
    printf("O_PATH|O_NOFOLLOW opens the link: %s", fd >= 0 ? "ok" : errname(errno));
    if (fd >= 0) {
        fstat(fd, &st);
        char t[16] = {0};
        ssize_t n = readlinkat(fd, "", t, sizeof t - 1);
        printf(", a link %d, readlinkat(fd, \"\") %zd \"%s\"", S_ISLNK(st.st_mode), n, n > 0 ? t : "");
        RESULT(", read", read(fd, t, 1));
        close(fd);
    } else {
        printf("\n");
    }
    RESULT("chdir through a link", chdir("ld"));
    char cwd[PATH_MAX];
    printf("getcwd ends in /d: %d\n", getcwd(cwd, sizeof cwd) && strcmp(strrchr(cwd, '/'), "/d") == 0);
    chdir("..");
    char t[4];
    printf("readlink truncates: %zd\n", readlink("dangling", t, sizeof t));
    RESULT("readlink of a directory", readlink("d", t, sizeof t));
    RESULT("readlink of nothing", readlink("nothing", t, sizeof t));
    RESULT("symlink onto an existing name", symlink("x", "f"));
    RESULT("symlink with an empty target", symlink("", "empty"));
    RESULT("rename a link", rename("lf", "lf2"));
    printf("the renamed link still leads to f: %d\n", stat("lf2", &st) == 0 && S_ISREG(st.st_mode));

    RESULT("link", link("f", "f2"));
    stat("f", &st);
    printf("nlink 2: %ld\n", (long)st.st_nlink);
    RESULT("link onto an existing name", link("f", "f2"));
    RESULT("link a directory", link("d", "d2"));
    RESULT("link from nothing", link("nothing", "x"));
    RESULT("link across file systems", link("f", "/dev/shouldnotexist"));
    RESULT("link new/ (trailing slash)", link("f", "new/"));
    RESULT("linkat a symlink itself", linkat(AT_FDCWD, "lf2", AT_FDCWD, "lf3", 0));
    printf("the new name is a symlink: %d\n", lstat("lf3", &st) == 0 && S_ISLNK(st.st_mode));
    RESULT("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "lf2", AT_FDCWD, "f3", AT_SYMLINK_FOLLOW));
    stat("f", &st);
    printf("f now has 3 links: %ld\n", (long)st.st_nlink);
    unlink("f");
    printf("after unlink f: f2 %d, f3 %d, nlink %ld\n", stat("f2", &st) == 0, access("f3", F_OK) == 0,
           (long)st.st_nlink);
    RESULT("rmdir a link to a dir", rmdir("ld"));
    RESULT("unlink a link to a dir", unlink("ld"));
    printf("the dir survives: %d\n", stat("d", &st) == 0 && S_ISDIR(st.st_mode));

    umask(027);
    mkdir("m", 0777);
    stat("m", &st);
    printf("mkdir 0777 under umask 027: %03o\n", st.st_mode & 07777);
    chmod("m", 02775);
    mkdir("m/sub", 0777);
    close(open("m/file", O_CREAT | O_WRONLY, 0666));
    struct stat sub, file;
    stat("m/sub", &sub), stat("m/file", &file);
    printf("set-group-ID dir: subdir inherits the bit %d, file does not %d\n", (sub.st_mode & 02000) != 0,
           (file.st_mode & 02000) == 0);
    umask(022);
    chmod("f2", 06755);
    chown("f2", -1, -1);
    stat("f2", &st);
    printf("chown clears set-user-ID and set-group-ID: %04o\n", st.st_mode & 07777);
    RESULT("fchmodat AT_SYMLINK_NOFOLLOW on a link", fchmodat(AT_FDCWD, "lf2", 0600, AT_SYMLINK_NOFOLLOW));
    RESULT("lchown a link", lchown("lf2", 0, 0));

    chmod("f2", 0644);
    RESULT("access X_OK, no x bit", access("f2", X_OK));
    RESULT("access R_OK|W_OK, mode 0", (chmod("f2", 0), access("f2", R_OK | W_OK)));
    RESULT("access X_OK on a directory with no bits", (chmod("m", 0), access("m", X_OK)));
    RESULT("access bad mode", access("f2", 8));
    chmod("m", 0755);

    /* a copy of this program without any x bit cannot run, even for root */
    int in = open(argv[0], O_RDONLY), out = open("prog", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in), close(out);
    char *args[] = {"prog", NULL};
    RESULT("exec a file without x bits", execv("prog", args));
    chmod("prog", 0010);
    printf("group x bit only: access X_OK %s\n", access("prog", X_OK) ? errname(errno) : "ok");

    struct timespec ts[2] = {{100, 0}, {200, UTIME_OMIT}};
    RESULT("utimensat atime only", utimensat(AT_FDCWD, "f2", ts, 0));
    stat("f2", &st);
    long mtime_before = st.st_mtim.tv_sec;
    printf("atime %ld, mtime untouched %d\n", (long)st.st_atim.tv_sec, mtime_before != 200);
    ts[0].tv_nsec = UTIME_NOW, ts[1].tv_nsec = 5;
    ts[1].tv_sec = 300;
    utimensat(AT_FDCWD, "f2", ts, 0);
    stat("f2", &st);
    printf("UTIME_NOW atime is recent %d, mtime %ld.%09ld\n", st.st_atim.tv_sec > 1577836800,
           (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    ts[1].tv_nsec = 1000000000;
    RESULT("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, "f2", ts, 0));
    RESULT("utimensat bad flags", utimensat(AT_FDCWD, "f2", NULL, 0x4000));
    fd = open("f2", O_RDONLY);
    RESULT("futimens", futimens(fd, NULL));
    close(fd);
    ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
    struct stat before;
    stat("f2", &before);
    utimensat(AT_FDCWD, "f2", ts, 0);
    stat("f2", &st);
    printf("both UTIME_OMIT changes nothing: %d\n",
           st.st_ctim.tv_sec == before.st_ctim.tv_sec && st.st_ctim.tv_nsec == before.st_ctim.tv_nsec);

    struct statfs fs;
    RESULT("statfs", statfs(".", &fs));
    printf("statfs: block size %ld, blocks >= free %d, name length >= 60 %d\n", (long)fs.f_bsize,
           fs.f_blocks >= fs.f_bfree, fs.f_namelen >= 60);
    RESULT("statfs of nothing", statfs("nothing", &fs));
    int p[2];
    pipe(p);
    RESULT("fstatfs of a pipe", fstatfs(p[0], &fs));
    printf("a pipe's file system is pipefs: %d\n", fs.f_type == 0x50495045);
    statfs("/proc", &fs);
    printf("/proc is procfs: %d\n", fs.f_type == 0x9fa0);

    unlink("prog"), unlink("f2"), unlink("f3"), unlink("lf2"), unlink("lf3"), unlink("dangling");
    unlink("nowhere"), unlink("m/file"), rmdir("m/sub"), rmdir("m"), rmdir("d");
    chdir("/");
    RESULT("remove the scratch directory", rmdir(dir));
    puts("done");
    return 0;
}
