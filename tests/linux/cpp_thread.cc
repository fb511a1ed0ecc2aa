// C++ threads: std::thread on 4 workers, std::mutex / lock_guard / unique_lock,
// condition_variable notify_all, std::atomic, std::async / future / promise, thread_local,
// std::shared_mutex, sleep_for.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <thread>
#include <vector>

static thread_local int tl_value = 5;

int main()
{
    std::mutex m;
    long counter = 0;
    std::atomic<long> acounter{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back([&] {
            for (int k = 0; k < 20000; k++) {
                std::lock_guard<std::mutex> g(m);
                counter++;
                acounter.fetch_add(1, std::memory_order_relaxed);
            }
        });
    for (auto &t : ts)
        t.join();
    std::cout << "4 std::threads: mutex counter " << counter << ", atomic counter " << acounter << '\n';

    std::condition_variable cv;
    bool go = false;
    int woken = 0;
    ts.clear();
    std::atomic<int> waiting{0};
    for (int i = 0; i < 5; i++)
        ts.emplace_back([&] {
            std::unique_lock<std::mutex> lk(m);
            waiting++;
            cv.wait(lk, [&] { return go; });
            woken++;
        });
    while (waiting.load() < 5)
        std::this_thread::yield();
    {
        std::lock_guard<std::mutex> g(m);
        go = true;
    }
    cv.notify_all();
    for (auto &t : ts)
        t.join();
    std::cout << "notify_all woke " << woken << " of 5\n";

    auto f1 = std::async(std::launch::async, [] {
        std::vector<int> v(1000);
        std::iota(v.begin(), v.end(), 1);
        return std::accumulate(v.begin(), v.end(), 0L);
    });
    std::promise<std::string> p;
    auto f2 = p.get_future();
    std::thread pt([&p] { p.set_value("from a promise"); });
    std::cout << "async result " << f1.get() << ", " << f2.get() << '\n';
    pt.join();

    int tl_other = 0;
    std::thread tt([&] { tl_value += 100; tl_other = tl_value; });
    tt.join();
    std::cout << "thread_local: other thread " << tl_other << ", main " << tl_value << '\n';

    std::shared_mutex sm;
    int shared_data = 0;
    std::atomic<int> readers_max{0}, readers{0};
    ts.clear();
    for (int i = 0; i < 4; i++)
        ts.emplace_back([&, i] {
            for (int k = 0; k < 500; k++) {
                if (k % 5 == i) {
                    std::unique_lock<std::shared_mutex> w(sm);
                    shared_data++;
                } else {
                    std::shared_lock<std::shared_mutex> r(sm);
                    int n = ++readers;
                    int seen = readers_max.load();
                    while (n > seen && !readers_max.compare_exchange_weak(seen, n))
                        ;
                    --readers;
                }
            }
        });
    for (auto &t : ts)
        t.join();
    std::cout << "shared_mutex writes " << shared_data << '\n';

    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    std::cout << "sleep_for 30 ms slept at least that: " << (ms.count() >= 30) << '\n';
    std::cout << "hardware_concurrency > 0: " << (std::thread::hardware_concurrency() > 0) << '\n';
    std::cout << "done" << std::endl;
    return 0;
}
