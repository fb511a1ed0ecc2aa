"""Linux errno values (the guest ABI): syscalls return -E*."""
EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR = 11, 12, 13, 14, 16, 17, 18, 19, 20, 21
EINVAL, ENFILE, EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS = 22, 23, 24, 25, 26, 27, 28, 29, 30
EMLINK, EPIPE, ERANGE = 31, 32, 34
EDEADLK, ENAMETOOLONG, ENOSYS, ENOTEMPTY, ELOOP, EOVERFLOW, EOPNOTSUPP, ETIMEDOUT = 35, 36, 38, 39, 40, 75, 95, 110


class SysError(Exception):
    """Raised inside a syscall to return -errno to the user."""

    def __init__(self, errno: int):
        super().__init__(errno)
        self.errno = errno
