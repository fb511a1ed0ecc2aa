/* sh: a small POSIX-style shell.
   Supports words with '...' and "..." quoting, $? and $! expansion, pipelines, redirections
   (< > >> with an optional fd number before them, as 2> FILE, and N>&M, N<&M, N>&- to
   duplicate or close), & (background) and ; separators, and the builtins cd, pwd, exit,
   wait, jobs, history and help (`help` lists them). On a terminal it edits the line
   (<lineedit.h>: arrows, history, Tab completion of /bin names and of files); programs it
   runs get the terminal back in canonical mode.
   Usage: sh [-c COMMAND | FILE]; reads commands from stdin otherwise. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lineedit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAXLINE 4096
#define MAXTOK 256
#define MAXARGS 64
#define MAXCMDS 32
#define MAXREDIR 8
#define MAXJOBS 16
#define JOBTEXT 64

enum { WORD, PIPE, REDIR, AMP, SEMI, END };
enum { R_IN, R_OUT, R_APPEND, R_DUP };

struct token {
    int type;
    char *text;
    int fd, op;             /* REDIR: the fd redirected and how */
};

struct redir {
    int fd, op;
    char *target;           /* a path, or for R_DUP an fd number or "-" (close) */
};

struct cmd {
    char *argv[MAXARGS + 1];
    int argc;
    struct redir redir[MAXREDIR];
    int nredir;
};

struct job {
    int id;                 /* 0: a free slot */
    pid_t pids[MAXCMDS];
    int npids, left;        /* processes started, and not yet reaped */
    int status;             /* the last process's wait status */
    char text[JOBTEXT];
};

static int last_status;
static pid_t last_bg;       /* $! */
static int interactive;
static int input_fd;
static struct termios tty_mode;   /* the terminal's settings for programs (interactive) */
static struct job jobs[MAXJOBS];

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

/* ---- words ---- */

/* An operator at p: REDIR (an fd number may come first), PIPE, AMP or SEMI. Returns the
   characters it takes, 0 if p is not at one, -1 for a bad fd number. */
static int operator(const char *p, struct token *t)
{
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (q > p && *q != '<' && *q != '>')
        return 0;
    t->fd = q > p ? (q - p > 1 ? 10 : *p - '0') : -1;
    if (t->fd >= 10)
        return -1;
    int n = q - p;
    switch (*q) {
    case '|': t->type = PIPE; return 1;
    case '&': t->type = AMP; return 1;
    case ';': t->type = SEMI; return 1;
    case '<':
        t->type = REDIR;
        t->op = q[1] == '&' ? R_DUP : R_IN;
        if (t->fd < 0)
            t->fd = 0;
        return n + 1 + (t->op == R_DUP);
    case '>':
        t->type = REDIR;
        t->op = q[1] == '>' ? R_APPEND : q[1] == '&' ? R_DUP : R_OUT;
        if (t->fd < 0)
            t->fd = 1;
        return n + 1 + (t->op != R_OUT);
    }
    return 0;
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
        int k = operator(p, &tok[n]);
        if (k < 0) {
            fprintf(stderr, "sh: bad file descriptor number (0-9)\n");
            return -1;
        }
        if (k > 0) {
            p += k;
            n++;
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

/* Applies c's redirections in order; -1 (and a message) at the first that fails. */
static int redirect(struct cmd *c)
{
    for (int i = 0; i < c->nredir; i++) {
        struct redir *r = &c->redir[i];
        if (r->op == R_DUP) {
            if (strcmp(r->target, "-") == 0) {
                close(r->fd);
                continue;
            }
            char *end;
            long from = strtol(r->target, &end, 10);
            if (*end || end == r->target || from < 0 || from > 9 || dup2((int)from, r->fd) < 0) {
                fprintf(stderr, "sh: %s: bad file descriptor\n", r->target);
                return -1;
            }
            continue;
        }
        int flags = r->op == R_IN ? O_RDONLY : O_WRONLY | O_CREAT | (r->op == R_APPEND ? O_APPEND : O_TRUNC);
        int f = open(r->target, flags, 0644);
        if (f < 0) {
            fprintf(stderr, "sh: %s: %s\n", r->target, strerror(errno));
            return -1;
        }
        if (f != r->fd) {
            dup2(f, r->fd);
            close(f);
        }
    }
    return 0;
}

/* ---- jobs ---- */
static struct job *job_of(pid_t pid)
{
    for (int i = 0; i < MAXJOBS; i++)
        for (int k = 0; jobs[i].id && k < jobs[i].npids; k++)
            if (jobs[i].pids[k] == pid)
                return &jobs[i];
    return NULL;
}

static void describe(char *out, size_t n, struct cmd *cmds, int ncmds)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < ncmds && len < n; i++)
        for (int a = 0; a < cmds[i].argc && len < n; a++)
            len += snprintf(out + len, n - len, "%s%s", a ? " " : i ? " | " : "", cmds[i].argv[a]);
    if (len >= n)
        strcpy(out + n - 4, "...");
}

