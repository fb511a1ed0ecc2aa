/* hostile MODE [N]: programs that attack the kernel rather than use it (make soak, docs/soak.md).
   Each mode prints one summary line "hostile MODE: ..." with what it did and what it got;
   the kernel must carry on: no panic, no Python exception, every frame back at the end.
   Modes: procs lwps fds pipes frames disk inodes mappings signals altstack stopcont
          execgarbage gencode bio. N scales the work (default 1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread.h>
#include <time.h>
#include <unistd.h>

struct ksigaction { unsigned long handler, flags, mask; };
static int scale = 1;
static unsigned long rs = 12345;
static unsigned long rnd(void) { rs = rs * 6364136223846793005UL + 1442695040888963407UL; return rs >> 11; }

static void pause_ms(long ms) { struct timespec ts = {ms / 1000, (ms % 1000) * 1000000}; nanosleep(&ts, 0); }
static int reap_all(void) { int n = 0, st; while (waitpid(-1, &st, 0) > 0) n++; return n; }

/* Fork until the process table is full, then let every child go. */
static void procs(void) {
    int made = 0, err = 0, fds[2];
    pipe(fds);
    for (int i = 0; i < 200; i++) {
        int pid = fork();
        if (pid == 0) { char c; close(fds[1]); read(fds[0], &c, 1); _exit(0); }
        if (pid < 0) { err = errno; break; }
        made++;
    }
    close(fds[1]);
    printf("hostile procs: %d children, then %s; reaped %d\n", made, err == EAGAIN ? "EAGAIN" : "?", reap_all());
}

static void *sleeper(void *arg) { pause_ms((long)arg); return 0; }

/* LWPs (and their kernel stacks) until EAGAIN, in several processes at once. */
static void lwps(void) {
    for (int p = 0; p < 4; p++) {
        if (fork() == 0) {
            thread_t t[100];
            int n = 0, e = 0;
            while (n < 100 && (e = thread_create(&t[n], sleeper, (void *)5L)) == 0) n++;
            for (int i = 0; i < n; i++) thread_join(t[i], 0);
            _exit(e == EAGAIN || e == ENOMEM ? n % 256 : 255);
        }
    }
    int st, ok = 0, most = 0;
    while (wait(&st) > 0)
        if (WIFEXITED(st) && WEXITSTATUS(st) != 255) { ok++; if (WEXITSTATUS(st) > most) most = WEXITSTATUS(st); }
    printf("hostile lwps: %d processes filled with up to %d LWPs each\n", ok, most);
}

static void fds(void) {
    int n = 0, e = 0;
    while (open("/bin/hello", O_RDONLY) >= 0) n++;
    e = errno;
    for (int fd = 3; fd < 64; fd++) close(fd);
    printf("hostile fds: %d opens, then %s\n", n, e == EMFILE ? "EMFILE" : "?");
}

static void pipes(void) {
    int n = 0, fd[2], e;
    while (pipe(fd) == 0) { n++; write(fd[1], "x", 1); }
    e = errno;
    for (int f = 3; f < 64; f++) close(f);
    printf("hostile pipes: %d pipes, then %s\n", n, e == EMFILE ? "EMFILE" : "?");
}

/* Touch memory until the kernel kills the child; the parent and the kernel carry on. */
static void frames(void) {
    for (int r = 0; r < scale; r++) {
        int pid = fork();
        if (pid == 0) {
            for (;;) {
                char *p = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) _exit(3);
                for (int i = 0; i < (1 << 20); i += 4096) p[i] = 1;
            }
        }
        int st;
        waitpid(pid, &st, 0);
        printf("hostile frames: child %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed by SIGKILL"
                                             : WIFEXITED(st) ? "got ENOMEM" : "?");
    }
}

/* Fill the disk with one file, then many empty files, then remove everything. */
static void disk(void) {
    static char buf[16384];
    memset(buf, 'd', sizeof buf);
    int fd = open("/tmp/hostile.big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long total = 0, w;
    while ((w = write(fd, buf, sizeof buf)) > 0) total += w;
    int e = errno;
    close(fd);
    int rm = unlink("/tmp/hostile.big");
    printf("hostile disk: wrote %ld KiB, then %s; unlink %d\n", total >> 10, e == ENOSPC ? "ENOSPC" : e == EFBIG ? "EFBIG" : "?", rm);
}

static void inodes(void) {
    char name[64];
    int n = 0, e = 0;
    mkdir("/tmp/hi", 0755);
    for (; n < 100000; n++) {
        snprintf(name, sizeof name, "/tmp/hi/f%d", n);
        int fd = open(name, O_WRONLY | O_CREAT, 0644);
        if (fd < 0) { e = errno; break; }
        close(fd);
    }
    int removed = 0;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "/tmp/hi/f%d", i);
        removed += unlink(name) == 0;
    }
    printf("hostile inodes: %d files, then %s; removed %d, rmdir %d\n", n, e == ENOSPC ? "ENOSPC" : e ? "?" : "limit",
           removed, (int)syscall(SYS_unlinkat, AT_FDCWD, "/tmp/hi", 0x200));
}

