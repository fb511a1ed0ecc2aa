/* fstests: end-to-end tests of the file-system calls and their Linux errno values.
   fstests [NAME...]        run the named cases (all without NAME) in /fstests; prints
                            "test NAME: OK" or "test NAME: FAILED (reason)" per case, then
                            ALL TESTS PASSED (exit 0) or SOME TESTS FAILED (exit 1).
   fstests fill PATH        write PATH until the disk is full; report; remove it
   fstests inodes DIR       create empty files in DIR until no inode is left; report; remove
   fstests stress P N SIZE  P processes each write N files of SIZE bytes, rename and
                            remove some, then every survivor is checked
   fstests persist write|check DIR   leave a known tree in DIR / verify it (a later boot)
   fstests durable PATH     write PATH, fsync it, print "synced", then spin forever */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char reason[512];
#define FAIL(...) (snprintf(reason, sizeof reason, __VA_ARGS__), reason)
#define CHECK(cond, ...) do { if (!(cond)) return FAIL(__VA_ARGS__); } while (0)
#define OK(call) do { errno = 0; if ((long)(call) < 0) return FAIL("%s: %s", #call, strerror(errno)); } while (0)
#define ERR(call, e) do { errno = 0; long r_ = (long)(call); if (r_ != -1 || errno != (e)) \
    return FAIL("%s: returned %ld, errno %d (%s), expected %s", #call, r_, errno, strerror(errno), #e); } while (0)

static char big[1 << 20];

static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static const char *get(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = 0;
    return buf;
}

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) < 0 ? -1 : st.st_size;
}

