#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Output sink: a bounded string (f == NULL, fd < 0), a FILE, or a raw fd. */
struct out {
    char *buf;      /* string sink */
    size_t cap;
    size_t len;     /* characters produced so far */
    FILE *f;
    int fd;
    char tmp[256];  /* staging for FILE/fd sinks */
    size_t tn;
};

static void drain(struct out *o)
{
    if (o->f)
        fwrite(o->tmp, 1, o->tn, o->f);
    else if (o->fd >= 0)
        for (size_t i = 0; i < o->tn;) {
            ssize_t w = write(o->fd, o->tmp + i, o->tn - i);
            if (w <= 0)
                break;
            i += (size_t)w;
        }
    o->tn = 0;
}

static void emit(struct out *o, const char *s, size_t n)
{
    if (o->f || o->fd >= 0) {
        for (size_t i = 0; i < n; i++) {
            if (o->tn == sizeof o->tmp)
                drain(o);
            o->tmp[o->tn++] = s[i];
        }
    } else if (o->len < o->cap) {
        size_t k = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < k ? n : k);
    }
    o->len += n;
}

static void pad(struct out *o, char c, long n)
{
    for (; n > 0; n--)
        emit(o, &c, 1);
}

enum { LEFT = 1, PLUS = 2, SPACE = 4, ALT = 8, ZERO = 16 };

/* Emit prefix + body padded to width; zeros go between prefix and body. */
static void field(struct out *o, const char *prefix, const char *body, size_t blen,
                  long zeros, int flags, long width)
{
    size_t plen = strlen(prefix);
    if (zeros < 0)
        zeros = 0;
    long total = (long)(plen + blen) + zeros;
    if ((flags & ZERO) && !(flags & LEFT) && width > total) {
        zeros += width - total;
        total = width;
    }
    if (!(flags & LEFT))
        pad(o, ' ', width - total);
    emit(o, prefix, plen);
    pad(o, '0', zeros);
    emit(o, body, blen);
    if (flags & LEFT)
        pad(o, ' ', width - total);
}

static int digits(char *end, unsigned long long v, int base, int upper)
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        *--end = d[v % (unsigned)base];
        v /= (unsigned)base;
        n++;
    } while (v);
    return n;
}

/* Decimal digits of v (0 <= v) into p: `ndig` integer digits then `prec` fraction digits. */
static char *fixed(char *p, double v, int prec, int alt)
{
    double scale = 1;
    for (int i = 0; i < prec; i++)
        scale /= 10;
    v += scale / 2;
    double pw = 1;
    while (pw * 10 <= v)
        pw *= 10;
    for (; pw >= 1; pw /= 10) {
        int d = (int)(v / pw);
        d = d < 0 ? 0 : d > 9 ? 9 : d;
        *p++ = (char)('0' + d);
        v -= d * pw;
    }
    if (prec || alt)
        *p++ = '.';
    for (int i = 0; i < prec; i++) {
        v *= 10;
        int d = (int)v;
        d = d < 0 ? 0 : d > 9 ? 9 : d;
        *p++ = (char)('0' + d);
        v -= d;
    }
    return p;
}

static int decexp(double *v)
{
    int e = 0;
    if (*v == 0)
        return 0;
    while (*v >= 10) { *v /= 10; e++; }
    while (*v < 1) { *v *= 10; e--; }
    return e;
}

static char *expform(char *p, double v, int prec, int alt, int upper)
{
    int e = decexp(&v);
    double r = 0.5;
    for (int i = 0; i < prec; i++)
        r /= 10;
    if (v + r >= 10) {
        v /= 10;
        e++;
    }
    p = fixed(p, v, prec, alt);
    *p++ = upper ? 'E' : 'e';
    *p++ = e < 0 ? '-' : '+';
    unsigned ue = (unsigned)(e < 0 ? -e : e);
    if (ue >= 100)
        *p++ = (char)('0' + ue / 100);
    *p++ = (char)('0' + ue / 10 % 10);
    *p++ = (char)('0' + ue % 10);
    return p;
}

