/* 8 musl pthreads compute 40 rounds of a 1-D automaton: the main thread starts each round
 * with a condition-variable broadcast, the workers compute their slices and meet at a
 * barrier, whose serial thread swaps the buffers and reports the round done. The result
 * is checked against the same computation done serially; it does not depend on how the
 * threads interleave. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { THREADS = 8, CELLS = 4096, ROUNDS = 40 };
static uint32_t grid[2][CELLS], serial[2][CELLS];
static int cur;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static int go_round, done_round, quit;
static int slices[THREADS];
static uint64_t wakeups;

static uint32_t step(uint32_t l, uint32_t c, uint32_t r, int round)
{
    uint32_t x = l * 3 + c * 5 + r * 7 + (uint32_t)round;
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    return x ^ (x >> 15);
}

static uint64_t checksum(const uint32_t *g)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < CELLS; i++)
        h = (h ^ g[i]) * 1099511628211ull;
    return h;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg, lo = id * CELLS / THREADS, hi = (id + 1) * CELLS / THREADS;
    int mine = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (go_round == mine && !quit)
            pthread_cond_wait(&go, &lock);
        wakeups++;
        if (quit) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        mine = go_round;
        pthread_mutex_unlock(&lock);

        const uint32_t *in = grid[cur];
        uint32_t *out = grid[!cur];
        for (int i = lo; i < hi; i++)
            out[i] = step(in[(i + CELLS - 1) % CELLS], in[i], in[(i + 1) % CELLS], mine);
        slices[id]++;
        if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) {
            pthread_mutex_lock(&lock);
            cur = !cur;
            done_round = mine;
            pthread_cond_signal(&finished);
            pthread_mutex_unlock(&lock);
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint32_t seed = 2463534242u;
    for (int i = 0; i < CELLS; i++) {
        seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
        grid[0][i] = serial[0][i] = seed;
    }
    pthread_barrier_init(&bar, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int r = 1; r <= ROUNDS; r++) {
        pthread_mutex_lock(&lock);
        go_round = r;
        pthread_cond_broadcast(&go);
        while (done_round < r)
            pthread_cond_wait(&finished, &lock);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    quit = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    int s = 0;
    for (int r = 1; r <= ROUNDS; r++, s = !s)
        for (int i = 0; i < CELLS; i++)
            serial[!s][i] = step(serial[s][(i + CELLS - 1) % CELLS], serial[s][i],
                                 serial[s][(i + 1) % CELLS], r);
    uint64_t par = checksum(grid[cur]), ser = checksum(serial[s]);
    printf("threads %d, rounds %d, checksum %016llx\n", THREADS, ROUNDS, (unsigned long long)par);
    printf("serial checksum %016llx, same %d\n", (unsigned long long)ser, par == ser);
    printf("slices per thread:");
    for (int i = 0; i < THREADS; i++)
        printf(" %d", slices[i]);
    printf("\nwakeups counted: %llu (one per thread per round, plus the quit)\n",
           (unsigned long long)wakeups);
    return par == ser ? 0 : 1;
}
