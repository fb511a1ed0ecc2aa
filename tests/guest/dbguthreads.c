/* The debugger's green-thread sample (tests/test_debug.py): main and two user threads of
   the M:1 library take turns with uthread_yield; ping and pong each count their turns. */
#include <stdio.h>
#include <uthread.h>

static volatile int turns[3];

static void *ping(void *arg)
{
    long me = (long)arg;
    for (int i = 0; i < 2; i++) {
        turns[me]++;
        uthread_yield();
    }
    return 0;
}

static void *pong(void *arg)
{
    long me = (long)arg;
    for (int i = 0; i < 2; i++) {
        turns[me]++;
        uthread_yield();
    }
    return 0;
}

int main(void)
{
    uthread_t a, b;
    uthread_init(UTHREAD_M1, 1);
    uthread_create(&a, ping, (void *)1, 0);
    uthread_create(&b, pong, (void *)2, 0);
    uthread_join(a, 0);
    uthread_join(b, 0);
    printf("turns %d %d\n", turns[1], turns[2]);
    return 0;
}
