#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <kos.h>
#include "internal.h"

#define RET(call) return __syscall_ret(call)

ssize_t read(int fd, void *buf, size_t n) { RET(__sys_read(fd, buf, n)); }
ssize_t write(int fd, const void *buf, size_t n) { RET(__sys_write(fd, buf, n)); }
ssize_t readv(int fd, const struct iovec *iov, int n) { RET(__sys_readv(fd, iov, n)); }
ssize_t writev(int fd, const struct iovec *iov, int n) { RET(__sys_writev(fd, iov, n)); }
int close(int fd) { RET(__sys_close(fd)); }
off_t lseek(int fd, off_t off, int whence) { RET(__sys_lseek(fd, off, whence)); }
ssize_t pread(int fd, void *buf, size_t n, off_t off) { RET(__sys_pread64(fd, buf, n, off)); }
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { RET(__sys_pwrite64(fd, buf, n, off)); }
int fsync(int fd) { RET(__sys_fsync(fd)); }
int fdatasync(int fd) { RET(__sys_fdatasync(fd)); }
int ftruncate(int fd, off_t length) { RET(__sys_ftruncate(fd, length)); }
/* riscv64 Linux has no renameat: like musl, every rename is renameat2. */
int renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned flags)
{
    RET(__sys_renameat2(olddirfd, old, newdirfd, new, flags));
}
int renameat(int olddirfd, const char *old, int newdirfd, const char *new) { return renameat2(olddirfd, old, newdirfd, new, 0); }
int rename(const char *old, const char *new) { return renameat2(AT_FDCWD, old, AT_FDCWD, new, 0); }
int dup(int fd) { RET(__sys_dup(fd)); }
int dup3(int fd, int fd2, int flags) { RET(__sys_dup3(fd, fd2, flags)); }
int pipe(int fds[2]) { RET(__sys_pipe2(fds, 0)); }
int pipe2(int fds[2], int flags) { RET(__sys_pipe2(fds, flags)); }
int chdir(const char *path) { RET(__sys_chdir(path)); }
int unlink(const char *path) { RET(__sys_unlinkat(AT_FDCWD, path, 0)); }
int rmdir(const char *path) { RET(__sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR)); }
int mkdir(const char *path, mode_t mode) { RET(__sys_mkdirat(AT_FDCWD, path, mode)); }
pid_t getpid(void) { return __sys_getpid(); }
pid_t getppid(void) { return __sys_getppid(); }
pid_t gettid(void) { return __sys_gettid(); }
uid_t getuid(void) { return __sys_getuid(); }
uid_t geteuid(void) { return __sys_geteuid(); }
gid_t getgid(void) { return __sys_getgid(); }
gid_t getegid(void) { return __sys_getegid(); }
int setpgid(pid_t pid, pid_t pgid) { RET(__sys_setpgid(pid, pgid)); }
pid_t getpgid(pid_t pid) { RET(__sys_getpgid(pid)); }
pid_t getpgrp(void) { return __sys_getpgid(0); }
pid_t setsid(void) { RET(__sys_setsid()); }
int execve(const char *path, char *const argv[], char *const envp[]) { RET(__sys_execve(path, argv, envp)); }
int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
int kill(pid_t pid, int sig) { RET(__sys_kill(pid, sig)); }
int raise(int sig) { return kill(getpid(), sig); }
int sched_yield(void) { RET(__sys_sched_yield()); }
int clock_gettime(clockid_t clk, struct timespec *ts) { RET(__sys_clock_gettime(clk, ts)); }
int nanosleep(const struct timespec *req, struct timespec *rem) { RET(__sys_nanosleep(req, rem)); }
int fstat(int fd, struct stat *st) { RET(__sys_fstat(fd, st)); }
int fstatat(int dirfd, const char *path, struct stat *st, int flags) { RET(__sys_newfstatat(dirfd, path, st, flags)); }
int stat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, 0); }
int lstat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
int munmap(void *addr, size_t len) { RET(__sys_munmap(addr, len)); }
int mprotect(void *addr, size_t len, int prot) { RET(__sys_mprotect(addr, len, prot)); }
pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) { RET(__sys_wait4(pid, status, options, ru)); }
pid_t waitpid(pid_t pid, int *status, int options) { return wait4(pid, status, options, 0); }
pid_t wait(int *status) { return wait4(-1, status, 0, 0); }
int uname(struct utsname *u) { RET(__sys_uname(u)); }
int procinfo(struct procinfo *buf, int n) { RET(__sys_procinfo(buf, n)); }
int kstat(struct kstat *st) { RET(__sys_kstat(st)); }

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)__syscall_ret(__sys_mmap(addr, len, prot, flags, fd, off));
}

