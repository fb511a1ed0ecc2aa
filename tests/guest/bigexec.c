/* A program larger than the buffer cache (tests/test_exec.py): 12 MiB of .rodata in its text
   segment, and 10 MiB of a section that is not loaded at all (after the segments in the file,
   as debug information is). exec must map it page by page, reading only what is touched.
   Prints the sum of a few bytes spread over the array. */
#include <stdio.h>

#define BIG (12 << 20)

/* Every 4096th byte is distinct, so a page read from the wrong offset shows in the sum. */
#define R4(i) [(i) * 4096L] = (char)((i) * 7 + 1)
static const char big[BIG] = {
    R4(0), R4(1), R4(2), R4(3), R4(100), R4(1000), R4(2000), R4(3071),
};

__asm__(".section .notloaded,\"\",@progbits\n.fill 10485760,1,0x5a\n.previous");

int main(void)
{
    const volatile char *p = big;
    long sum = 0;
    long idx[] = { 0, 1, 2, 3, 100, 1000, 2000, 3071, 5 };
    for (unsigned i = 0; i < sizeof idx / sizeof idx[0]; i++)
        sum += p[idx[i] * 4096L];
    printf("bigexec sum %ld\n", sum);
    return 0;
}