static const char *t_open(void)
{
    int fd;
    ERR(open("f", O_RDONLY), ENOENT);
    OK(fd = open("f", O_WRONLY | O_CREAT, 0644));
    OK(write(fd, "hello", 5));
    close(fd);
    ERR(open("f", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    OK(fd = open("f", O_WRONLY | O_APPEND));
    OK(lseek(fd, 0, SEEK_SET));
    OK(write(fd, " world", 6));
    close(fd);
    CHECK(strcmp(get("f"), "hello world") == 0, "O_APPEND: file holds '%s'", get("f"));
    OK(fd = open("f", O_RDWR | O_TRUNC));
    CHECK(size_of("f") == 0, "O_TRUNC left %ld bytes", size_of("f"));
    close(fd);
    ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
    ERR(open(".", O_WRONLY), EISDIR);
    ERR(open("new/", O_WRONLY | O_CREAT, 0644), EISDIR);
    ERR(open("nodir/x", O_WRONLY | O_CREAT, 0644), ENOENT);
    OK(fd = open(".", O_RDONLY | O_DIRECTORY));
    close(fd);
    return NULL;
}

static const char *t_rw(void)
{
    int fd;
    char b[64];
    OK(fd = open("f", O_RDWR | O_CREAT, 0644));
    OK(write(fd, "0123456789", 10));
    CHECK(lseek(fd, 2, SEEK_SET) == 2, "lseek SET");
    CHECK(read(fd, b, 3) == 3 && memcmp(b, "234", 3) == 0, "read after lseek");
    CHECK(lseek(fd, 1, SEEK_CUR) == 6, "lseek CUR");
    CHECK(lseek(fd, -1, SEEK_END) == 9, "lseek END");
    CHECK(read(fd, b, 10) == 1 && b[0] == '9', "short read at the end");
    CHECK(read(fd, b, 10) == 0, "read at EOF is not 0");
    ERR(lseek(fd, -20, SEEK_CUR), EINVAL);
    ERR(lseek(fd, 0, 7), EINVAL);
    CHECK(lseek(fd, 10000, SEEK_SET) == 10000, "lseek past the end");
    CHECK(write(fd, "Z", 1) == 1, "write past the end");
    CHECK(size_of("f") == 10001, "sparse size %ld", size_of("f"));
    CHECK(pread(fd, b, 4, 5000) == 4 && !b[0] && !b[3], "a hole reads as zeros");
    close(fd);
    OK(fd = open("f", O_RDONLY));
    ERR(write(fd, "x", 1), EBADF);
    close(fd);
    OK(fd = open("f", O_WRONLY));
    ERR(read(fd, b, 1), EBADF);
    close(fd);
    OK(fd = open(".", O_RDONLY));
    ERR(read(fd, b, 1), EISDIR);
    close(fd);
    ERR(read(99, b, 1), EBADF);
    ERR(write(-1, b, 1), EBADF);
    return NULL;
}

static const char *t_pread(void)
{
    int fd, p[2];
    char b[16];
    OK(fd = open("f", O_RDWR | O_CREAT, 0644));
    OK(write(fd, "abcdef", 6));
    CHECK(pwrite(fd, "XY", 2, 1) == 2, "pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == 6, "pwrite moved the offset");
    CHECK(pread(fd, b, 6, 0) == 6 && memcmp(b, "aXYdef", 6) == 0, "pread sees the pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == 6, "pread moved the offset");
    CHECK(pread(fd, b, 6, 100) == 0, "pread past the end is not 0");
    ERR(pread(fd, b, 1, -1), EINVAL);
    ERR(pwrite(fd, b, 1, -5), EINVAL);
    ERR(pwrite(fd, "x", 1, 4299202560L), EFBIG);   /* the largest file: 10 + 1024 + 1024^2 blocks */
    close(fd);
    OK(fd = open("f", O_WRONLY | O_APPEND));
    CHECK(pwrite(fd, "!", 1, 0) == 1, "pwrite O_APPEND");
    close(fd);
    CHECK(strcmp(get("f"), "aXYdef!") == 0, "O_APPEND pwrite did not append: '%s'", get("f"));
    OK(fd = open("f", O_WRONLY));
    ERR(pread(fd, b, 1, 0), EBADF);
    close(fd);
    OK(fd = open("f", O_RDONLY));
    ERR(pwrite(fd, "x", 1, 0), EBADF);
    close(fd);
    OK(pipe(p));
    ERR(pread(p[0], b, 1, 0), ESPIPE);
    ERR(pwrite(p[1], b, 1, 0), ESPIPE);
    ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
    close(p[0]);
    close(p[1]);
    ERR(pread(77, b, 1, 0), EBADF);
    ERR(syscall(SYS_pread64, 0, b, 1, 0), ESPIPE);   /* the console */
    return NULL;
}

static const char *t_stat(void)
{
    struct stat st, st2;
    int fd;
    OK(put("f", "12345"));
    OK(stat("f", &st));
    CHECK(S_ISREG(st.st_mode) && st.st_size == 5 && st.st_nlink == 1, "stat of a file");
    OK(fd = open("f", O_RDONLY));
    OK(fstat(fd, &st2));
    CHECK(st2.st_ino == st.st_ino && st2.st_size == 5, "fstat differs from stat");
    OK(fstatat(fd, "", &st2, AT_EMPTY_PATH));
    CHECK(st2.st_ino == st.st_ino, "AT_EMPTY_PATH");
    close(fd);
    OK(mkdir("d", 0755));
    OK(mkdir("d/a", 0755));
    OK(mkdir("d/b", 0755));
    OK(stat("d", &st));
    CHECK(S_ISDIR(st.st_mode) && st.st_nlink == 4, "directory nlink %u (want 4)", st.st_nlink);
    ERR(stat("nothing", &st), ENOENT);
    ERR(stat("f/x", &st), ENOTDIR);
    ERR(stat("", &st), ENOENT);
    OK(stat("/dev/console", &st));
    CHECK(S_ISCHR(st.st_mode), "/dev/console is not a character device");
    return NULL;
}

static const char *t_getdents(void)
{
    OK(mkdir("d", 0755));
    char path[64];
    for (int i = 0; i < 100; i++) {
        snprintf(path, sizeof path, "d/file%03d", i);
        OK(put(path, "x"));
    }
    OK(unlink("d/file050"));
    DIR *d = opendir("d");
    CHECK(d, "opendir: %s", strerror(errno));
    int seen[100] = { 0 }, dots = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            CHECK(e->d_type == DT_DIR, "'.' or '..' is not DT_DIR");
            continue;
        }
        int i = atoi(e->d_name + 4);
        CHECK(!strncmp(e->d_name, "file", 4) && i >= 0 && i < 100 && !seen[i], "odd entry %s", e->d_name);
        CHECK(e->d_type == DT_REG, "%s is not DT_REG", e->d_name);
        seen[i] = 1;
        n++;
    }
    closedir(d);
    CHECK(dots == 2 && n == 99 && !seen[50], "listed %d entries, %d dots", n, dots);
    int fd;
    OK(fd = open("d/file001", O_RDONLY));
    char buf[256];
    ERR(syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
    close(fd);
    return NULL;
}

static const char *t_mkdir(void)
{
    OK(mkdir("a", 0755));
    ERR(mkdir("a", 0755), EEXIST);
    OK(mkdir("a/b", 0755));
    OK(mkdir("a/b/c", 0755));
    OK(put("a/b/c/f", "deep"));
    CHECK(strcmp(get("a/b/c/f"), "deep") == 0, "nested file");
    ERR(mkdir("x/y", 0755), ENOENT);
    ERR(mkdir("a/b/c/f/g", 0755), ENOTDIR);
    ERR(mkdir("/", 0755), EEXIST);
    ERR(mkdir(".", 0755), EEXIST);
    return NULL;
}

static const char *t_unlink(void)
{
    OK(put("f", "x"));
    OK(unlink("f"));
    ERR(unlink("f"), ENOENT);
    OK(mkdir("d", 0755));
    ERR(unlink("d"), EISDIR);
    OK(put("d/f", "x"));
    ERR(rmdir("d"), ENOTEMPTY);
    ERR(rmdir("d/f"), ENOTDIR);
    ERR(rmdir("d/."), EINVAL);
    ERR(rmdir("d/.."), ENOTEMPTY);
    ERR(rmdir("/"), EBUSY);
    ERR(rmdir("/dev"), EBUSY);
    ERR(unlink("d/f/x"), ENOTDIR);
    OK(unlink("d/f"));
    OK(rmdir("d"));
    ERR(rmdir("d"), ENOENT);
    /* an open file outlives its name */
    int fd;
    char b[8];
    OK(fd = open("g", O_RDWR | O_CREAT, 0644));
    OK(write(fd, "alive", 5));
    OK(unlink("g"));
    ERR(open("g", O_RDONLY), ENOENT);
    CHECK(pwrite(fd, "still", 5, 5) == 5, "write to an unlinked file");
    CHECK(pread(fd, b, 8, 2) == 8 && memcmp(b, "ivestill", 8) == 0, "read of an unlinked file");
    close(fd);
    return NULL;
}

static const char *t_rename(void)
{
    struct stat st, st2;
    OK(put("a", "A"));
    OK(rename("a", "b"));
    ERR(stat("a", &st), ENOENT);
    CHECK(strcmp(get("b"), "A") == 0, "renamed file content");
    OK(put("c", "C"));
    OK(rename("c", "b"));                               /* replaces b */
    CHECK(strcmp(get("b"), "C") == 0, "replacing rename");
    OK(mkdir("d", 0755));
    OK(mkdir("e", 0755));
    OK(rename("b", "d/b"));
    CHECK(strcmp(get("d/b"), "C") == 0, "rename across directories");
    OK(rename("d", "e/d"));                            /* a directory moves: its '..' follows */
    OK(stat("e", &st));
    OK(stat("e/d/..", &st2));
    CHECK(st.st_ino == st2.st_ino, "'..' of a moved directory");
    OK(stat(".", &st));
    CHECK(st.st_nlink == 3, "old parent's nlink %u (want 3)", st.st_nlink);
    OK(stat("e", &st));
    CHECK(st.st_nlink == 3, "new parent's nlink %u (want 3)", st.st_nlink);
    ERR(rename("e", "e/d/x"), EINVAL);                 /* into itself */
    ERR(rename("nothing", "x"), ENOENT);
    OK(put("f", "F"));
    OK(mkdir("g", 0755));
    ERR(rename("f", "g"), EISDIR);
    ERR(rename("g", "f"), ENOTDIR);
    ERR(rename("g", "e"), ENOTEMPTY);
    ERR(rename("e/d", "e"), ENOTEMPTY);                /* onto its own ancestor */
    OK(mkdir("h", 0755));
    OK(rename("g", "h"));                               /* over an empty directory */
    ERR(stat("g", &st), ENOENT);
    ERR(renameat2(AT_FDCWD, "f", AT_FDCWD, "e/d/b", RENAME_NOREPLACE), EEXIST);
    ERR(renameat2(AT_FDCWD, "f", AT_FDCWD, "x", 2), EINVAL);   /* RENAME_EXCHANGE */
    ERR(rename("f", "/dev/f"), EXDEV);
    ERR(rename("f", "."), EBUSY);
    ERR(rename("/", "x"), EBUSY);
    ERR(rename("f", "nodir/f"), ENOENT);
    ERR(rename("f", "f/x"), ENOTDIR);
    OK(rename("f", "f"));
    OK(syscall(SYS_renameat, AT_FDCWD, "f", AT_FDCWD, "f2"));  /* asm-generic renameat, 38 */
    CHECK(strcmp(get("f2"), "F") == 0, "renameat");
    char name[80];
    memset(name, 'n', 61);
    name[61] = 0;
    ERR(rename("f2", name), ENAMETOOLONG);
    return NULL;
}

static const char *t_truncate(void)
{
    int fd, p[2];
    char b[16];
    OK(fd = open("f", O_RDWR | O_CREAT, 0644));
    memset(big, 'q', 20000);
    CHECK(write(fd, big, 20000) == 20000, "write");
    OK(ftruncate(fd, 5000));
    CHECK(size_of("f") == 5000, "shrunk to %ld", size_of("f"));
    OK(ftruncate(fd, 9000));
    CHECK(pread(fd, b, 4, 6000) == 4 && !b[0] && !b[3], "grown part reads as zeros");
    CHECK(pread(fd, b, 2, 4999) == 2 && b[0] == 'q' && !b[1], "the kept byte or the tail");
    ERR(ftruncate(fd, -1), EINVAL);
    OK(fsync(fd));
    OK(fdatasync(fd));
    close(fd);
    OK(fd = open("f", O_RDONLY));
    ERR(ftruncate(fd, 0), EINVAL);
    close(fd);
    OK(fd = open(".", O_RDONLY));
    ERR(ftruncate(fd, 0), EINVAL);
    OK(fsync(fd));
    close(fd);
    OK(pipe(p));
    ERR(ftruncate(p[1], 0), EINVAL);
    ERR(fsync(p[0]), EINVAL);
    close(p[0]);
    close(p[1]);
    ERR(fsync(55), EBADF);
    ERR(ftruncate(55, 0), EBADF);
    ERR(fsync(1), EINVAL);                              /* the console */
    return NULL;
}

static const char *t_cwd(void)
{
    char buf[256], base[256];
    CHECK(getcwd(base, sizeof base), "getcwd: %s", strerror(errno));
    OK(mkdir("a", 0755));
    OK(mkdir("a/b", 0755));
    OK(chdir("a/b"));
    CHECK(getcwd(buf, sizeof buf), "getcwd: %s", strerror(errno));
    char want[300];
    snprintf(want, sizeof want, "%s/a/b", base);
    CHECK(strcmp(buf, want) == 0, "getcwd says %s, want %s", buf, want);
    OK(put("rel", "r"));
    OK(chdir(".."));
    CHECK(strcmp(get("b/rel"), "r") == 0, "relative path after chdir ..");
    errno = 0;
    CHECK(!getcwd(buf, 3) && errno == ERANGE, "small getcwd buffer: %s", strerror(errno));
    ERR(chdir("b/rel"), ENOTDIR);
    ERR(chdir("nothing"), ENOENT);
    OK(chdir("b"));
    OK(unlink("rel"));
    OK(rmdir("../b"));
    errno = 0;
    CHECK(!getcwd(buf, sizeof buf) && errno == ENOENT, "getcwd in a removed directory");
    ERR(open("x", O_WRONLY | O_CREAT, 0644), ENOENT);
    OK(chdir(base));
    OK(chdir("/dev"));
    CHECK(getcwd(buf, sizeof buf) && !strcmp(buf, "/dev"), "getcwd in /dev: %s", buf);
    OK(chdir(".."));
    CHECK(getcwd(buf, sizeof buf) && !strcmp(buf, "/"), "'..' of /dev: %s", buf);
    OK(chdir(base));
    return NULL;
}

static const char *t_names(void)
{
    char name[300], path[400];
    memset(name, 'a', 60);
    name[60] = 0;
    OK(put(name, "60"));
    CHECK(strcmp(get(name), "60") == 0, "a 60-byte name");
    name[60] = 'a';
    name[61] = 0;
    ERR(open(name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
    ERR(mkdir(name, 0755), ENAMETOOLONG);
    ERR(open(name, O_RDONLY), ENAMETOOLONG);
    memset(path, 'p', 299);
    path[299] = 0;
    ERR(open(path, O_RDONLY), ENAMETOOLONG);
    OK(put("file", "f"));
    ERR(open("file/x", O_RDONLY), ENOTDIR);
    ERR(open("file/x", O_WRONLY | O_CREAT, 0644), ENOTDIR);
    ERR(mkdir("file/x", 0755), ENOTDIR);
    ERR(open("file/", O_RDONLY), ENOTDIR);
    return NULL;
}

static const char *t_emfile(void)
{
    int fds[64], n = 0, fd;
    while ((fd = open(".", O_RDONLY)) >= 0)
        fds[n++] = fd;
    int err = errno;
    ERR(open("created", O_WRONLY | O_CREAT, 0644), EMFILE);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    CHECK(err == EMFILE, "open failed with %s, not EMFILE", strerror(err));
    CHECK(n > 20, "only %d files could be open", n);
    ERR(open("created", O_RDONLY), ENOENT);             /* nothing was created */
    return NULL;
}

static const char *t_bigfile(void)
{
    /* 5 MiB: past the direct and indirect blocks, into the double indirect ones */
    int fd;
    OK(fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644));
    for (long off = 0; off < 5L << 20; off += sizeof big) {
        for (long i = 0; i < (long)sizeof big; i += 8)
            *(long *)(big + i) = off + i;
        CHECK(write(fd, big, sizeof big) == (ssize_t)sizeof big, "write at %ld: %s", off, strerror(errno));
    }
    CHECK(size_of("big") == 5L << 20, "size %ld", size_of("big"));
    for (long off = 0; off < 5L << 20; off += 12345 * 8) {
        long v;
        CHECK(pread(fd, &v, 8, off) == 8 && v == off, "word at %ld reads %ld", off, v);
    }
    OK(ftruncate(fd, (1L << 20) + 100));
    long v;
    CHECK(pread(fd, &v, 8, 1L << 20) == 8 && v == 1L << 20, "after truncation");
    close(fd);
    OK(unlink("big"));
    return NULL;
}

struct test {
    const char *name;
    const char *(*fn)(void);
};

static const struct test tests[] = {
    { "open", t_open }, { "rw", t_rw }, { "pread", t_pread }, { "stat", t_stat },
    { "getdents", t_getdents }, { "mkdir", t_mkdir }, { "unlink", t_unlink }, { "rename", t_rename },
    { "truncate", t_truncate }, { "cwd", t_cwd }, { "names", t_names }, { "emfile", t_emfile },
    { "bigfile", t_bigfile },
};

static int run(const struct test *t)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/fstests/%s", t->name);
    if (mkdir("/fstests", 0755) < 0 && errno != EEXIST) {
        printf("test %s: FAILED (mkdir /fstests: %s)\n", t->name, strerror(errno));
        return 0;
    }
    if (mkdir(dir, 0755) < 0 || chdir(dir) < 0) {
        printf("test %s: FAILED (setup %s: %s)\n", t->name, dir, strerror(errno));
        return 0;
    }
    const char *why = t->fn();
    chdir("/");
    printf("test %s: %s%s%s\n", t->name, why ? "FAILED (" : "OK", why ? why : "", why ? ")" : "");
    return why == NULL;
}

/* ---- the commands that are not cases ---- */

static int fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        printf("fill: open: %s\n", strerror(errno));
        return 1;
    }
    memset(big, 'F', sizeof big);
    long total = 0;
    ssize_t n;
    int shorts = 0;
    while ((n = write(fd, big, 65536)) > 0) {
        total += n;
        shorts += n < 65536;
    }
    int err = errno;
    int fs = fsync(fd);
    close(fd);
    long size = size_of(path);
    printf("fill: wrote %ld bytes, then %s; size %ld; %d short writes; fsync %d\n", total,
           n < 0 ? strerror(err) : "0", size, shorts, fs);
    if (unlink(path) < 0)
        printf("fill: unlink: %s\n", strerror(errno));
    return !(n < 0 && err == ENOSPC && size == total);
}

static int inodes(const char *dir)
{
    char path[128];
    int n = 0, err = 0;
    mkdir(dir, 0755);
    for (;; n++) {
        snprintf(path, sizeof path, "%s/i%d", dir, n);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        if (fd < 0) {
            err = errno;
            break;
        }
        close(fd);
    }
    int m = mkdir("extra", 0755) < 0 ? errno : 0;
    printf("inodes: created %d files, then %s; mkdir: %s\n", n, strerror(err), m ? strerror(m) : "ok");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/i%d", dir, i);
        unlink(path);
    }
    rmdir("extra");
    return !(err == ENOSPC && m == ENOSPC);
}

