#include <stdarg.h>
#include <unistd.h>
#include "internal.h"

/* long syscall(number, ...): any call by number; -1 and errno on failure. */
long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    register long a0 __asm__("a0") = va_arg(ap, long);
    register long a1 __asm__("a1") = va_arg(ap, long);
    register long a2 __asm__("a2") = va_arg(ap, long);
    register long a3 __asm__("a3") = va_arg(ap, long);
    register long a4 __asm__("a4") = va_arg(ap, long);
    register long a5 __asm__("a5") = va_arg(ap, long);
    register long a7 __asm__("a7") = nr;
    va_end(ap);
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
    return __syscall_ret(a0);
}
