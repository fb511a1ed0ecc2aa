/* Part of sh.c (included there, never compiled alone): the job table (background
   pipelines, their reaping and reporting) and the builtins. */

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