static void pattern(char *buf, long size, int p, int i)
{
    for (long k = 0; k < size; k++)
        buf[k] = (char)('a' + (p * 7 + i * 3 + k) % 26);
}

static int stress_child(int p, int nfiles, long size)
{
    char path[128], to[128];
    snprintf(path, sizeof path, "/stress/p%d", p);
    if (mkdir(path, 0755) < 0)
        return 1;
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "/stress/p%d/f%d", p, i);
        pattern(big, size, p, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, big, size) != size || close(fd) < 0)
            return 2;
        if (i % 3 == 1) {                                   /* move every third into the shared dir */
            snprintf(to, sizeof to, "/stress/shared/p%d-f%d", p, i);
            if (rename(path, to) < 0)
                return 3;
        }
        if (i % 5 == 4) {                                   /* and remove every fifth */
            snprintf(to, sizeof to, "/stress/p%d/f%d", p, i - 2);
            if (unlink(to) < 0 && errno != ENOENT)
                return 4;
        }
    }
    return 0;
}

static int stress(int procs, int nfiles, long size)
{
    if (size > (long)sizeof big || procs > 16)
        return 2;
    mkdir("/stress", 0755);
    mkdir("/stress/shared", 0755);
    for (int p = 0; p < procs; p++)
        if (fork() == 0)
            _exit(stress_child(p, nfiles, size));
    int st, bad = 0;
    while (wait(&st) > 0)
        bad |= !WIFEXITED(st) || WEXITSTATUS(st);
    long checked = 0;
    static char got[1 << 16];
    for (int p = 0; p < procs; p++)
        for (int i = 0; i < nfiles; i++) {
            char path[128];
            int moved = i % 3 == 1, removed = !moved && ((i + 2) % 5 == 4) && i + 2 < nfiles;
            if (moved)
                snprintf(path, sizeof path, "/stress/shared/p%d-f%d", p, i);
            else
                snprintf(path, sizeof path, "/stress/p%d/f%d", p, i);
            int fd = open(path, O_RDONLY);
            if (removed) {
                if (fd >= 0) {
                    printf("stress: %s should be gone\n", path);
                    bad = 1;
                    close(fd);
                }
                continue;
            }
            pattern(big, size, p, i);
            if (fd < 0 || read(fd, got, sizeof got) != size || memcmp(got, big, size)) {
                printf("stress: %s is wrong\n", path);
                bad = 1;
            }
            if (fd >= 0)
                close(fd);
            checked++;
        }
    printf("stress: %d processes, %ld files checked: %s\n", procs, checked, bad ? "FAILED" : "OK");
    return bad;
}

