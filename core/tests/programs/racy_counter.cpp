// A deliberately racy weft program and its corrected twin, run as child
// processes by tsan_test.cpp: under ThreadSanitizer the racy one must be
// reported and the twin must not. Usage: racy_counter racy|fixed
#include <weft/weft.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  const bool racy = argc > 1 && std::strcmp(argv[1], "racy") == 0;
  int counter = 0;  // plain memory: only channels may order the accesses
  int result = weft::run({.procs = 2}, [&] {
    auto done = weft::make_chan<weft::unit>();
    auto token = weft::make_chan<weft::unit>(1);
    token.send({});
    for (int g = 0; g < 2; ++g)
      weft::go([&, done, token] {
        for (int i = 0; i < 1000; ++i) {
          if (!racy) token.recv();  // the fix: a channel used as a lock
          ++counter;
          if (!racy) token.send({});
          if (i % 100 == 0) weft::yield();
        }
        done.send({});
      });
    done.recv();
    done.recv();
    return counter;
  });
  std::printf("counter=%d\n", result);
  return 0;
}
