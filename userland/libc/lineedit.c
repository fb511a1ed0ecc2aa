/* lineedit: the line editor behind the shell's prompt (contract in <lineedit.h>).

   The line is shown on one terminal row: when it is wider than the terminal, the row
   scrolls sideways to keep the cursor in view (as linenoise's single-line mode). After any
   change but typing at the end of the line, the row is redrawn whole: CR, prompt, the
   visible part of the line, erase to the end of the row, cursor to its column. */
#include <dirent.h>
#include <errno.h>
#include <lineedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define HISTORY 100     /* lines kept */
#define MAXCAND 256     /* completion candidates collected at once */

static char *history[HISTORY];
static int nhistory;
static le_completer completer;
static char *cand[MAXCAND];
static int ncand;

struct ed {
    int fd, ofd;            /* the terminal: keys are read from fd, the line is shown on ofd */
    const char *prompt;
    size_t plen;
    char *buf;
    size_t cap, len, pos;   /* buf holds len bytes (cap - 1 at most), the cursor is at pos */
    int cols;
};

/* ---- output ---- */
static char obuf[1024];
static size_t olen;

static void oflush(struct ed *e)
{
    for (size_t off = 0; off < olen;) {
        ssize_t w = write(e->ofd, obuf + off, olen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    olen = 0;
}

static void out(struct ed *e, const char *s, size_t n)
{
    while (n) {
        if (olen == sizeof obuf)
            oflush(e);
        size_t k = sizeof obuf - olen < n ? sizeof obuf - olen : n;
        memcpy(obuf + olen, s, k);
        olen += k;
        s += k;
        n -= k;
    }
}

static void outs(struct ed *e, const char *s) { out(e, s, strlen(s)); }

static void outnum(struct ed *e, unsigned v)
{
    char d[12];
    int i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i);
    out(e, d + i, sizeof d - i);
}

static void refresh(struct ed *e)
{
    const char *b = e->buf;
    size_t len = e->len, pos = e->pos;
    while (e->plen + pos >= (size_t)e->cols && pos) {   /* scroll: the cursor stays in view */
        b++;
        len--;
        pos--;
    }
    if (e->plen + len > (size_t)e->cols)
        len = (size_t)e->cols > e->plen ? e->cols - e->plen : 0;
    outs(e, "\r");
    outs(e, e->prompt);
    out(e, b, len);
    outs(e, "\x1b[K\r");
    if (e->plen + pos) {
        outs(e, "\x1b[");
        outnum(e, (unsigned)(e->plen + pos));
        outs(e, "C");
    }
}

/* ---- editing ---- */
static void insert(struct ed *e, const char *s, size_t n)
{
    if (e->len + n >= e->cap)
        n = e->cap - 1 - e->len;
    memmove(e->buf + e->pos + n, e->buf + e->pos, e->len - e->pos);
    memcpy(e->buf + e->pos, s, n);
    e->len += n;
    e->pos += n;
    if (e->pos == e->len && e->plen + e->len < (size_t)e->cols)
        out(e, s, n);                       /* typing at the end: no redraw */
    else
        refresh(e);
}

static void erase(struct ed *e, size_t from, size_t to)
{
    memmove(e->buf + from, e->buf + to, e->len - to);
    e->len -= to - from;
    e->pos = from;
    refresh(e);
}

static void set_line(struct ed *e, const char *s)
{
    e->len = strlen(s) < e->cap - 1 ? strlen(s) : e->cap - 1;
    memcpy(e->buf, s, e->len);
    e->pos = e->len;
    refresh(e);
}

static size_t word_left(struct ed *e)
{
    size_t p = e->pos;
    while (p && e->buf[p - 1] == ' ')
        p--;
    while (p && e->buf[p - 1] != ' ')
        p--;
    return p;
}

static size_t word_right(struct ed *e)
{
    size_t p = e->pos;
    while (p < e->len && e->buf[p] == ' ')
        p++;
    while (p < e->len && e->buf[p] != ' ')
        p++;
    return p;
}

/* ---- completion ---- */
void le_set_completer(le_completer fn) { completer = fn; }

void le_add_completion(const char *word)
{
    for (int i = 0; i < ncand; i++)
        if (strcmp(cand[i], word) == 0)
            return;
    if (ncand < MAXCAND && (cand[ncand] = strdup(word)) != NULL)
        ncand++;
}

void le_complete_files(const char *word, const char *dir)
{
    const char *slash = strrchr(word, '/');
    const char *base = slash ? slash + 1 : word;
    char path[256];
    size_t dlen = slash ? (size_t)(slash - word) + 1 : 0;   /* word's directory part, '/' kept */
    if (dir == NULL) {
        if (dlen >= sizeof path)
            return;
        memcpy(path, word, dlen);
        path[dlen] = 0;
        dir = dlen ? path : ".";
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    char full[512];
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strncmp(name, base, strlen(base)) != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (name[0] == '.' && base[0] != '.')
            continue;
        int isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            snprintf(full, sizeof full, "%s/%s", dir, name);
            isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        }
        snprintf(full, sizeof full, "%.*s%s%s", (int)dlen, word, name, isdir ? "/" : "");
        le_add_completion(full);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void complete(struct ed *e)
{
    if (completer == NULL)
        return;
    size_t start = e->pos;
    while (start && !strchr(" \t|&;<>", e->buf[start - 1]))
        start--;
    char save = e->buf[e->pos];
    e->buf[e->pos] = 0;                     /* the completer sees the line up to the cursor */
    ncand = 0;
    completer(e->buf, (int)start, (int)e->pos);
    e->buf[e->pos] = save;
    size_t wlen = e->pos - start, dlen = wlen;   /* dlen: the word's directory part */
    while (dlen && e->buf[start + dlen - 1] != '/')
        dlen--;
    if (ncand == 1) {
        size_t n = strlen(cand[0]);
        if (n >= wlen)
            insert(e, cand[0] + wlen, n - wlen);
        if (n && cand[0][n - 1] != '/' && (e->pos == e->len || e->buf[e->pos] != ' '))
            insert(e, " ", 1);
    } else if (ncand > 1) {
        size_t common = strlen(cand[0]);
        for (int i = 1; i < ncand; i++) {
            size_t k = 0;
            while (k < common && cand[i][k] == cand[0][k])
                k++;
            common = k;
        }
        if (common > wlen) {
            insert(e, cand[0] + wlen, common - wlen);
        } else {                            /* nothing to add: show the choices */
            qsort(cand, ncand, sizeof cand[0], by_name);
            outs(e, "\n");
            for (int i = 0; i < ncand; i++) {
                outs(e, strlen(cand[i]) >= dlen ? cand[i] + dlen : cand[i]);
                outs(e, i + 1 < ncand ? "  " : "\n");
            }
            refresh(e);
        }
    }
    for (int i = 0; i < ncand; i++)
        free(cand[i]);
    ncand = 0;
}

/* ---- history ---- */
void le_history_add(const char *line)
{
    if (!line[0] || (nhistory && strcmp(history[nhistory - 1], line) == 0))
        return;
    char *copy = strdup(line);
    if (copy == NULL)
        return;
    if (nhistory == HISTORY) {
        free(history[0]);
        memmove(history, history + 1, (HISTORY - 1) * sizeof history[0]);
        nhistory--;
    }
    history[nhistory++] = copy;
}

int le_history_count(void) { return nhistory; }

const char *le_history_get(int i) { return i >= 0 && i < nhistory ? history[i] : NULL; }

/* ---- reading keys ---- */
static int key(struct ed *e)
{
    unsigned char c;
    for (;;) {
        oflush(e);
        ssize_t r = read(e->fd, &c, 1);
        if (r == 1)
            return c;
        if (r < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

enum { K_UP = 256, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_DEL, K_WLEFT, K_WRIGHT, K_NONE };

/* After ESC: an arrow or editing key as VT100/xterm send it (ESC [ ... or ESC O ...). */
static int escape(struct ed *e)
{
    int c = key(e);
    if (c == 'b')
        return K_WLEFT;
    if (c == 'f')
        return K_WRIGHT;
    if (c != '[' && c != 'O')
        return c < 0 ? -1 : K_NONE;
    int num = 0;
    while ((c = key(e)) >= '0' && c <= '9')
        num = num * 10 + (c - '0');
    while (c == ';' || (c >= '0' && c <= '9'))   /* modifiers (ESC [ 1 ; 5 C): ignored */
        c = key(e);
    switch (c) {
    case 'A': return K_UP;
    case 'B': return K_DOWN;
    case 'C': return K_RIGHT;
    case 'D': return K_LEFT;
    case 'H': return K_HOME;
    case 'F': return K_END;
    case '~':
        return num == 1 || num == 7 ? K_HOME : num == 4 || num == 8 ? K_END : num == 3 ? K_DEL : K_NONE;
    }
    return c < 0 ? -1 : K_NONE;
}

static int edit(struct ed *e)
{
    int hist = nhistory;                    /* nhistory: the line being typed */
    char *typed = NULL;                     /* that line, while the history is shown */
    int result;
    outs(e, e->prompt);
    for (;;) {
        int c = key(e);
        if (c == 0x1b)
            c = escape(e);
        if (c < 0) {
            result = e->len ? (int)e->len : LE_EOF;
            break;
        }
        if (c == '\r' || c == '\n') {
            outs(e, "\n");
            result = (int)e->len;
            break;
        }
        if (c == 3) {                       /* ^C */
            outs(e, "^C\n");
            e->len = 0;
            result = LE_INTR;
            break;
        }
        if (c == 4) {                       /* ^D */
            if (!e->len) {
                result = LE_EOF;
                break;
            }
            if (e->pos < e->len) {
                erase(e, e->pos, e->pos + 1);
                continue;
            }
            outs(e, "\n");
            result = (int)e->len;
            break;
        }
        switch (c) {
        case 0x7f: case 8:                  /* Backspace, ^H */
            if (e->pos)
                erase(e, e->pos - 1, e->pos);
            break;
        case K_DEL:
            if (e->pos < e->len)
                erase(e, e->pos, e->pos + 1);
            break;
        case K_LEFT: case 2:
            if (e->pos)
                e->pos--, refresh(e);
            break;
        case K_RIGHT: case 6:
            if (e->pos < e->len)
                e->pos++, refresh(e);
            break;
        case K_HOME: case 1:
            e->pos = 0, refresh(e);
            break;
        case K_END: case 5:
            e->pos = e->len, refresh(e);
            break;
        case K_WLEFT:
            e->pos = word_left(e), refresh(e);
            break;
        case K_WRIGHT:
            e->pos = word_right(e), refresh(e);
            break;
        case 11:                            /* ^K */
            e->len = e->pos, refresh(e);
            break;
        case 21:                            /* ^U */
            erase(e, 0, e->pos);
            break;
        case 23:                            /* ^W */
            erase(e, word_left(e), e->pos);
            break;
        case 12:                            /* ^L */
            outs(e, "\x1b[H\x1b[2J");
            refresh(e);
            break;
        case '\t':
            complete(e);
            break;
        case K_UP: case 16: case K_DOWN: case 14: {
            int to = hist + (c == K_UP || c == 16 ? -1 : 1);
            if (to < 0 || to > nhistory)
                break;
            if (hist == nhistory) {
                e->buf[e->len] = 0;
                free(typed);
                typed = strdup(e->buf);
            }
            hist = to;
            set_line(e, hist == nhistory ? (typed ? typed : "") : history[hist]);
            break;
        }
        default:
            if (c >= 0x20 && c < 256) {
                char ch = (char)c;
                insert(e, &ch, 1);
            }
        }
    }
    free(typed);
    e->buf[e->len] = 0;
    oflush(e);
    return result;
}

int le_readline(int fd, const char *prompt, char *buf, size_t n)
{
    struct termios saved, raw;
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    if (tcgetattr(fd, &saved) < 0)
        return -1;
    raw = saved;
    raw.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_iflag &= ~(IXON | INLCR | IGNCR);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
        return -1;
    struct winsize ws;
    struct ed e = { .fd = fd, .ofd = STDOUT_FILENO, .prompt = prompt, .plen = strlen(prompt), .buf = buf, .cap = n, .cols = 80 };
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > e.plen + 1)
        e.cols = ws.ws_col;
    int r = edit(&e);
    tcsetattr(fd, TCSADRAIN, &saved);
    return r;
}