int dup2(int fd, int fd2)
{
    if (fd == fd2) /* dup3 rejects equal fds; dup2 only checks fd is open */
        return __syscall_ret(__sys_fcntl(fd, F_GETFD, 0)) < 0 ? -1 : fd;
    RET(__sys_dup3(fd, fd2, 0));
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    RET(__sys_openat(AT_FDCWD, path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    RET(__sys_openat(dirfd, path, flags, mode));
}

int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    RET(__sys_fcntl(fd, cmd, arg));
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    long arg = va_arg(ap, long);
    va_end(ap);
    RET(__sys_ioctl(fd, req, arg));
}

/* Like musl: fork is clone(SIGCHLD, 0, 0, 0, 0). The libc's locks (thread list, stdio,
   malloc) are held across it, so the child never inherits a lock some other thread, absent
   in the child, was holding half-way through an update. */
pid_t fork(void)
{
    __fork_prepare();
    long r = __sys_clone(SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        __fork_child();
    else
        __fork_parent();
    RET(r);
}

int execvp(const char *file, char *const argv[])
{
    if (!*file) {
        errno = ENOENT;
        return -1;
    }
    if (strchr(file, '/'))
        return execve(file, argv, environ);
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin";
    size_t flen = strlen(file);
    int err = ENOENT;
    for (const char *p = path;; p++) {
        const char *e = strchr(p, ':');
        size_t dlen = e ? (size_t)(e - p) : strlen(p);
        char buf[PATH_MAX];
        if (dlen + flen + 2 <= sizeof buf) {
            memcpy(buf, p, dlen);
            size_t i = dlen;
            if (i)
                buf[i++] = '/';
            memcpy(buf + i, file, flen + 1);
            execve(buf, argv, environ);
            if (errno != ENOENT && errno != ENOTDIR)
                err = errno;  /* remember e.g. EACCES, keep searching */
        }
        if (!e)
            break;
        p = e;
    }
    errno = err;
    return -1;
}

int brk(void *addr)
{
    if ((void *)__sys_brk(addr) != addr) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void *sbrk(intptr_t inc)
{
    char *cur = (char *)__sys_brk(0);
    if (inc && (char *)__sys_brk(cur + inc) != cur + inc) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return cur;
}

char *getcwd(char *buf, size_t size)
{
    return __syscall_ret(__sys_getcwd(buf, size)) < 0 ? NULL : buf;
}

int usleep(useconds_t usec)
{
    struct timespec ts = { usec / 1000000, (long)(usec % 1000000) * 1000 };
    return nanosleep(&ts, 0);
}

unsigned sleep(unsigned seconds)
{
    struct timespec ts = { seconds, 0 };
    if (nanosleep(&ts, &ts) < 0)
        return (unsigned)ts.tv_sec;
    return 0;
}

time_t time(time_t *t)
{
    struct timespec ts = { 0, 0 };
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

int sched_getcpu(void)
{
    unsigned cpu = 0;
    long r = __syscall_ret(__sys_getcpu(&cpu, 0, 0));
    return r < 0 ? -1 : (int)cpu;
}

/* A tty answers TIOCGWINSZ; TIOCGPGRP is accepted too for a minimal console driver. */
int isatty(int fd)
{
    struct winsize ws;
    int pgrp;
    if (__sys_ioctl(fd, TIOCGWINSZ, (long)&ws) == 0 || __sys_ioctl(fd, TIOCGPGRP, (long)&pgrp) == 0)
        return 1;
    errno = ENOTTY;
    return 0;
}

int tcgetattr(int fd, struct termios *t)
{
    return ioctl(fd, TCGETS, t);
}

int tcsetattr(int fd, int when, const struct termios *t)
{
    if (when < TCSANOW || when > TCSAFLUSH) {
        errno = EINVAL;
        return -1;
    }
    return ioctl(fd, TCSETS + when, t);
}

/* As glibc and musl: no input or output processing, no echo, no signals, 8-bit bytes, and a
   read returns as soon as one byte is there. */
void cfmakeraw(struct termios *t)
{
    t->c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t->c_oflag &= ~OPOST;
    t->c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t->c_cflag &= ~(CSIZE | PARENB);
    t->c_cflag |= CS8;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

pid_t tcgetpgrp(int fd)
{
    int pgrp;
    if (ioctl(fd, TIOCGPGRP, &pgrp) < 0)
        return -1;
    return pgrp;
}

int tcsetpgrp(int fd, pid_t pgrp)
{
    int p = pgrp;
    return ioctl(fd, TIOCSPGRP, &p);
}
