#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define F_EOF 1
#define F_ERR 2
#define F_ALLOC 4   /* FILE and buffer came from malloc */

/* A stream is either writing (wlen bytes pending) or reading (buf[rpos..rlen) unread).
   Threads: every public call holds the stream's lock (recursive: flockfile), so one
   printf/puts/fwrite is never interleaved with another thread's on the same FILE. The list
   of streams has its own lock, taken before any stream's (fflush(NULL), fork). */
struct __file {
    int fd;
    int mode;       /* _IOFBF, _IOLBF or _IONBF */
    int flags;
    int ungot;      /* pushed-back char, or -1 */
    unsigned char *buf;
    size_t size;
    size_t wlen, rpos, rlen;
    struct __file *next;
    volatile int lock;   /* futex lock word */
    int lockcount;       /* recursion depth of the owner */
    void *owner;         /* __thread_self() of the holder */
};

static unsigned char inbuf[BUFSIZ], outbuf[BUFSIZ], errbuf[1];
static FILE f_in = { 0, _IOFBF, 0, -1, inbuf, sizeof inbuf, 0, 0, 0, 0 };
static FILE f_out = { 1, _IOLBF, 0, -1, outbuf, sizeof outbuf, 0, 0, 0, &f_in };
static FILE f_err = { 2, _IONBF, 0, -1, errbuf, sizeof errbuf, 0, 0, 0, &f_out };
static FILE *files = &f_err;
static volatile int files_lock;

FILE *const stdin = &f_in;
FILE *const stdout = &f_out;
FILE *const stderr = &f_err;

void flockfile(FILE *f)
{
    void *me = __thread_self();
    if (f->owner == me) {
        f->lockcount++;
        return;
    }
    __lock(&f->lock);
    f->owner = me;
    f->lockcount = 1;
}

int ftrylockfile(FILE *f)
{
    void *me = __thread_self();
    if (f->owner == me) {
        f->lockcount++;
        return 0;
    }
    if (!__trylock(&f->lock))
        return -1;
    f->owner = me;
    f->lockcount = 1;
    return 0;
}

void funlockfile(FILE *f)
{
    if (--f->lockcount == 0) {
        f->owner = 0;
        __unlock(&f->lock);
    }
}

void __stdio_lock_all(void)
{
    __lock(&files_lock);
    for (FILE *g = files; g; g = g->next)
        flockfile(g);
}

void __stdio_unlock_all(void)
{
    for (FILE *g = files; g; g = g->next)
        funlockfile(g);
    __unlock(&files_lock);
}

static int write_all(FILE *f, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            f->flags |= F_ERR;
            return EOF;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Drop read-ahead, moving the file offset back to the logical position. Unless forced,
   input that cannot be given back (pipes, ttys) stays buffered. */
static void drop_input(FILE *f, int force)
{
    off_t unread = (off_t)(f->rlen - f->rpos) + (f->ungot >= 0);
    if (unread && lseek(f->fd, -unread, SEEK_CUR) < 0 && !force)
        return;
    f->rpos = f->rlen = 0;
    f->ungot = -1;
}

static int fflush_u(FILE *f)
{
    if (f->rpos < f->rlen || f->ungot >= 0)
        drop_input(f, 0);
    size_t n = f->wlen;
    f->wlen = 0;
    return n ? write_all(f, f->buf, n) : 0;
}

int fflush(FILE *f)
{
    int r = 0;
    if (!f) {
        __lock(&files_lock);
        for (FILE *g = files; g; g = g->next) {   /* output streams only */
            flockfile(g);
            if (g->wlen && fflush_u(g))
                r = EOF;
            funlockfile(g);
        }
        __unlock(&files_lock);
        return r;
    }
    flockfile(f);
    r = fflush_u(f);
    funlockfile(f);
    return r;
}

void __stdio_flush_all(void)
{
    fflush(NULL);
}

static void prepare_write(FILE *f)
{
    if (f->rpos < f->rlen || f->ungot >= 0)
        drop_input(f, 1);   /* the buffer is about to hold output */
}

static size_t fwrite_u(const void *p, size_t size, size_t n, FILE *f)
{
    size_t total = size * n;
    const unsigned char *s = p;
    if (!total)
        return 0;
    prepare_write(f);
    if (f->mode == _IONBF || total >= f->size) {
        if (fflush(f) || write_all(f, s, total))
            return 0;
        return n;
    }
    if (f->size - f->wlen < total && fflush(f))
        return 0;
    memcpy(f->buf + f->wlen, s, total);
    f->wlen += total;
    if (f->wlen == f->size || (f->mode == _IOLBF && memchr(s, '\n', total)))
        if (fflush(f))
            return 0;
    return n;
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    flockfile(f);
    size_t r = fwrite_u(p, size, n, f);
    funlockfile(f);
    return r;
}

int fputc(int c, FILE *f)
{
    unsigned char ch = (unsigned char)c;
    return fwrite(&ch, 1, 1, f) ? ch : EOF;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, stdout); }