static void add_job(pid_t *pids, int n, struct cmd *cmds)
{
    int id = 1;
    struct job *free_slot = NULL;
    for (int i = 0; i < MAXJOBS; i++) {
        if (jobs[i].id >= id)
            id = jobs[i].id + 1;
        if (!jobs[i].id && !free_slot)
            free_slot = &jobs[i];
    }
    if (free_slot == NULL)                  /* untracked: still reaped at the prompt */
        return;
    *free_slot = (struct job){ .id = id, .npids = n, .left = n };
    memcpy(free_slot->pids, pids, n * sizeof pids[0]);
    describe(free_slot->text, sizeof free_slot->text, cmds, n);
    if (interactive)
        printf("[%d] %d\n", id, pids[n - 1]);
}

static void job_state(char *out, size_t n, int st)
{
    if (WIFSIGNALED(st))
        snprintf(out, n, "%s", strsignal(WTERMSIG(st)));
    else if (WEXITSTATUS(st))
        snprintf(out, n, "Exit %d", WEXITSTATUS(st));
    else
        snprintf(out, n, "Done");
}

/* A child was reaped: its job, if it has none left, is reported (with notify) and freed. */
static void reaped(pid_t pid, int st, int notify)
{
    struct job *j = job_of(pid);
    if (j == NULL)
        return;
    if (pid == j->pids[j->npids - 1])
        j->status = st;
    if (--j->left)
        return;
    if (notify) {
        char state[32];
        job_state(state, sizeof state, j->status);
        printf("[%d]  %-24s%s\n", j->id, state, j->text);
    }
    j->id = 0;
}

/* Reaps the background processes that have ended, reporting finished jobs. */
static void reap_jobs(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        reaped(pid, st, interactive);
    fflush(stdout);
}