/* Many small mappings (each its own region): ENOMEM at the mapping limit or out of frames. */
static void mappings(void) {
    int n = 0, limit = 2000 * scale;
    long prot = PROT_READ | PROT_WRITE;
    for (; n < limit; n++) {
        char *p = mmap(0, 4096, (int)prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) break;
        if (prot & PROT_WRITE) p[0] = 1;
        else n += p[0];                /* a read: a zero page */
        prot ^= PROT_WRITE;            /* alternate protections: neighbours do not merge */
    }
    printf("hostile mappings: %d mappings%s\n", n, n < limit ? ", then ENOMEM" : "");
}

static volatile long hits;
static void on_usr(int sig) { hits++; }
static void reraise(int sig) { if (++hits % 64) kill(getpid(), sig); }

/* Many senders signal one process whose handler re-raises. */
static void signals(void) {
    struct ksigaction a = {(unsigned long)reraise, 0x40000000 /* SA_NODEFER */, 0};
    syscall(SYS_rt_sigaction, SIGUSR1, &a, 0, 8);
    struct ksigaction b = {(unsigned long)on_usr, 0x10000000, 0};
    syscall(SYS_rt_sigaction, SIGUSR2, &b, 0, 8);
    int me = getpid();
    for (int s = 0; s < 6; s++) {
        if (fork() == 0) {
            for (int i = 0; i < 200 * scale; i++) kill(me, i % 2 ? SIGUSR1 : SIGUSR2);
            _exit(0);
        }
    }
    long spins = 0;
    while (reap_all() == 0 && spins < 10) spins++;
    printf("hostile signals: handler ran %s\n", hits > 0 ? "many times" : "never");
}

/* sigaltstack misuse: too small, unmapped, read-only, and a handler that overflows it. */
static void deep(int sig) { volatile char pad[512]; pad[0] = (char)sig; if (++hits < 1000) deep(sig); (void)pad[0]; }
static void altstack(void) {
    static char ro_dummy;
    long r[4];
    long ss_small[3] = {(long)&ro_dummy, 0, 100};
    r[0] = syscall(SYS_sigaltstack, ss_small, 0) < 0 ? -errno : 0;
    int results[3] = {0, 0, 0};
    void *ro = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long where[3] = {0x100000, (long)ro, 0};
    static char small[4096];
    where[2] = (long)small;
    for (int k = 0; k < 3; k++) {
        int pid = fork();
        if (pid == 0) {
            long ss[3] = {where[k], 0, k == 2 ? (long)sizeof small : 8192};
            syscall(SYS_sigaltstack, ss, 0);
            struct ksigaction a = {(unsigned long)(k == 2 ? deep : on_usr), 0x08000000 /* SA_ONSTACK */, 0};
            syscall(SYS_rt_sigaction, SIGUSR1, &a, 0, 8);
            kill(getpid(), SIGUSR1);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        results[k] = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
    (void)r;
    printf("hostile altstack: small %s, unmapped %d, read-only %d, overflow %d\n",
           r[0] == -ENOMEM ? "ENOMEM" : "?", results[0], results[1], results[2]);
}

/* SIGSTOP/SIGCONT storms on a group of busy children. */
static void stopcont(void) {
    int kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) { volatile long x = 0; for (long j = 0; j < 2000000; j++) x += j; _exit(0); }
    }
    for (int r = 0; r < 100 * scale; r++)
        for (int i = 0; i < 4; i++) kill(kids[i], r % 2 ? SIGCONT : SIGSTOP);
    for (int i = 0; i < 4; i++) kill(kids[i], SIGCONT);
    printf("hostile stopcont: reaped %d\n", reap_all());
}

static int try_exec(const char *path) {
    int pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)path, 0};
        execve(path, argv, 0);
        _exit(errno);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void put(const char *path, const void *data, long n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(fd, data, n);
    close(fd);
}

/* exec of garbage: random bytes, truncated and absurd ELF files, a directory, a file open
   for writing. Every attempt must fail with an errno (or start and crash), never more. */
