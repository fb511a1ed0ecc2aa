/* Sample program for the debugger tests of gdb habits (tests/test_debug_habits.py): a
   global in .bss, a struct behind a void pointer (casts), a `?:` the compiler marks with
   line 0 at -O0, and a forked child that crashes. Line numbers matter to the tests.
   dbgmore [crash|spin] */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared { int hits; long total; };

int counter;
struct shared box = { 2, 40 };
void *obj = &box;

int pick(int a, int b)
{
    int m = a > b ? a : b;
    return m;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    counter = pick(3, 7);
    counter++;
    box.hits += counter;
    if (!strcmp(mode, "crash")) {
        int pid = fork();
        if (pid == 0) {
            volatile int *bad = (int *)0x18;
            *bad = 1;
        }
        int status;
        waitpid(pid, &status, 0);
        printf("child %d signal %d\n", pid, WTERMSIG(status));
    }
    while (!strcmp(mode, "spin")) counter++;      /* one endless line: an interrupted next */
    printf("counter %d hits %d\n", counter, box.hits);
    return 0;
}
