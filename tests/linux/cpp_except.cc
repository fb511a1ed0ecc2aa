// C++ exceptions: throw and catch through frames, destructors on unwinding, rethrow, nested
// and standard exceptions, bad_alloc, exceptions carried between threads by exception_ptr
// and std::future, noexcept.
#include <exception>
#include <future>
#include <iostream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static std::vector<std::string> log_;

struct Guard {
    std::string name;
    explicit Guard(std::string n) : name(std::move(n)) {}
    ~Guard() { log_.push_back(name); }
};

struct MyError : std::runtime_error {
    int code;
    MyError(const std::string &w, int c) : std::runtime_error(w), code(c) {}
};

static int depth(int n)
{
    Guard g("frame" + std::to_string(n));
    if (n == 0)
        throw MyError("deep failure", 7);
    return depth(n - 1) + 1;
}

int main()
{
    try {
        depth(3);
    } catch (const MyError &e) {
        std::cout << "caught MyError \"" << e.what() << "\" code " << e.code << '\n';
    }
    std::cout << "unwound:";
    for (auto &s : log_)
        std::cout << ' ' << s;
    std::cout << '\n';

    try {
        try {
            throw std::out_of_range("inner");
        } catch (const std::logic_error &e) {
            std::cout << "caught as logic_error: " << e.what() << ", rethrowing\n";
            throw;
        }
    } catch (const std::out_of_range &e) {
        std::cout << "rethrown, caught as out_of_range: " << e.what() << '\n';
    }

    try {
        try {
            throw std::runtime_error("cause");
        } catch (...) {
            std::throw_with_nested(std::logic_error("wrapper"));
        }
    } catch (const std::logic_error &e) {
        std::cout << "nested: " << e.what();
        try {
            std::rethrow_if_nested(e);
        } catch (const std::runtime_error &inner) {
            std::cout << " <- " << inner.what() << '\n';
        }
    }

    try {
        std::vector<int> v(3);
        v.at(10) = 1;
    } catch (const std::out_of_range &) {
        std::cout << "vector::at threw out_of_range\n";
    }
    try {
        std::size_t huge = static_cast<std::size_t>(1) << 62;
        auto *p = new char[huge];
        std::cout << "new of 4 EiB succeeded?! " << static_cast<void *>(p) << '\n';
    } catch (const std::bad_alloc &e) {
        std::cout << "bad_alloc from new of 4 EiB\n";
    }
    try {
        throw 42;
    } catch (int x) {
        std::cout << "caught int " << x << '\n';
    }
    try {
        throw "a C string";
    } catch (...) {
        std::cout << "catch (...) caught it\n";
    }

    std::exception_ptr ep;
    std::thread t([&ep] {
        try {
            throw std::runtime_error("from a thread");
        } catch (...) {
            ep = std::current_exception();
        }
    });
    t.join();
    try {
        std::rethrow_exception(ep);
    } catch (const std::exception &e) {
        std::cout << "exception_ptr carried: " << e.what() << '\n';
    }
    auto f = std::async(std::launch::async, []() -> int { throw std::invalid_argument("in async"); });
    try {
        (void)f.get();
    } catch (const std::invalid_argument &e) {
        std::cout << "future.get rethrew: " << e.what() << '\n';
    }
    std::vector<std::thread> many;
    std::vector<int> caught(4);
    for (int i = 0; i < 4; i++)
        many.emplace_back([i, &caught] {
            for (int k = 0; k < 200; k++) {
                try {
                    throw MyError("loop", i * 1000 + k);
                } catch (const MyError &e) {
                    caught[i] += e.code == i * 1000 + k;
                }
            }
        });
    for (auto &th : many)
        th.join();
    std::cout << "4 threads threw and caught concurrently:";
    for (int c : caught)
        std::cout << ' ' << c;
    std::cout << '\n';
    std::cout << "noexcept(depth(0)): " << noexcept(depth(0)) << '\n';
    std::cout << "done" << std::endl;
    return 0;
}
