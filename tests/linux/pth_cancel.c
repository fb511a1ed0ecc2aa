/* Cancellation (deferred, as musl implements it): a thread cancelled while blocked in a
 * cancellation point (condition wait, nanosleep, read of a pipe), cleanup handlers,
 * PTHREAD_CANCELED, cancellation disabled then enabled, pthread_testcancel. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "linux.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cleanups, ready;
static int pipefd[2];

static void cleanup(void *arg)
{
    (void)arg;
    cleanups++;
}

static void unlock_and_count(void *arg)
{
    cleanups++;
    pthread_mutex_unlock(arg);
}

static void announce(void)
{
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void *in_cond_wait(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    pthread_cleanup_push(unlock_and_count, &lock);
    ready++;
    pthread_cond_broadcast(&cond);
    for (;;)
        pthread_cond_wait(&cond, &lock);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *in_sleep(void *arg)
{
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    announce();
    struct timespec d = {100, 0};
    nanosleep(&d, NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_read(void *arg)
{
    (void)arg;
    char c;
    pthread_cleanup_push(cleanup, NULL);
    announce();
    read(pipefd[0], &c, 1);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *disabled(void *arg)
{
    (void)arg;
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    announce();
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);                 /* the cancel arrives meanwhile; not acted on */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    pthread_testcancel();
    return (void *)1;                    /* not reached */
}

static void wait_ready(int n)
{
    pthread_mutex_lock(&lock);
    while (ready < n)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static void cancel_and_join(const char *what, pthread_t t)
{
    void *ret;
    int r = pthread_cancel(t);
    int j = pthread_join(t, &ret);
    printf("%s: cancel %d, join %d, PTHREAD_CANCELED %d, cleanups so far %d\n", what, r, j,
           ret == PTHREAD_CANCELED, cleanups);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pipe(pipefd);
    pthread_t t;
    pthread_create(&t, NULL, in_cond_wait, NULL);
    wait_ready(1);
    cancel_and_join("in pthread_cond_wait", t);
    pthread_mutex_lock(&lock);            /* the cleanup handler released it */
    pthread_mutex_unlock(&lock);

    pthread_create(&t, NULL, in_sleep, NULL);
    wait_ready(2);
    cancel_and_join("in nanosleep", t);
    pthread_create(&t, NULL, in_read, NULL);
    wait_ready(3);
    cancel_and_join("in read", t);
    pthread_create(&t, NULL, disabled, NULL);
    wait_ready(4);
    cancel_and_join("with cancellation disabled, then testcancel", t);
    puts("done");
    return 0;
}
