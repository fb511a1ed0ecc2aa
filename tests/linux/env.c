/* Program start-up as Linux does it: argc/argv, the environment (getenv, setenv,
 * unsetenv, putenv), the auxiliary vector (getauxval), constructors and atexit order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "linux.h"

extern char **environ;
static int ctor_ran;

/* getauxval returns 0 both for a 0 value and for a missing entry; errno tells them apart. */
static int present(unsigned long type)
{
    errno = 0;
    getauxval(type);
    return errno != ENOENT;
}

__attribute__((constructor)) static void ctor(void) { ctor_ran = 1; }
static void bye1(void) { puts("atexit: registered first, runs last"); }
static void bye2(void) { puts("atexit: registered second, runs first"); }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("constructor ran before main: %d\n", ctor_ran);
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = [%s]\n", i, argv[i]);
    printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
    printf("environ follows argv: %d\n", environ == argv + argc + 1);
    CHECK("setenv", setenv("PVTEST", "one", 0) == 0);
    printf("getenv: %s\n", getenv("PVTEST"));
    setenv("PVTEST", "two", 0);
    printf("setenv without overwrite keeps: %s\n", getenv("PVTEST"));
    setenv("PVTEST", "three", 1);
    printf("setenv with overwrite: %s\n", getenv("PVTEST"));
    putenv("PVTEST2=put");
    printf("putenv: %s\n", getenv("PVTEST2"));
    unsetenv("PVTEST");
    printf("unsetenv: %s\n", getenv("PVTEST") ? "still set" : "gone");
    RESULT("setenv with '=' in the name", setenv("A=B", "x", 1));

    printf("AT_PAGESZ: %lu\n", getauxval(AT_PAGESZ));
    printf("AT_PHDR, AT_PHNUM, AT_ENTRY set: %d %d %d\n", getauxval(AT_PHDR) != 0, getauxval(AT_PHNUM) != 0,
           getauxval(AT_ENTRY) != 0);
    unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; rnd && i < 16; i++)
        nonzero |= rnd[i];
    printf("AT_RANDOM: 16 bytes, not all zero %d\n", nonzero != 0);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN ends in the program: %d\n", execfn && strstr(execfn, "env") != NULL);
    printf("AT_UID/AT_EUID/AT_GID/AT_EGID present and matching the calls: %d %d %d %d\n",
           present(AT_UID) && getauxval(AT_UID) == getuid(), present(AT_EUID) && getauxval(AT_EUID) == geteuid(),
           present(AT_GID) && getauxval(AT_GID) == getgid(), present(AT_EGID) && getauxval(AT_EGID) == getegid());
    printf("AT_SECURE: %lu\n", getauxval(AT_SECURE));
    printf("AT_CLKTCK: %lu\n", getauxval(AT_CLKTCK));
    unsigned long hw = getauxval(AT_HWCAP);
    printf("AT_HWCAP has I, M, A, F, D, C: %d\n",
           hw != 0 && (hw & 0x112d) == 0x112d);  /* bit ('x' - 'a') per base extension */
    atexit(bye1);
    atexit(bye2);
    return 0;
}
