/* sh: a small POSIX-style shell.
   Supports words with '...' and "..." quoting, $? and $! expansion, pipelines, < > >> redirection,
   & (background) and ; separators, and the builtins cd, exit and wait.
   Usage: sh [-c COMMAND | FILE]; reads commands from stdin otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXLINE 4096
#define MAXTOK 256
#define MAXARGS 64
#define MAXCMDS 32

enum { WORD, PIPE, IN, OUT, APPEND, AMP, SEMI, END };

struct token {
    int type;
    char *text;
};

struct cmd {
    char *argv[MAXARGS + 1];
    int argc;
    char *in, *out;
    int append;
};

static int last_status;
static pid_t last_bg;   /* $! */
static int interactive;
static int input_fd;

static int read_line(char *buf, size_t n)
{
    size_t len = 0;
    for (;;) {
        char c;
        ssize_t r = read(input_fd, &c, 1);   /* one byte at a time: never read past the line */
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return len ? (int)len : -1;
        if (c == '\n')
            break;
        if (len + 1 < n)
            buf[len++] = c;
    }
    buf[len] = 0;
    return (int)len;
}

/* Split line into tokens; word text goes into words (quotes removed, $? expanded). */
static int tokenize(const char *p, struct token *tok, char *words, size_t wsize)
{
    int n = 0;
    char *w = words, *wend = words + wsize - 16;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n == MAXTOK - 1) {
            fprintf(stderr, "sh: too many words\n");
            return -1;
        }
        if (!*p || *p == '#') {
            tok[n].type = END;
            return n;
        }
        if (*p == '|') { tok[n++].type = PIPE; p++; continue; }
        if (*p == '<') { tok[n++].type = IN; p++; continue; }
        if (*p == '&') { tok[n++].type = AMP; p++; continue; }
        if (*p == ';') { tok[n++].type = SEMI; p++; continue; }
        if (*p == '>') {
            p++;
            tok[n++].type = *p == '>' ? (p++, APPEND) : OUT;
            continue;
        }
        tok[n].type = WORD;
        tok[n++].text = w;
        char quote = 0;
        while (*p && (quote || !strchr(" \t|<>&;", *p))) {
            if (w >= wend) {
                fprintf(stderr, "sh: line too long\n");
                return -1;
            }
            if (quote && *p == quote) {
                quote = 0;
                p++;
            } else if (!quote && (*p == '\'' || *p == '"')) {
                quote = *p++;
            } else if (quote != '\'' && p[0] == '$' && (p[1] == '?' || p[1] == '!')) {
                w += snprintf(w, 12, "%d", p[1] == '?' ? last_status : last_bg);
                p += 2;
            } else if (!quote && *p == '\\' && p[1]) {
                *w++ = p[1];
                p += 2;
            } else {
                *w++ = *p++;
            }
        }
        if (quote) {
            fprintf(stderr, "sh: syntax error: unterminated quote\n");
            return -1;
        }
        *w++ = 0;
    }
}

