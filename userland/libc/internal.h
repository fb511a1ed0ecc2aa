/* libc-internal declarations: the raw stubs from syscalls.S (result or -errno). */
#ifndef _LIBC_INTERNAL_H
#define _LIBC_INTERNAL_H
#include <sys/types.h>

struct stat;
struct timespec;
struct iovec;
struct sigaction;
struct utsname;
struct procinfo;
struct kstat;

/* A raw result in [-4095, -1] becomes errno and -1. */
long __syscall_ret(long r);
void __stdio_flush_all(void);

long __sys_getcwd(char *buf, size_t size);
long __sys_dup(int fd);
long __sys_dup3(int fd, int fd2, int flags);
long __sys_fcntl(int fd, int cmd, long arg);
long __sys_ioctl(int fd, unsigned long req, long arg);
long __sys_mkdirat(int dirfd, const char *path, mode_t mode);
long __sys_unlinkat(int dirfd, const char *path, int flags);
long __sys_chdir(const char *path);
long __sys_openat(int dirfd, const char *path, int flags, mode_t mode);
long __sys_close(int fd);
long __sys_pipe2(int *fds, int flags);
long __sys_getdents64(int fd, void *buf, size_t n);
long __sys_lseek(int fd, off_t off, int whence);
long __sys_pread64(int fd, void *buf, size_t n, off_t off);
long __sys_pwrite64(int fd, const void *buf, size_t n, off_t off);
long __sys_fsync(int fd);
long __sys_fdatasync(int fd);
long __sys_ftruncate(int fd, off_t length);
long __sys_renameat(int olddirfd, const char *old, int newdirfd, const char *new);
long __sys_renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned flags);
long __sys_read(int fd, void *buf, size_t n);
long __sys_write(int fd, const void *buf, size_t n);
long __sys_readv(int fd, const struct iovec *iov, int n);
long __sys_writev(int fd, const struct iovec *iov, int n);
long __sys_newfstatat(int dirfd, const char *path, struct stat *st, int flags);
long __sys_fstat(int fd, struct stat *st);
long __sys_exit(int status);
long __sys_exit_group(int status);
long __sys_set_tid_address(int *p);
long __sys_nanosleep(const struct timespec *req, struct timespec *rem);
long __sys_clock_gettime(clockid_t clk, struct timespec *ts);
long __sys_sched_yield(void);
long __sys_kill(pid_t pid, int sig);
long __sys_rt_sigaction(int sig, const struct sigaction *act, struct sigaction *old, size_t sz);
long __sys_rt_sigprocmask(int how, const void *set, void *old, size_t sz);
long __sys_setpgid(pid_t pid, pid_t pgid);
long __sys_getpgid(pid_t pid);
long __sys_setsid(void);
long __sys_uname(struct utsname *u);
long __sys_getcpu(unsigned *cpu, unsigned *node, void *cache);
long __sys_getpid(void);
long __sys_getppid(void);
long __sys_getuid(void);
long __sys_geteuid(void);
long __sys_getgid(void);
long __sys_getegid(void);
long __sys_gettid(void);
long __sys_brk(void *addr);
long __sys_munmap(void *addr, size_t len);
long __sys_clone(unsigned long flags, void *stack, int *ptid, void *tls, int *ctid);
long __sys_execve(const char *path, char *const argv[], char *const envp[]);
long __sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
long __sys_mprotect(void *addr, size_t len, int prot);
long __sys_wait4(pid_t pid, int *status, int options, void *ru);
long __sys_procinfo(struct procinfo *buf, int n);
long __sys_kstat(struct kstat *st);

/* Threads (docs/abi.md "Threads (LWPs)"); thread.c. */
struct lwpinfo;
long __sys_futex(volatile int *uaddr, int op, int val, const struct timespec *timeout, int *uaddr2, int val3);
long __sys_sched_setaffinity(int lwpid, size_t size, const void *mask);
long __sys_sched_getaffinity(int lwpid, size_t size, void *mask);
long __sys_lwp_create(void (*entry)(void *), void *arg, void *stack_top, int flags);
long __sys_lwp_exit(void);
long __sys_lwp_self(void);
long __sys_lwp_park(long timeout_ns);
long __sys_lwp_unpark(int lwpid);
long __sys_lwp_wait(int lwpid);
long __sys_lwpinfo(struct lwpinfo *buf, int n);
// LAB syscall BEGIN: the raw stub's prototype
long __sys_lwpcount(int pid);
// LAB syscall END
long __sys_hostclock(struct timespec *ts);

/* Futex locks for the libc's own data (Drepper's three-state mutex); thread.c. */
void __lock(volatile int *l);
void __unlock(volatile int *l);
int __trylock(volatile int *l);
void *__thread_self(void);   /* identity of the calling thread, never NULL */
/* fork() holds these across clone so the child's copies are consistent. */
void __malloc_lock(void);
void __malloc_unlock(void);
void __stdio_lock_all(void);
void __stdio_unlock_all(void);
void __fork_prepare(void);
void __fork_parent(void);
void __fork_child(void);

#endif
