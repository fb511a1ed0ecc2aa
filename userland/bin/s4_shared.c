/* S4: threads share code, data and heap of their process.
   Two threads each add their mark to one global and write their slot of one malloc'd
   object, meet at a barrier (mutex_t + cond_t), then each reads what the other wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <thread.h>

struct shared {                 /* the heap object */
    int lwpid[2];               /* written by thread i */
    int word[2];
};

static int global;              /* each thread adds 1 << i */
static struct shared *obj;
static mutex_t m = MUTEX_INITIALIZER;
static cond_t arrived = COND_INITIALIZER;
static int count;
static int ok[2];

static void barrier(int n)
{
    mutex_lock(&m);
    if (++count == n)
        cond_broadcast(&arrived);
    while (count < n)
        cond_wait(&arrived, &m);
    mutex_unlock(&m);
}

static void *worker(void *arg)
{
    int i = (int)(long)arg, other = 1 - i;
    int me = thread_self();
    __atomic_fetch_add(&global, 1 << i, __ATOMIC_SEQ_CST);
    obj->lwpid[i] = me;
    obj->word[i] = 1000 * (i + 1);
    barrier(2);
    int g = __atomic_load_n(&global, __ATOMIC_SEQ_CST);
    printf("thread %d (lwp %d, hart %d): global at %p = %d, heap object at %p = "
           "{lwp %d wrote %d, lwp %d wrote %d}\n", i, me, sched_getcpu(), (void *)&global, g,
           (void *)obj, obj->lwpid[0], obj->word[0], obj->lwpid[1], obj->word[1]);
    ok[i] = g == 3 && obj->word[other] == 1000 * (other + 1) && obj->lwpid[other] != me &&
            obj->lwpid[other] > 0;
    return 0;
}

int main(void)
{
    obj = calloc(1, sizeof *obj);
    if (!obj) {
        printf("S4 FAILED: malloc\n");
        return 1;
    }
    thread_t t[2];
    for (int i = 0; i < 2; i++) {
        int e = thread_create(&t[i], worker, (void *)(long)i);
        if (e) {
            printf("S4 FAILED: thread_create: error %d\n", e);
            return 1;
        }
    }
    for (int i = 0; i < 2; i++)
        thread_join(t[i], 0);
    printf("main: global = %d, heap object = {%d, %d}\n", global, obj->word[0], obj->word[1]);
    if (ok[0] && ok[1] && global == 3) {
        printf("S4 OK: both threads saw each other's writes to the global %p and the heap "
               "object %p\n", (void *)&global, (void *)obj);
        return 0;
    }
    printf("S4 FAILED: thread 0 %s, thread 1 %s the other's writes\n",
           ok[0] ? "saw" : "did not see", ok[1] ? "saw" : "did not see");
    return 1;
}
