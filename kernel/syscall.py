"""System call dispatch: number -> handler, by an explicit table.

Numbers and argument counts come from kernel/sysnum.py, generated from syscalls.tbl
(the same table generates the guest stubs). A handler returns the result, or None when
it has set the registers itself (execve); SysError becomes -errno, a Fault on a user
pointer becomes -EFAULT. An unknown number is -ENOSYS with a one-line log.
"""
from . import arch, futex as X, itimer as I, lwp as L, sa as S, signal as G, sysfile as F, sysnum as N
from . import ptimer as PT, sigwait as W, sysmmap as MM, sysmeta as M, syspoll as Q, sysproc as P, sysres as R, systime as T
from .errno import EFAULT, EINTR, ENOSYS, SysError
from .vm import Fault

HANDLERS = {
    N.SYS_getcwd: F.sys_getcwd, N.SYS_dup: F.sys_dup, N.SYS_dup3: F.sys_dup3, N.SYS_fcntl: F.sys_fcntl,
    N.SYS_ioctl: F.sys_ioctl, N.SYS_mkdirat: F.sys_mkdirat, N.SYS_unlinkat: F.sys_unlinkat,
    N.SYS_chdir: F.sys_chdir, N.SYS_openat: F.sys_openat, N.SYS_close: F.sys_close,
    N.SYS_pipe2: F.sys_pipe2, N.SYS_getdents64: F.sys_getdents64, N.SYS_lseek: F.sys_lseek,
    N.SYS_read: F.sys_read, N.SYS_write: F.sys_write, N.SYS_readv: F.sys_readv,
    N.SYS_writev: F.sys_writev, N.SYS_newfstatat: F.sys_newfstatat, N.SYS_fstat: F.sys_fstat,
    N.SYS_pread64: F.sys_pread64, N.SYS_pwrite64: F.sys_pwrite64, N.SYS_fsync: F.sys_fsync,
    N.SYS_fdatasync: F.sys_fsync, N.SYS_ftruncate: F.sys_ftruncate, N.SYS_renameat: M.sys_renameat,
    N.SYS_renameat2: M.sys_renameat2,
    N.SYS_exit: P.sys_exit, N.SYS_exit_group: P.sys_exit_group, N.SYS_set_tid_address: P.sys_set_tid_address,
    N.SYS_nanosleep: P.sys_nanosleep, N.SYS_clock_gettime: P.sys_clock_gettime,
    N.SYS_sched_yield: P.sys_sched_yield, N.SYS_kill: G.sys_kill, N.SYS_rt_sigaction: G.sys_rt_sigaction,
    N.SYS_rt_sigprocmask: G.sys_rt_sigprocmask, N.SYS_setpgid: P.sys_setpgid,
    N.SYS_getpgid: P.sys_getpgid, N.SYS_setsid: P.sys_setsid, N.SYS_uname: P.sys_uname,
    N.SYS_getcpu: P.sys_getcpu, N.SYS_getpid: P.sys_getpid, N.SYS_getppid: P.sys_getppid,
    N.SYS_getuid: P.sys_getuid, N.SYS_geteuid: P.sys_getuid, N.SYS_getgid: P.sys_getuid,
    N.SYS_getegid: P.sys_getuid, N.SYS_gettid: P.sys_gettid, N.SYS_brk: P.sys_brk,
    N.SYS_munmap: MM.sys_munmap, N.SYS_clone: P.sys_clone, N.SYS_execve: P.sys_execve,
    N.SYS_mmap: MM.sys_mmap, N.SYS_mprotect: MM.sys_mprotect, N.SYS_wait4: P.sys_wait4,
    N.SYS_riscv_flush_icache: P.sys_riscv_flush_icache,
    N.SYS_procinfo: P.sys_procinfo, N.SYS_kstat: P.sys_kstat,
    N.SYS_futex: X.sys_futex, N.SYS_sched_setaffinity: L.sys_sched_setaffinity,
    N.SYS_sched_getaffinity: L.sys_sched_getaffinity, N.SYS_lwp_create: L.sys_lwp_create,
    N.SYS_lwp_exit: L.sys_lwp_exit, N.SYS_lwp_self: L.sys_lwp_self, N.SYS_lwp_park: L.sys_lwp_park,
    N.SYS_lwp_unpark: L.sys_lwp_unpark, N.SYS_lwp_wait: L.sys_lwp_wait, N.SYS_lwpinfo: L.sys_lwpinfo,
    N.SYS_hostclock: P.sys_hostclock, N.SYS_uevent: P.sys_uevent,
    N.SYS_rt_sigreturn: G.sys_rt_sigreturn, N.SYS_rt_sigsuspend: G.sys_rt_sigsuspend,
    N.SYS_rt_sigpending: G.sys_rt_sigpending, N.SYS_sigaltstack: G.sys_sigaltstack,
    N.SYS_tgkill: W.sys_tgkill, N.SYS_tkill: W.sys_tkill, N.SYS_getitimer: I.sys_getitimer,
    N.SYS_setitimer: I.sys_setitimer, N.SYS_sa_register: S.sys_sa_register,
    N.SYS_sa_stacks: S.sys_sa_stacks, N.SYS_sa_enable: S.sys_sa_enable,
    N.SYS_sa_setconcurrency: S.sys_sa_setconcurrency, N.SYS_sa_yield: S.sys_sa_yield,
    N.SYS_sa_preempt: S.sys_sa_preempt,
}

