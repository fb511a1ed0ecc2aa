/* Isolation after fork + mprotect (tests/test_vm.py). A page that is read-only at fork is
   shared by parent and child; making it writable later must not let one side's writes reach
   the other (the frame is copied on the first write, whatever the protection was at fork).
   vmiso data: an mmap'd page, read-only at fork, made writable by the child, then by the parent.
   vmiso text: the child makes its own text writable and patches a function; the parent
   must go on running the original. Prints one line per check and exits 0 if all hold. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096L

static int bad;

static void check(const char *what, long got, long want)
{
    printf("%s: %ld (%s)\n", what, got, got == want ? "ok" : "BUG");
    if (got != want)
        bad = 1;
}

static int data_case(void)
{
    volatile int *p = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 111;
    mprotect((void *)p, PAGE, PROT_READ);
    int fds[2];
    pipe(fds);
    pid_t pid = fork();
    if (pid == 0) {
        mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE);
        p[0] = 222;
        _exit(p[0] == 222 ? 0 : 1);
    }
    waitpid(pid, 0, 0);
    check("parent after the child wrote", p[0], 111);
    pid = fork();
    if (pid == 0) {
        char c;
        read(fds[0], &c, 1);
        _exit(p[0] == 111 ? 0 : 1);              /* the parent's write must not show here */
    }
    mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE);
    p[0] = 333;
    write(fds[1], "x", 1);
    int st;
    waitpid(pid, &st, 0);
    check("child after the parent wrote (exit status)", WEXITSTATUS(st), 0);
    check("parent's own write", p[0], 333);
    return 0;
}

__attribute__((noinline, aligned(4096))) static int victim(void) { return 1; }

static int text_case(void)
{
    unsigned long page = (unsigned long)victim & ~(PAGE - 1);
    int (*volatile fn)(void) = victim;
    volatile unsigned int *code = (volatile unsigned int *)(void *)victim;
    unsigned int orig = code[0];
    check("parent before fork", fn(), 1);
    pid_t pid = fork();
    if (pid == 0) {
        if (mprotect((void *)page, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
            _exit(2);
        code[0] = 0x00200513;                    /* li a0, 2 */
        code[1] = 0x00008067;                    /* ret */
        __asm__ volatile("fence.i" ::: "memory");
        _exit(fn() == 2 ? 0 : 3);
    }
    int st;
    waitpid(pid, &st, 0);
    check("child ran its patched copy (exit status)", WEXITSTATUS(st), 0);
    check("parent's text after the child patched (same word)", code[0] == orig, 1);
    check("parent after the child patched", fn(), 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "text"))
        text_case();
    else
        data_case();
    return bad;
}