static void fmt_float(struct out *o, double v, char conv, int flags, long width, int prec)
{
    char buf[400], *p = buf;
    const char *sign = v < 0 || (v == 0 && 1 / v < 0) ? "-" : flags & PLUS ? "+" : flags & SPACE ? " " : "";
    int upper = conv == 'F' || conv == 'E' || conv == 'G';
    if (v < 0)
        v = -v;
    if (v != v || v > 1.7976931348623157e308) {
        const char *s = v != v ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
        field(o, sign, s, 3, 0, flags & ~ZERO, width);
        return;
    }
    if (prec < 0)
        prec = 6;
    if (prec > 300)
        prec = 300;
    if (v >= 1e300)
        conv = upper ? 'E' : 'e';
    if (conv == 'f' || conv == 'F') {
        p = fixed(p, v, prec, flags & ALT);
    } else if (conv == 'e' || conv == 'E') {
        p = expform(p, v, prec, flags & ALT, upper);
    } else {
        int P = prec ? prec : 1;
        double t = v;
        int x = decexp(&t);
        double r = 0.5;
        for (int i = 1; i < P; i++)
            r /= 10;
        if (t + r >= 10)
            x++;
        if (P > x && x >= -4)
            p = fixed(p, v, P - 1 - x, flags & ALT);
        else
            p = expform(p, v, P - 1, flags & ALT, upper);
        if (!(flags & ALT)) {   /* strip trailing zeros of the fraction */
            char *e = memchr(buf, upper ? 'E' : 'e', (size_t)(p - buf));
            char *end = e ? e : p;
            if (memchr(buf, '.', (size_t)(end - buf))) {
                char *q = end;
                while (q[-1] == '0')
                    q--;
                if (q[-1] == '.')
                    q--;
                memmove(q, end, (size_t)(p - end));
                p = q + (p - end);
            }
        }
    }
    field(o, sign, buf, (size_t)(p - buf), 0, flags, width);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
    while (*fmt) {
        const char *run = fmt;
        while (*fmt && *fmt != '%')
            fmt++;
        emit(o, run, (size_t)(fmt - run));
        if (!*fmt)
            break;
        fmt++;
        int flags = 0;
        for (;; fmt++) {
            if (*fmt == '-') flags |= LEFT;
            else if (*fmt == '+') flags |= PLUS;
            else if (*fmt == ' ') flags |= SPACE;
            else if (*fmt == '#') flags |= ALT;
            else if (*fmt == '0') flags |= ZERO;
            else break;
        }
        long width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= LEFT;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int prec = -1;
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        int len = 0;   /* -2 hh, -1 h, 0 int, 1 long, 2 long double */
        for (;; fmt++) {
            if (*fmt == 'h') len = len < 0 ? -2 : -1;
            else if (*fmt == 'l' || *fmt == 'z' || *fmt == 't' || *fmt == 'j') len = 1;
            else if (*fmt == 'L') len = 2;
            else break;
        }
        char conv = *fmt ? *fmt++ : 0;
        char nb[72], *end = nb + sizeof nb;
        switch (conv) {
        case 'd': case 'i': {
            long long v = len >= 1 ? va_arg(ap, long) : va_arg(ap, int);
            if (len == -1) v = (short)v;
            if (len == -2) v = (signed char)v;
            unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
            int n = prec == 0 && u == 0 ? 0 : digits(end, u, 10, 0);
            const char *pre = v < 0 ? "-" : flags & PLUS ? "+" : flags & SPACE ? " " : "";
            field(o, pre, end - n, (size_t)n, prec - n, prec >= 0 ? flags & ~ZERO : flags, width);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': case 'p': {
            unsigned long long u;
            if (conv == 'p') {
                u = (uintptr_t)va_arg(ap, void *);
                flags |= ALT;
            } else {
                u = len >= 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
                if (len == -1) u = (unsigned short)u;
                if (len == -2) u = (unsigned char)u;
            }
            int base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            int n = prec == 0 && u == 0 ? 0 : digits(end, u, base, conv == 'X');
            const char *pre = "";
            if ((flags & ALT) && base == 16 && (u || conv == 'p'))
                pre = conv == 'X' ? "0X" : "0x";
            if ((flags & ALT) && base == 8 && (n == 0 || end[-n] != '0') && prec <= n)
                prec = n + 1;
            field(o, pre, end - n, (size_t)n, prec - n, prec >= 0 ? flags & ~ZERO : flags, width);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            field(o, "", &c, 1, 0, flags & ~ZERO, width);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            field(o, "", s, n, 0, flags & ~ZERO, width);
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
            double v = len == 2 ? (double)va_arg(ap, long double) : va_arg(ap, double);
            fmt_float(o, v, conv, flags, width, prec);
            break;
        }
        case 'n': {
            void *p = va_arg(ap, void *);
            if (len >= 1) *(long *)p = (long)o->len;
            else if (len == -1) *(short *)p = (short)o->len;
            else if (len == -2) *(signed char *)p = (signed char)o->len;
            else *(int *)p = (int)o->len;
            break;
        }
        case '%':
            emit(o, "%", 1);
            break;
        default:   /* unknown conversion: print it verbatim */
            emit(o, "%", 1);
            if (conv)
                emit(o, &conv, 1);
            break;
        }
    }
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct out o = { .buf = buf, .cap = n ? n - 1 : 0, .fd = -1 };
    format(&o, fmt, ap);
    if (n)
        buf[o.len < o.cap ? o.len : o.cap] = 0;
    return (int)o.len;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    struct out o = { .f = f, .fd = -1 };
    flockfile(f);   /* the whole output of one call in one piece, between threads */
    format(&o, fmt, ap);
    drain(&o);
    int r = ferror(f) ? -1 : (int)o.len;
    funlockfile(f);
    return r;
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
    struct out o = { .fd = fd };
    format(&o, fmt, ap);
    drain(&o);
    return (int)o.len;
}

int vsprintf(char *buf, const char *fmt, va_list ap) { return vsnprintf(buf, (size_t)-1 / 2, fmt, ap); }
int vprintf(const char *fmt, va_list ap) { return vfprintf(stdout, fmt, ap); }

#define VA(call) do { va_list ap; va_start(ap, fmt); int r = call; va_end(ap); return r; } while (0)
int printf(const char *fmt, ...) { VA(vfprintf(stdout, fmt, ap)); }
int fprintf(FILE *f, const char *fmt, ...) { VA(vfprintf(f, fmt, ap)); }
int dprintf(int fd, const char *fmt, ...) { VA(vdprintf(fd, fmt, ap)); }
int sprintf(char *buf, const char *fmt, ...) { VA(vsprintf(buf, fmt, ap)); }
int snprintf(char *buf, size_t n, const char *fmt, ...) { VA(vsnprintf(buf, n, fmt, ap)); }
