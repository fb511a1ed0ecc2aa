// C++ streams and containers: cout formatting, stringstream, fstream to a file, strings,
// vector / map / algorithms, std::function, smart pointers.
#include <algorithm>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>
#include <cstdio>

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};
struct Square : Shape {
    double s;
    explicit Square(double s) : s(s) {}
    double area() const override { return s * s; }
    std::string name() const override { return "square"; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double r) : r(r) {}
    double area() const override { return 3.14159265358979 * r * r; }
    std::string name() const override { return "circle"; }
};

int main()
{
    std::cout << "hello from iostream, " << 42 << ' ' << 2.5 << ' ' << true << '\n';
    std::cout << std::boolalpha << true << ' ' << std::hex << 255 << ' ' << std::dec << 255 << '\n';
    std::cout << std::setw(8) << std::setfill('.') << 42 << '|' << std::left << std::setw(6) << "ab"
              << '|' << std::setfill(' ') << std::right << '\n';
    std::cout << std::fixed << std::setprecision(3) << 3.14159265 << ' ' << std::scientific << 12345.678
              << std::defaultfloat << '\n';

    std::ostringstream os;
    os << "x=" << 7 << ",y=" << 8;
    std::istringstream is("10 20 thirty 40");
    int a, b;
    std::string word;
    is >> a >> b >> word;
    std::cout << os.str() << " | parsed " << a + b << " and " << word << '\n';

    {
        std::ofstream out("/tmp/cpp_io.txt");
        for (int i = 1; i <= 5; i++)
            out << "line " << i << '\n';
    }
    std::ifstream in("/tmp/cpp_io.txt");
    std::string line;
    int lines = 0;
    while (std::getline(in, line))
        lines++;
    std::cout << "fstream: wrote and read " << lines << " lines, last \"" << line << "\"\n";
    std::ifstream missing("/no/such/file");
    std::cout << "opening a missing file: good() " << missing.good() << '\n';
    std::remove("/tmp/cpp_io.txt");

    std::vector<int> v(20);
    std::iota(v.begin(), v.end(), 1);
    std::reverse(v.begin(), v.end());
    std::sort(v.begin(), v.begin() + 10);
    auto evens = std::count_if(v.begin(), v.end(), [](int x) { return x % 2 == 0; });
    std::cout << "vector: sum " << std::accumulate(v.begin(), v.end(), 0) << ", evens " << evens
              << ", first " << v.front() << ", last " << v.back() << '\n';

    std::map<std::string, int> freq;
    std::istringstream text("the quick brown fox jumps over the lazy dog the end");
    while (text >> word)
        freq[word]++;
    std::cout << "map:";
    for (auto &kv : freq)
        std::cout << ' ' << kv.first << '=' << kv.second;
    std::cout << '\n';

    std::vector<std::unique_ptr<Shape>> shapes;
    shapes.push_back(std::make_unique<Square>(2));
    shapes.push_back(std::make_unique<Circle>(1));
    for (auto &s : shapes)
        std::cout << s->name() << ' ' << std::setprecision(4) << s->area() << '\n';
    auto shared = std::make_shared<std::string>("shared");
    auto copy = shared;
    std::cout << "shared_ptr use_count " << shared.use_count() << '\n';
    std::function<int(int)> twice = [](int x) { return 2 * x; };
    std::cout << "std::function " << twice(21) << '\n';
    std::string s = "Hello, World";
    std::transform(s.begin(), s.end(), s.begin(), ::toupper);
    std::cout << s << ", find " << s.find("WORLD") << ", substr " << s.substr(0, 5) << '\n';
    std::cerr << "to cerr" << std::endl;
    std::cout << "done" << std::endl;
    return 0;
}