int fputs(const char *s, FILE *f)
{
    size_t n = strlen(s);
    return n && fwrite(s, 1, n, f) != n ? EOF : 0;
}

int puts(const char *s)
{
    flockfile(stdout);   /* the line and its newline in one piece */
    int r = fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF ? EOF : 0;
    funlockfile(stdout);
    return r;
}

static int refill(FILE *f)
{
    if (f->flags & F_EOF)
        return EOF;
    if (f->wlen && fflush(f))
        return EOF;
    if (f != &f_out && f_out.mode == _IOLBF && f_out.wlen && ftrylockfile(&f_out) == 0) {
        fflush_u(&f_out);   /* show a pending prompt before blocking on input */
        funlockfile(&f_out);   /* (try: never wait for stdout while holding f) */
    }
    ssize_t n;
    do
        n = read(f->fd, f->buf, f->mode == _IONBF ? 1 : f->size);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        f->flags |= n ? F_ERR : F_EOF;
        return EOF;
    }
    f->rpos = 0;
    f->rlen = (size_t)n;
    return 0;
}

static int fgetc_u(FILE *f)
{
    if (f->ungot >= 0) {
        int c = f->ungot;
        f->ungot = -1;
        return c;
    }
    if (f->rpos == f->rlen && refill(f))
        return EOF;
    return f->buf[f->rpos++];
}

int fgetc(FILE *f)
{
    flockfile(f);
    int c = fgetc_u(f);
    funlockfile(f);
    return c;
}

int getc(FILE *f) { return fgetc(f); }
int getchar(void) { return fgetc(stdin); }

int ungetc(int c, FILE *f)
{
    flockfile(f);
    if (c == EOF || f->ungot >= 0) {
        funlockfile(f);
        return EOF;
    }
    f->ungot = (unsigned char)c;
    f->flags &= ~F_EOF;
    funlockfile(f);
    return (unsigned char)c;
}

