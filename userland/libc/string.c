#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
        for (; n >= 8; n -= 8, dp += 8, sp += 8)
            *(uint64_t *)dp = *(const uint64_t *)sp;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    if (((uintptr_t)p & 7) == 0) {
        uint64_t v = (unsigned char)c * 0x0101010101010101ULL;
        for (; n >= 8; n -= 8, p += 8)
            *(uint64_t *)p = v;
    }
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

int strcasecmp(const char *a, const char *b)
{
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return tolower((unsigned char)*a) - tolower((unsigned char)*b);
}

int strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x != y)
            return x - y;
        if (!x)
            break;
    }
    return 0;
}

char *strcpy(char *restrict d, const char *restrict s)
{
    char *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}

char *strncpy(char *restrict d, const char *restrict s, size_t n)
{
    size_t i = 0;
    for (; i < n && s[i]; i++)
        d[i] = s[i];
    for (; i < n; i++)
        d[i] = 0;
    return d;
}

char *strcat(char *restrict d, const char *restrict s)
{
    strcpy(d + strlen(d), s);
    return d;
}

char *strncat(char *restrict d, const char *restrict s, size_t n)
{
    char *p = d + strlen(d);
    while (n-- && *s)
        *p++ = *s++;
    *p = 0;
    return d;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *r = NULL;
    for (;; s++) {
        if (*s == (char)c)
            r = s;
        if (!*s)
            return (char *)r;
    }
}

char *strstr(const char *h, const char *n)
{
    size_t len = strlen(n);
    for (; *h; h++)
        if (strncmp(h, n, len) == 0)
            return (char *)h;
    return len ? NULL : (char *)h;
}

size_t strspn(const char *s, const char *accept)
{
    size_t n = 0;
    while (s[n] && strchr(accept, s[n]))
        n++;
    return n;
}

size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;
    while (s[n] && !strchr(reject, s[n]))
        n++;
    return n;
}

char *strpbrk(const char *s, const char *accept)
{
    s += strcspn(s, accept);
    return *s ? (char *)s : NULL;
}

char *strdup(const char *s)
{
    return strndup(s, (size_t)-1);
}

char *strndup(const char *s, size_t n)
{
    n = strnlen(s, n);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

char *strtok_r(char *restrict s, const char *restrict sep, char **restrict save)
{
    if (!s)
        s = *save;
    s += strspn(s, sep);
    if (!*s) {
        *save = s;
        return NULL;
    }
    char *e = s + strcspn(s, sep);
    if (*e)
        *e++ = 0;
    *save = e;
    return s;
}

char *strtok(char *restrict s, const char *restrict sep)
{
    static char *save;
    return strtok_r(s, sep, &save);
}

static const char *const errstr[] = {
    [0] = "Success", [EPERM] = "Operation not permitted", [ENOENT] = "No such file or directory",
    [ESRCH] = "No such process", [EINTR] = "Interrupted system call", [EIO] = "I/O error",
    [ENXIO] = "No such device or address", [E2BIG] = "Argument list too long",
    [ENOEXEC] = "Exec format error", [EBADF] = "Bad file descriptor", [ECHILD] = "No child processes",
    [EAGAIN] = "Resource temporarily unavailable", [ENOMEM] = "Out of memory",
    [EACCES] = "Permission denied", [EFAULT] = "Bad address", [ENOTBLK] = "Block device required",
    [EBUSY] = "Resource busy", [EEXIST] = "File exists", [EXDEV] = "Cross-device link",
    [ENODEV] = "No such device", [ENOTDIR] = "Not a directory", [EISDIR] = "Is a directory",
    [EINVAL] = "Invalid argument", [ENFILE] = "Too many open files in system",
    [EMFILE] = "No file descriptors available", [ENOTTY] = "Not a tty",
    [ETXTBSY] = "Text file busy", [EFBIG] = "File too large", [ENOSPC] = "No space left on device",
    [ESPIPE] = "Invalid seek", [EROFS] = "Read-only file system", [EMLINK] = "Too many links",
    [EPIPE] = "Broken pipe", [EDOM] = "Domain error", [ERANGE] = "Result not representable",
    [EDEADLK] = "Resource deadlock would occur", [ENAMETOOLONG] = "Filename too long",
    [ENOLCK] = "No locks available", [ENOSYS] = "Function not implemented",
    [ENOTEMPTY] = "Directory not empty", [ELOOP] = "Symbolic link loop",
    [EOVERFLOW] = "Value too large for data type", [EOPNOTSUPP] = "Not supported",
    [ETIMEDOUT] = "Operation timed out",
};

char *strerror(int err)
{
    if (err >= 0 && err < (int)(sizeof errstr / sizeof errstr[0]) && errstr[err])
        return (char *)errstr[err];
    return "Unknown error";
}
