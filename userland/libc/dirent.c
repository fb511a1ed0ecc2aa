#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"

struct __dirstream {
    int fd;
    size_t pos, len;
    _Alignas(8) char buf[2048];
};

DIR *fdopendir(int fd)
{
    DIR *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    d->fd = fd;
    d->pos = d->len = 0;
    return d;
}

DIR *opendir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

struct dirent *readdir(DIR *d)
{
    if (d->pos >= d->len) {
        long n = __syscall_ret(__sys_getdents64(d->fd, d->buf, sizeof d->buf));
        if (n <= 0)
            return NULL;
        d->pos = 0;
        d->len = (size_t)n;
    }
    struct dirent *e = (struct dirent *)(d->buf + d->pos);
    if (e->d_reclen == 0) {
        errno = EIO;
        return NULL;
    }
    d->pos += e->d_reclen;
    return e;
}

int closedir(DIR *d)
{
    int r = close(d->fd);
    free(d);
    return r;
}

int dirfd(DIR *d) { return d->fd; }