static int persist(const char *how, const char *dir)
{
    char path[128];
    int writing = !strcmp(how, "write");
    if (writing && mkdir(dir, 0755) < 0) {
        printf("persist: mkdir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/sub", dir);
    if (writing)
        mkdir(path, 0755);
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof path, "%s/sub/file%d", dir, i);
        long size = 1000L * i * i + 1;
        pattern(big, size, 9, i);
        if (writing) {
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            bad |= fd < 0 || write(fd, big, size) != size || fsync(fd) < 0 || close(fd) < 0;
        } else if (i) {                                     /* file0 was renamed to moved */
            static char got[1 << 19];
            int fd = open(path, O_RDONLY);
            bad |= fd < 0 || read(fd, got, sizeof got) != size || memcmp(got, big, size);
            if (fd >= 0)
                close(fd);
        }
    }
    snprintf(path, sizeof path, "%s/sub/file0", dir);
    char moved[128];
    snprintf(moved, sizeof moved, "%s/moved", dir);
    if (writing)
        bad |= rename(path, moved) < 0;
    else
        bad |= size_of(moved) != 1 || size_of(path) != -1;
    printf("persist %s %s: %s\n", how, dir, bad ? "FAILED" : "OK");
    return bad;
}

static int durable(const char *path)
{
    pattern(big, 100000, 4, 2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, big, 100000) != 100000 || fsync(fd) < 0) {
        printf("durable: %s\n", strerror(errno));
        return 1;
    }
    printf("synced\n");
    fflush(stdout);
    for (volatile long i = 0;; i++)
        ;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "fill"))
        return fill(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "inodes"))
        return inodes(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "stress"))
        return stress(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "persist"))
        return persist(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "durable"))
        return durable(argv[2]);
    int ntests = (int)(sizeof tests / sizeof tests[0]), ran = 0, passed = 0;
    for (int i = 0; i < ntests; i++) {
        int want = argc == 1;
        for (int j = 1; j < argc; j++)
            want |= !strcmp(argv[j], tests[i].name);
        if (want) {
            ran++;
            passed += run(&tests[i]);
        }
    }
    if (ran != argc - 1 && argc > 1) {
        fprintf(stderr, "fstests: unknown test name\n");
        return 2;
    }
    printf(passed == ran ? "ALL TESTS PASSED\n" : "SOME TESTS FAILED\n");
    return passed != ran;
}