static void execgarbage(void) {
    static unsigned char elf[65536], buf[65536];
    int fd = open("/bin/hello", O_RDONLY);
    long n = read(fd, elf, sizeof elf);
    close(fd);
    int errs[64], k = 0;
    for (int i = 0; i < 4 * scale && k < 40; i++) {           /* random bytes, some with an ELF magic */
        for (int j = 0; j < 4096; j++) buf[j] = (unsigned char)rnd();
        if (i % 2) memcpy(buf, elf, 64);
        put("/tmp/g", buf, 4096);
        errs[k++] = try_exec("/tmp/g");
    }
    long cuts[] = {0, 4, 52, 64, 100, 200, 1000, n / 2};
    for (int i = 0; i < 8; i++) { put("/tmp/g", elf, cuts[i]); errs[k++] = try_exec("/tmp/g"); }
    for (int field = 0; field < 8; field++) {                 /* absurd header fields */
        memcpy(buf, elf, n);
        unsigned long *phoff = (unsigned long *)(buf + 32);
        unsigned short *phnum = (unsigned short *)(buf + 56), *phentsize = (unsigned short *)(buf + 54);
        unsigned long *ph = (unsigned long *)(buf + *phoff);   /* first program header */
        switch (field) {
        case 0: *phnum = 0xffff; break;
        case 1: *phoff = 0x7fffffffffffffffUL; break;
        case 2: *phentsize = 1; break;
        case 3: ph[5] = 0x7ffffffffff000UL; break;             /* p_memsz */
        case 4: ph[1] = 0xfffffffffffff000UL; break;           /* p_offset */
        case 5: ph[2] = 0xfffffffffffff000UL; ph[3] = ph[2]; break;   /* p_vaddr in kernel space */
        case 6: *(unsigned long *)(buf + 24) = 0; break;       /* e_entry */
        case 7: ph[4] = ph[5] = 0x40000000UL; break;           /* p_filesz = p_memsz = 1 GiB */
        }
        put("/tmp/g", buf, n);
        errs[k++] = try_exec("/tmp/g");
    }
    errs[k++] = try_exec("/tmp");
    int w = open("/tmp/g2", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(w, elf, n / 2);
    errs[k++] = try_exec("/tmp/g2");                          /* still being written */
    write(w, elf + n / 2, n - n / 2);
    close(w);
    int ran = 0, failed = 0;
    for (int i = 0; i < k; i++) { if (errs[i] == 0) ran++; else failed++; }
    unlink("/tmp/g");
    unlink("/tmp/g2");
    printf("hostile execgarbage: %d attempts, %d refused or crashed, %d ran (the last: a file open for "
           "writing, %s)\n", k, failed, ran, errs[k - 1] == ETXTBSY ? "ETXTBSY" : errs[k - 1] ? "refused" : "ran");
}

/* An executable larger than the buffer cache: /bin/hello followed by 9 MiB (a big section
   after its segments, as an unstripped program has). */
static void bio(void) {
    static char buf[65536];
    int fd = open("/bin/hello", O_RDONLY);
    long n = read(fd, buf, sizeof buf);
    close(fd);
    int w = open("/tmp/big", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(w, buf, n);
    memset(buf, 0x5a, sizeof buf);
    long total = n;
    for (int i = 0; i < 9 * 16 * scale; i++) total += write(w, buf, sizeof buf);
    close(w);
    int r = try_exec("/tmp/big");
    unlink("/tmp/big");
    printf("hostile bio: exec of a %ld KiB file: %s\n", total >> 10, r == 0 ? "ran" : "failed");
}

/* Generated code across harts: one thread writes a function, another runs it after a
   fence.i; stale runs are counted (issue 12 item 2) and must never crash the kernel. */
static unsigned *code;
static volatile int gen, seen;
static void *runner(void *arg) {
    int stale = 0;
    for (int r = 1; r <= 200 * scale; r++) {
        while (gen < r) ;
        __asm__ volatile("fence.i" ::: "memory");
        int v = ((int (*)(void))code)();
        stale += v != (r & 0x7ff);
        seen = r;
    }
    return (void *)(long)stale;
}
static void gencode(void) {
    code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    thread_t t;
    code[0] = 0x00000513; code[1] = 0x00008067;                  /* li a0, 0; ret */
    thread_create(&t, runner, 0);
    for (int r = 1; r <= 200 * scale; r++) {
        code[0] = 0x00000513 | ((unsigned)(r & 0x7ff) << 20);    /* li a0, r */
        __asm__ volatile("fence.i" ::: "memory");
        gen = r;
        while (seen < r) ;
    }
    void *stale;
    thread_join(t, &stale);
    printf("hostile gencode: %d runs, %ld stale\n", 200 * scale, (long)stale);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    scale = argc > 2 ? atoi(argv[2]) : 1;
    setvbuf(stdout, 0, _IONBF, 0);
    if (!strcmp(mode, "procs")) procs();
    else if (!strcmp(mode, "lwps")) lwps();
    else if (!strcmp(mode, "fds")) fds();
    else if (!strcmp(mode, "pipes")) pipes();
    else if (!strcmp(mode, "frames")) frames();
    else if (!strcmp(mode, "disk")) disk();
    else if (!strcmp(mode, "inodes")) inodes();
    else if (!strcmp(mode, "mappings")) mappings();
    else if (!strcmp(mode, "signals")) signals();
    else if (!strcmp(mode, "altstack")) altstack();
    else if (!strcmp(mode, "stopcont")) stopcont();
    else if (!strcmp(mode, "execgarbage")) execgarbage();
    else if (!strcmp(mode, "gencode")) gencode();
    else if (!strcmp(mode, "bio")) bio();
    else { printf("hostile: unknown mode %s\n", mode); return 2; }
    return 0;
}
