/* Sample program for the debugger tests (tests/test_debug*.py): calls, recursion,
   globals and locals of several types, a system call, a demand-zero page fault. The
   line numbers are part of the tests: edit the tests with this file. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

struct point { int x; long y; };

int counter;
long table[4] = { 10, 20, 30, 40 };
const char *greeting = "hello";
struct point origin = { 3, -4 };
unsigned char flags = 0x81;

int square(int x)
{
    int y = x * x;
    return y;
}

int sum_to(int n)
{
    int total = 0;
    for (int i = 1; i <= n; i++)
        total += square(i);
    return total;
}

int fact(int n)
{
    if (n <= 1)
        return 1;
    return n * fact(n - 1);
}

char *touch(void)
{
    char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[4096] = 7;
    return p;
}

int main(int argc, char **argv)
{
    int local = argc + 4;
    long *tp = &table[1];
    counter = sum_to(3);
    counter += fact(4);
    char *page = touch();
    write(1, "hi\n", 3);
    local += page[4096] + (int)*tp;
    printf("counter %d local %d\n", counter, local);
    return 0;
}