char *fgets(char *s, int n, FILE *f)
{
    int i = 0;
    flockfile(f);
    while (i < n - 1) {
        int c = fgetc_u(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    funlockfile(f);
    if (i == 0 || n <= 0)
        return NULL;
    s[i] = 0;
    return s;
}

static ssize_t getline_u(char **line, size_t *cap, FILE *f)
{
    size_t n = 0;
    for (;;) {
        int c = fgetc(f);
        if (c == EOF && n == 0)
            return -1;
        if (n + 2 > *cap || !*line) {
            size_t nc = *cap < 64 ? 64 : *cap * 2;
            char *p = realloc(*line, nc);
            if (!p)
                return -1;
            *line = p;
            *cap = nc;
        }
        if (c == EOF)
            break;
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    (*line)[n] = 0;
    return (ssize_t)n;
}

ssize_t getline(char **line, size_t *cap, FILE *f)
{
    flockfile(f);
    ssize_t r = getline_u(line, cap, f);
    funlockfile(f);
    return r;
}

static size_t fread_u(void *p, size_t size, size_t n, FILE *f)
{
    size_t total = size * n, got = 0;
    unsigned char *d = p;
    if (!total)
        return 0;
    if (f->ungot >= 0) {
        d[got++] = (unsigned char)f->ungot;
        f->ungot = -1;
    }
    while (got < total) {
        if (f->rpos == f->rlen && refill(f))
            break;
        size_t k = f->rlen - f->rpos;
        if (k > total - got)
            k = total - got;
        memcpy(d + got, f->buf + f->rpos, k);
        f->rpos += k;
        got += k;
    }
    return got / size;
}

size_t fread(void *p, size_t size, size_t n, FILE *f)
{
    flockfile(f);
    size_t r = fread_u(p, size, n, f);
    funlockfile(f);
    return r;
}

FILE *fdopen(int fd, const char *mode)
{
    (void)mode;
    FILE *f = malloc(sizeof(FILE) + BUFSIZ);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->mode = _IOFBF;
    f->flags = F_ALLOC;
    f->ungot = -1;
    f->buf = (unsigned char *)(f + 1);
    f->size = BUFSIZ;
    __lock(&files_lock);
    f->next = files;
    files = f;
    __unlock(&files_lock);
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    int flags;
    switch (mode[0]) {
    case 'r': flags = O_RDONLY; break;
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: errno = EINVAL; return NULL;
    }
    for (const char *m = mode + 1; *m; m++) {
        if (*m == '+')
            flags = (flags & ~O_ACCMODE) | O_RDWR;
        else if (*m == 'x')
            flags |= O_EXCL;
        else if (*m == 'e')
            flags |= O_CLOEXEC;
    }
    int fd = open(path, flags, 0666);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, mode);
    if (!f)
        close(fd);
    return f;
}

int fclose(FILE *f)
{
    int r = fflush(f);
    if (close(f->fd) < 0)
        r = EOF;
    __lock(&files_lock);
    for (FILE **pp = &files; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    __unlock(&files_lock);
    if (f->flags & F_ALLOC)
        free(f);
    return r;
}

int setvbuf(FILE *f, char *buf, int mode, size_t size)
{
    flockfile(f);
    int r = -1;
    if (!(f->wlen || f->rlen > f->rpos || mode < _IOFBF || mode > _IONBF)) {
        f->mode = mode;
        if (buf && size) {
            f->buf = (unsigned char *)buf;
            f->size = size;
        }
        r = 0;
    }
    funlockfile(f);
    return r;
}

int fseek(FILE *f, long off, int whence)
{
    int r = -1;
    flockfile(f);
    if (!fflush_u(f) && lseek(f->fd, off, whence) >= 0) {
        f->flags &= ~F_EOF;
        r = 0;
    }
    funlockfile(f);
    return r;
}

long ftell(FILE *f)
{
    flockfile(f);
    off_t pos = lseek(f->fd, 0, SEEK_CUR);
    if (pos >= 0)
        pos += (off_t)f->wlen - (off_t)(f->rlen - f->rpos) - (f->ungot >= 0);
    funlockfile(f);
    return pos < 0 ? -1 : pos;
}

void rewind(FILE *f) { fseek(f, 0, SEEK_SET); f->flags &= ~F_ERR; }
int feof(FILE *f) { return f->flags & F_EOF; }
int ferror(FILE *f) { return f->flags & F_ERR; }
void clearerr(FILE *f) { f->flags &= ~(F_EOF | F_ERR); }
int fileno(FILE *f) { return f->fd; }
int remove(const char *path) { return unlink(path) == 0 || (errno == EISDIR && rmdir(path) == 0) ? 0 : -1; }

void perror(const char *s)
{
    const char *msg = strerror(errno);
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, msg);
    else
        fprintf(stderr, "%s\n", msg);
}
