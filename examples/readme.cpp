// The README's example, compiled and run as a test so the README cannot rot.
#include <weft/weft.hpp>
#include <cstdio>
using namespace std::chrono_literals;

int main() {
  return weft::run({.procs = 4}, [] {               // the main goroutine
    auto jobs = weft::make_chan<int>(16);
    auto results = weft::make_chan<int>();
    for (int w = 0; w < 3; ++w)                      // fan out to 3 workers
      weft::go([=] { for (int j : jobs) results.send(j * j); });
    weft::go([=] { for (int j = 1; j <= 9; ++j) jobs.send(j); jobs.close(); });
    int sum = 0;
    for (int i = 0; i < 9; ++i)
      weft::select(weft::on_recv(results, [&](std::optional<int> v) { sum += *v; }),
                   weft::on_recv(weft::after(1s), [](auto) { std::puts("timeout"); }));
    std::printf("sum of squares: %d\n", sum);        // 285
    return 0;
  });
}