static int status_of(int st)
{
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static void give_terminal(pid_t pgrp)
{
    if (interactive)
        tcsetpgrp(0, pgrp);
}

static int builtin(struct cmd *c)
{
    char **a = c->argv;
    if (strcmp(a[0], "cd") == 0) {
        const char *dir = a[1] ? a[1] : getenv("HOME") ? getenv("HOME") : "/";
        if (chdir(dir) < 0) {
            fprintf(stderr, "sh: cd: %s: %s\n", dir, strerror(errno));
            return last_status = 1, 1;
        }
        return last_status = 0, 1;
    }
    if (strcmp(a[0], "exit") == 0) {
        exit(a[1] ? atoi(a[1]) : last_status);
    }
    if (strcmp(a[0], "wait") == 0) {
        while (wait(NULL) > 0 || errno == EINTR)
            ;
        return last_status = 0, 1;
    }
    return 0;
}

static int redirect(const char *path, int fd, int flags)
{
    int f = open(path, flags, 0644);
    if (f < 0) {
        fprintf(stderr, "sh: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
    return 0;
}

static _Noreturn void child(struct cmd *c, pid_t pgid, int bg, int in, int out)
{
    setpgid(0, pgid);
    if (!bg)
        give_terminal(getpgrp());
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    if (in != 0) {
        dup2(in, 0);
        close(in);
    }
    if (out != 1) {
        dup2(out, 1);
        close(out);
    }
    if (c->in && redirect(c->in, 0, O_RDONLY) < 0)
        _exit(1);
    if (c->out && redirect(c->out, 1, O_WRONLY | O_CREAT | (c->append ? O_APPEND : O_TRUNC)) < 0)
        _exit(1);
    execvp(c->argv[0], c->argv);
    if (errno == ENOENT) {
        fprintf(stderr, "sh: %s: not found\n", c->argv[0]);
        _exit(127);
    }
    fprintf(stderr, "sh: %s: %s\n", c->argv[0], strerror(errno));
    _exit(126);
}

static void run(struct cmd *cmds, int n, int bg)
{
    if (n == 1 && !bg && builtin(&cmds[0]))
        return;
    pid_t pids[MAXCMDS], pgid = 0;
    int in = 0, started = 0;
    fflush(NULL);
    for (int i = 0; i < n; i++) {
        int p[2] = { -1, 1 };
        if (i + 1 < n && pipe(p) < 0) {
            fprintf(stderr, "sh: pipe: %s\n", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "sh: fork: %s\n", strerror(errno));
            if (p[0] >= 0) {
                close(p[0]);
                close(p[1]);
            }
            break;
        }
        if (pid == 0) {
            if (p[0] >= 0)
                close(p[0]);
            child(&cmds[i], pgid, bg, in, p[1]);
        }
        if (!pgid)
            pgid = pid;
        setpgid(pid, pgid);   /* also done by the child: whichever runs first wins */
        pids[started++] = pid;
        if (in != 0)
            close(in);
        if (p[1] != 1)
            close(p[1]);
        in = p[0] >= 0 ? p[0] : 0;
    }
    if (in != 0)
        close(in);
    if (!started) {
        last_status = 1;
        return;
    }
    if (bg) {
        last_bg = pids[started - 1];
        printf("[%d]\n", last_bg);
        fflush(stdout);
        last_status = 0;
        return;
    }
    give_terminal(pgid);
    int st = 0;
    for (int i = 0; i < started; i++)
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
    give_terminal(getpgrp());
    last_status = status_of(st);
    if (WIFSIGNALED(st) && WTERMSIG(st) != SIGPIPE)
        fprintf(stderr, "%s\n", WTERMSIG(st) == SIGINT ? "" : strsignal(WTERMSIG(st)));
}

static void execute(char *line)
{
    static struct token tok[MAXTOK];
    static char words[MAXLINE * 2];
    static struct cmd cmds[MAXCMDS];
    if (tokenize(line, tok, words, sizeof words) < 0) {
        last_status = 2;
        return;
    }
    int t = 0;
    while (tok[t].type != END) {
        int n = 0;
        memset(&cmds[0], 0, sizeof cmds[0]);
        for (;; t++) {
            struct cmd *c = &cmds[n];
            int type = tok[t].type;
            if (type == WORD) {
                if (c->argc == MAXARGS)
                    goto syntax;
                c->argv[c->argc++] = tok[t].text;
            } else if (type == IN || type == OUT || type == APPEND) {
                if (tok[t + 1].type != WORD)
                    goto syntax;
                if (type == IN)
                    c->in = tok[++t].text;
                else {
                    c->out = tok[++t].text;
                    c->append = type == APPEND;
                }
            } else if (type == PIPE) {
                if (!c->argc || n + 1 == MAXCMDS)
                    goto syntax;
                memset(&cmds[++n], 0, sizeof cmds[0]);
            } else {
                break;   /* AMP, SEMI or END ends the pipeline */
            }
        }
        if (!cmds[n].argc) {
            if (n == 0 && tok[t].type != AMP)
                goto next;   /* empty command, e.g. a blank line or ";;" */
            goto syntax;
        }
        run(cmds, n + 1, tok[t].type == AMP);
next:
        if (tok[t].type != END)
            t++;
    }
    return;
syntax:
    fprintf(stderr, "sh: syntax error\n");
    last_status = 2;
}

int main(int argc, char **argv)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);   /* so tcsetpgrp works while we are in the background */
    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        execute(argv[2]);
        return last_status;
    }
    if (argc > 1) {
        input_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (input_fd < 0) {
            fprintf(stderr, "sh: %s: %s\n", argv[1], strerror(errno));
            return 127;
        }
    }
    interactive = input_fd == 0 && isatty(0);
    if (interactive) {
        setpgid(0, 0);
        give_terminal(getpgrp());
    }
    static char line[MAXLINE];
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)   /* reap finished background jobs */
            ;
        if (interactive) {
            fputs("$ ", stdout);
            fflush(stdout);
        }
        if (read_line(line, sizeof line) < 0)
            break;
        execute(line);
    }
    return last_status;
}
