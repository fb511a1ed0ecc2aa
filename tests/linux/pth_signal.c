/* Signals and threads: pthread_kill to one thread, per-thread masks (pthread_sigmask), a
 * process-directed signal taken by the one thread that does not block it, sigwait in a
 * dedicated thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "linux.h"

static __thread int my_hits;
static volatile pid_t handled_by;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;

static void on_usr1(int sig)
{
    (void)sig;
    my_hits++;
    handled_by = gettid();
}

static void set_stage(int s)
{
    pthread_mutex_lock(&lock);
    stage = s;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void wait_stage(int s)
{
    pthread_mutex_lock(&lock);
    while (stage < s)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

static volatile pid_t target_tid;

static void *target(void *arg)
{
    (void)arg;
    target_tid = gettid();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);   /* the only thread accepting SIGUSR1 */
    set_stage(1);
    wait_stage(2);
    int hits = my_hits;
    return (void *)(long)hits;
}

static void *waiter(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    sigwait(set, &sig);
    return (void *)(long)sig;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);     /* inherited by the threads created below */

    pthread_t t;
    pthread_create(&t, NULL, target, NULL);
    wait_stage(1);
    kill(getpid(), SIGUSR1);                  /* process-directed: only the target can take it */
    while (handled_by == 0)
        sched_yield();
    printf("process-directed SIGUSR1 handled by the unblocking thread: %d\n", handled_by == target_tid);
    handled_by = 0;
    pthread_kill(t, SIGUSR1);
    while (handled_by == 0)
        sched_yield();
    printf("pthread_kill reached that thread: %d\n", handled_by == target_tid);
    set_stage(2);
    void *r;
    pthread_join(t, &r);
    printf("target's own count: %ld, main's: %d\n", (long)r, my_hits);

    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &w, NULL);
    pthread_create(&t, NULL, waiter, &w);
    pthread_kill(t, SIGUSR2);
    pthread_join(t, &r);
    printf("sigwait in a thread got SIGUSR2: %d\n", (long)r == SIGUSR2);
    printf("pthread_kill with signal 0 to a live thread: %d\n", pthread_kill(pthread_self(), 0));
    puts("done");
    return 0;
}