HANDLERS.update({       # issue 16: calls unmodified Linux programs make
    N.SYS_symlinkat: M.sys_symlinkat, N.SYS_linkat: M.sys_linkat, N.SYS_readlinkat: M.sys_readlinkat,
    N.SYS_statfs: M.sys_statfs, N.SYS_fstatfs: M.sys_fstatfs, N.SYS_faccessat: M.sys_faccessat,
    N.SYS_faccessat2: M.sys_faccessat2, N.SYS_fchmod: M.sys_fchmod, N.SYS_fchmodat: M.sys_fchmodat,
    N.SYS_fchmodat2: M.sys_fchmodat2, N.SYS_fchownat: M.sys_fchownat, N.SYS_fchown: M.sys_fchown,
    N.SYS_utimensat: M.sys_utimensat, N.SYS_umask: M.sys_umask, N.SYS_fchdir: F.sys_fchdir,
    N.SYS_sendfile: F.sys_sendfile, N.SYS_pselect6: Q.sys_pselect6, N.SYS_ppoll: Q.sys_ppoll,
    N.SYS_clock_getres: T.sys_clock_getres, N.SYS_clock_nanosleep: T.sys_clock_nanosleep,
    N.SYS_times: T.sys_times, N.SYS_getrusage: T.sys_getrusage, N.SYS_sysinfo: T.sys_sysinfo,
    N.SYS_setpriority: R.sys_setpriority, N.SYS_getpriority: R.sys_getpriority,
    N.SYS_setuid: R.sys_setuid, N.SYS_setgid: R.sys_setuid, N.SYS_setreuid: R.sys_setreuid,
    N.SYS_setregid: R.sys_setreuid, N.SYS_setresuid: R.sys_setresuid, N.SYS_setresgid: R.sys_setresuid,
    N.SYS_getresuid: R.sys_getresuid, N.SYS_getresgid: R.sys_getresuid, N.SYS_setfsuid: R.sys_setfsuid,
    N.SYS_setfsgid: R.sys_setfsuid, N.SYS_getgroups: R.sys_getgroups, N.SYS_setgroups: R.sys_setgroups,
    N.SYS_getrlimit: R.sys_getrlimit, N.SYS_setrlimit: R.sys_setrlimit, N.SYS_prlimit64: R.sys_prlimit64,
    N.SYS_prctl: R.sys_prctl, N.SYS_getrandom: R.sys_getrandom, N.SYS_membarrier: R.sys_membarrier,
    N.SYS_rt_sigtimedwait: W.sys_rt_sigtimedwait, N.SYS_rt_sigqueueinfo: W.sys_rt_sigqueueinfo,
    N.SYS_rt_tgsigqueueinfo: W.sys_rt_tgsigqueueinfo,
    N.SYS_timer_create: PT.sys_timer_create, N.SYS_timer_settime: PT.sys_timer_settime,
    N.SYS_timer_gettime: PT.sys_timer_gettime, N.SYS_timer_getoverrun: PT.sys_timer_getoverrun,
    N.SYS_timer_delete: PT.sys_timer_delete,
    N.SYS_mremap: MM.sys_mremap, N.SYS_madvise: MM.sys_madvise, N.SYS_mincore: MM.sys_mincore,
    N.SYS_msync: MM.sys_msync,
    N.SYS_gettimeofday: T.sys_gettimeofday, N.SYS_sched_getscheduler: R.sys_sched_getscheduler,
    N.SYS_sched_getparam: R.sys_sched_getparam, N.SYS_sched_get_priority_max: R.sys_sched_get_priority_max,
    N.SYS_sched_get_priority_min: R.sys_sched_get_priority_min,
    N.SYS_getsid: P.sys_getsid, N.SYS_truncate: F.sys_truncate, N.SYS_preadv: F.sys_preadv,
    N.SYS_pwritev: F.sys_pwritev, N.SYS_waitid: P.sys_waitid,
})

# LAB syscall BEGIN: the dispatch of the new call
HANDLERS[N.SYS_lwpcount] = L.sys_lwpcount
# LAB syscall END

# Calls that are restarted after a signal when no handler ran or it has SA_RESTART
# (Linux's -ERESTARTSYS set, less the ones Linux never restarts: nanosleep, sigsuspend).
RESTARTABLE = {N.SYS_read, N.SYS_write, N.SYS_readv, N.SYS_writev, N.SYS_wait4, N.SYS_waitid, N.SYS_openat,
               N.SYS_lwp_wait, N.SYS_ioctl}


class Syscalls:
    def __init__(self, kernel):
        self.k = kernel

    def dispatch(self, t) -> None:
        """Handle the ecall of thread t, whose registers are live on its hart.
        This is the hottest kernel path: keep it free of avoidable calls."""
        k = self.k
        hart = t.cpu.hart
        args = arch.syscall_args(hart)
        nr = args[0]
        hart.time += k.cost.SYSCALL_DISPATCH
        fn = HANDLERS.get(nr)
        if k.events is not None:
            k.event("syscall", t, nr=nr, name=N.NAMES.get(nr, "?"))
        if fn is None:
            k.log(f"pid {t.proc.pid} ({t.proc.name}): unknown syscall {nr}")
            ret = -ENOSYS
        else:
            try:
                ret = fn(k, t, *args[1:1 + N.NARGS[nr]])
            except SysError as e:
                ret = -e.errno
                if e.errno == EINTR and nr in RESTARTABLE:
                    t.restart = (args[1], k.sched.regs(t)[arch.PC] - arch.ECALL_SIZE)
            except Fault:
                ret = -EFAULT
        if ret is not None:
            if t.live is not None:
                t.live.hart.set_x(arch.SYSCALL_RET, ret)
            else:
                k.sched.set_reg(t, arch.SYSCALL_RET, ret)
        if k.events is not None:
            k.event("sysret", t, nr=nr, ret=ret)
