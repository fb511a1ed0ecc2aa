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

/* The shell is one translation unit, cut along its seams into parts included here: the
   words of a line, then (after the helpers they use) the jobs and the builtins. */
#include "sh/words.c"        /* operator, tokenize */

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

#include "sh/builtins.c"     /* jobs: add, reap, report; builtins: cd pwd exit wait jobs history help */

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
