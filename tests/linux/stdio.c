/* stdio: formatting, files through FILE *, buffering, scanning, errors. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "linux.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("[%d] [%5d] [%-5d] [%05d] [%+d] [%x] [%#o] [%lu]\n", -42, 42, 42, 42, 42, 255, 8,
           18446744073709551615UL);
    printf("[%s] [%.3s] [%8s] [%c] [%%] [%p]\n", "text", "truncate", "right", 'z', (void *)0);
    printf("[%f] [%.2f] [%e] [%g] [%g] [%a]\n", 3.14159, 2.675, 12345.678, 0.0001, 1e20, 1.0);
    char buf[8];
    int n = snprintf(buf, sizeof buf, "%s", "0123456789");
    printf("snprintf: returned %d, kept \"%s\"\n", n, buf);

    const char *path = "/tmp/stdio.txt";
    FILE *f = fopen(path, "w");
    if (!CHECK("fopen w", f != NULL))
        return 1;
    for (int i = 1; i <= 3; i++)
        fprintf(f, "line %d: %d\n", i, i * i);
    fputs("last", f);
    CHECK("fclose", fclose(f) == 0);

    f = fopen(path, "r");
    char line[64];
    while (fgets(line, sizeof line, f))
        printf("read: %s%s", line, strchr(line, '\n') ? "" : "<no newline>\n");
    printf("feof %d ferror %d\n", feof(f) != 0, ferror(f) != 0);
    rewind(f);
    int a, b;
    CHECK("fscanf", fscanf(f, "line %d: %d", &a, &b) == 2 && a == 1 && b == 1);
    fseek(f, -4, SEEK_END);
    printf("ftell after fseek -4 from end: %ld\n", ftell(f));
    int c = fgetc(f);
    ungetc('X', f);
    printf("fgetc '%c', after ungetc fgetc '%c'\n", c, fgetc(f));
    fclose(f);

    f = fopen(path, "a+");
    fputs("\nappended\n", f);
    fseek(f, 0, SEEK_SET);
    char *l = NULL;
    size_t cap = 0;
    ssize_t len, total = 0;
    int lines = 0;
    while ((len = getline(&l, &cap, f)) > 0)
        total += len, lines++;
    printf("getline: %d lines, %zd bytes\n", lines, total);
    free(l);
    fclose(f);

    f = tmpfile();
    if (CHECK("tmpfile", f != NULL)) {
        fwrite("0123456789", 1, 10, f);
        rewind(f);
        char data[16] = {0};
        printf("tmpfile fread %zu: %s\n", fread(data, 1, sizeof data, f), data);
        fclose(f);
    }

    double d;
    char word[16];
    int got = sscanf("  7.5 apples 0x1f", "%lf %15s %i", &d, word, &a);
    printf("sscanf: %d fields: %.1f %s %d\n", got, d, word, a);

    errno = 0;
    f = fopen("/no/such/dir/file", "r");
    printf("fopen missing: %s, errno %s\n", f ? "opened" : "NULL", errname(errno));
    f = fopen(path, "r");
    printf("fputs to read-only stream: %s\n", fputs("x", f) == EOF && ferror(f) ? "EOF, ferror set" : "accepted");
    fclose(f);

    f = fdopen(dup(1), "w");
    fprintf(f, "through fdopen(dup(1))\n");
    fclose(f);
    fprintf(stderr, "to stderr\n");
    unlink(path);
    puts("done");
    return 0;
}
