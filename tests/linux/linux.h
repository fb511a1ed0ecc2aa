/* Helpers shared by the programs of tests/linux: the errno names a check prints, so the
 * expected output reads "mmap len 0: EINVAL" whatever the libc's message text. */
#ifndef TESTS_LINUX_H
#define TESTS_LINUX_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *errname(int e)
{
    static const struct { int e; const char *name; } names[] = {
        {0, "0"}, {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"},
        {EIO, "EIO"}, {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {ENOEXEC, "ENOEXEC"},
        {EBADF, "EBADF"}, {ECHILD, "ECHILD"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"}, {EFBIG, "EFBIG"},
        {ENOSPC, "ENOSPC"}, {ESPIPE, "ESPIPE"}, {EROFS, "EROFS"}, {EPIPE, "EPIPE"},
        {ERANGE, "ERANGE"}, {EDEADLK, "EDEADLK"}, {ENAMETOOLONG, "ENAMETOOLONG"},
        {ENOSYS, "ENOSYS"}, {ENOTEMPTY, "ENOTEMPTY"}, {ELOOP, "ELOOP"},
        {EOVERFLOW, "EOVERFLOW"}, {ETIMEDOUT, "ETIMEDOUT"}, {ENOTSUP, "ENOTSUP"},
        {ECANCELED, "ECANCELED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    static char buf[32];
    snprintf(buf, sizeof buf, "errno %d", e);
    return buf;
}

/* "what: ok" when cond holds, else "what: FAILED (errno NAME)"; returns cond. */
#define CHECK(what, cond) ({ int c_ = !!(cond); check_(what, c_, errno); })
static inline int check_(const char *what, int ok, int e)
{
    if (ok)
        printf("%s: ok\n", what);
    else
        printf("%s: FAILED (errno %s)\n", what, errname(e));
    return ok;
}

/* "what: NAME" for a call that returned -1 (NAME of its errno), "what: ok" otherwise. */
#define RESULT(what, ret) ({ long r_ = (long)(ret); result_(what, r_, errno); })
static inline void result_(const char *what, long ret, int e)
{
    printf("%s: %s\n", what, ret == -1 ? errname(e) : "ok");
}
#endif