/* ---- builtins ---- */
static int b_cd(char **a)
{
    static char oldpwd[256];
    char here[256];
    const char *dir = a[1] ? a[1] : getenv("HOME") ? getenv("HOME") : "/";
    if (a[1] && a[2]) {
        fprintf(stderr, "sh: cd: too many arguments\n");
        return 1;
    }
    if (a[1] && strcmp(a[1], "-") == 0) {
        if (!oldpwd[0]) {
            fprintf(stderr, "sh: cd: OLDPWD not set\n");
            return 1;
        }
        dir = oldpwd;
    }
    if (getcwd(here, sizeof here) == NULL)
        here[0] = 0;
    if (chdir(dir) < 0) {
        fprintf(stderr, "sh: cd: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (dir == oldpwd)
        printf("%s\n", oldpwd);
    strcpy(oldpwd, here);
    return 0;
}

static int b_pwd(char **a)
{
    char here[256];
    (void)a;
    if (getcwd(here, sizeof here) == NULL) {
        fprintf(stderr, "sh: pwd: %s\n", strerror(errno));
        return 1;
    }
    printf("%s\n", here);
    return 0;
}

static int b_exit(char **a)
{
    long n = last_status;
    if (a[1]) {
        char *end;
        n = strtol(a[1], &end, 10);
        if (*end || end == a[1]) {
            fprintf(stderr, "sh: exit: %s: numeric argument required\n", a[1]);
            n = 2;
        } else if (a[2]) {
            fprintf(stderr, "sh: exit: too many arguments\n");
            return 1;
        }
    }
    fflush(NULL);
    exit((int)(n & 255));
}

static int b_wait(char **a)
{
    int st = 0, status = 0;
    pid_t pid;
    if (!a[1]) {
        while ((pid = wait(&st)) > 0 || errno == EINTR)
            if (pid > 0)
                reaped(pid, st, 0);
        return 0;
    }
    for (int i = 1; a[i]; i++) {
        pid_t want = (pid_t)atoi(a[i]);
        while ((pid = waitpid(want, &st, 0)) < 0 && errno == EINTR)
            ;
        if (pid < 0 || want <= 0) {
            fprintf(stderr, "sh: wait: pid %s is not a child of this shell\n", a[i]);
            status = 127;
            continue;
        }
        reaped(pid, st, 0);
        status = status_of(st);
    }
    return status;
}

static int b_jobs(char **a)
{
    (void)a;
    reap_jobs();
    for (int i = 0; i < MAXJOBS; i++)
        if (jobs[i].id)
            printf("[%d]  %-24s%s &\n", jobs[i].id, "Running", jobs[i].text);
    return 0;
}

static int b_history(char **a)
{
    (void)a;
    for (int i = 0; i < le_history_count(); i++)
        printf("%5d  %s\n", i + 1, le_history_get(i));
    return 0;
}

static int b_help(char **a);

static const struct builtin {
    const char *name;
    int (*fn)(char **argv);
    const char *usage;
} builtins[] = {
    { "cd", b_cd, "cd [DIR | -]    change directory (no DIR: $HOME, or /; -: the previous one)" },
    { "pwd", b_pwd, "pwd             print the current directory" },
    { "exit", b_exit, "exit [N]        leave the shell with status N (default: the last status)" },
    { "wait", b_wait, "wait [PID...]   wait for the background jobs, or for these processes" },
    { "jobs", b_jobs, "jobs            list the background jobs still running" },
    { "history", b_history, "history         list the lines typed (Up and Down recall them)" },
    { "help", b_help, "help            this text" },
};
#define NBUILTINS (int)(sizeof builtins / sizeof builtins[0])

static int b_help(char **a)
{
    (void)a;
    printf("Builtins:\n");
    for (int i = 0; i < NBUILTINS; i++)
        printf("  %s\n", builtins[i].usage);
    printf("Command lines:\n"
           "  CMD ARGS...     run a program from /bin (ls /bin lists them), or ./path\n"
           "  A | B           pipeline;  CMD &  in the background;  A ; B  one after the other\n"
           "  < F  > F  >> F  redirect stdin, stdout (append); 2> F, 2>&1: stderr\n"
           "  '...' \"...\"     quoting;  $? last status;  $! last background pid;  # comment\n"
           "Keys: Left/Right, Home/End (^A/^E) move; Up/Down recall lines; Tab completes;\n"
           "  ^U, ^K, ^W delete; ^C cancels the line or stops the program; ^D at an empty\n"
           "  line leaves the shell\n");
    return 0;
}

static const struct builtin *find_builtin(const char *name)
{
    for (int i = 0; i < NBUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

/* A builtin in the shell itself: its redirections are undone afterwards. */
static void run_builtin(const struct builtin *b, struct cmd *c)
{
    int saved[MAXREDIR];
    fflush(NULL);
    for (int i = 0; i < c->nredir; i++)
        saved[i] = fcntl(c->redir[i].fd, F_DUPFD_CLOEXEC, 10);   /* -1: it was not open */
    last_status = redirect(c) < 0 ? 1 : b->fn(c->argv);
    fflush(NULL);
    for (int i = c->nredir - 1; i >= 0; i--) {
        if (saved[i] >= 0) {
            dup2(saved[i], c->redir[i].fd);
            close(saved[i]);
        } else {
            close(c->redir[i].fd);
        }
    }
}

/* ---- running ---- */
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
    if (redirect(c) < 0)
        _exit(1);
    const struct builtin *b = find_builtin(c->argv[0]);
    if (b != NULL) {                        /* in a pipeline or in the background */
        int st = b->fn(c->argv);
        fflush(NULL);
        _exit(st);
    }
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
    const struct builtin *b = find_builtin(cmds[0].argv[0]);
    if (n == 1 && !bg && b != NULL) {
        run_builtin(b, &cmds[0]);
        return;
    }
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
        add_job(pids, started, cmds);
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
    if (WIFSIGNALED(st)) {
        if (interactive)                    /* as bash: a killed program's terminal mode goes */
            tcsetattr(0, TCSADRAIN, &tty_mode);
        if (WTERMSIG(st) != SIGPIPE)
            fprintf(stderr, "%s\n", WTERMSIG(st) == SIGINT ? "" : strsignal(WTERMSIG(st)));
    }
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
            } else if (type == REDIR) {
                if (tok[t + 1].type != WORD || c->nredir == MAXREDIR)
                    goto syntax;
                c->redir[c->nredir++] = (struct redir){ tok[t].fd, tok[t].op, tok[t + 1].text };
                t++;
            } else if (type == PIPE) {
                if (!c->argc || n + 1 == MAXCMDS)
                    goto syntax;
                memset(&cmds[++n], 0, sizeof cmds[0]);
            } else {
                break;   /* AMP, SEMI or END ends the pipeline */
            }
        }
        if (!cmds[n].argc) {
            if (n == 0 && !cmds[0].nredir && tok[t].type != AMP)
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

/* Tab: a command name (builtins, /bin) for the first word of a command, else a file. */
static void complete(const char *line, int start, int end)
{
    const char *word = line + start;
    int i = start;
    (void)end;
    while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t'))
        i--;
    if ((i == 0 || strchr("|&;", line[i - 1])) && !strchr(word, '/')) {
        for (int b = 0; b < NBUILTINS; b++)
            if (strncmp(builtins[b].name, word, strlen(word)) == 0)
                le_add_completion(builtins[b].name);
        le_complete_files(word, "/bin");
    } else {
        le_complete_files(word, NULL);
    }
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
    interactive = input_fd == 0 && isatty(0) && tcgetattr(0, &tty_mode) == 0;
    if (interactive) {
        setpgid(0, 0);
        give_terminal(getpgrp());
        le_set_completer(complete);
    }
    static char line[MAXLINE];
    for (;;) {
        reap_jobs();
        int len;
        if (interactive) {
            fflush(NULL);
            len = le_readline(0, "$ ", line, sizeof line);
            if (len == LE_INTR) {
                last_status = 130;
                continue;
            }
            if (len >= 0)
                le_history_add(line);
        } else {
            len = read_line(line, sizeof line);
        }
        if (len < 0)
            break;
        execute(line);
    }
    return last_status;
}
