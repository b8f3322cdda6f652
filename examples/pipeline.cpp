// The seeds' pipeline: a generator, a stage that squares, a stage that sums,
// connected by channels and stopped by a done channel (Concurrency in Go,
// "Pipelines" and "Preventing Goroutine Leaks").
//
//   weft_example_pipeline [count] [workers]
//
// Fans the squaring stage out to `workers` goroutines and back in, then checks
// the sum against the closed form.
#include <weft/weft.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

weft::recv_chan<long> generate(weft::recv_chan<weft::unit> done, long count) {
  auto out = weft::make_chan<long>();
  weft::go([=] {
    for (long i = 1; i <= count; ++i) {
      bool stop = false;
      weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_send(out, i));
      if (stop) break;
    }
    out.close();
  });
  return out;
}

weft::recv_chan<long> square(weft::recv_chan<weft::unit> done, weft::recv_chan<long> in) {
  auto out = weft::make_chan<long>();
  weft::go([=] {
    for (long v : in) {
      bool stop = false;
      weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_send(out, v * v));
      if (stop) break;
    }
    out.close();
  });
  return out;
}

weft::recv_chan<long> merge(weft::recv_chan<weft::unit> done, const std::vector<weft::recv_chan<long>>& ins) {
  auto out = weft::make_chan<long>();
  auto finished = weft::make_chan<weft::unit>(ins.size());
  for (const auto& in : ins)
    weft::go([=] {
      for (long v : in) {
        bool stop = false;
        weft::select(weft::on_recv(done, [&](auto) { stop = true; }), weft::on_send(out, v));
        if (stop) break;
      }
      finished.send({});
    });
  weft::go([=, n = ins.size()] {
    for (std::size_t i = 0; i < n; ++i) finished.recv();
    out.close();
  });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 10000;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 4;
  if (count < 1 || workers < 1) {
    std::fprintf(stderr, "usage: %s [count >= 1] [workers >= 1]\n", argv[0]);
    return 2;
  }
  return weft::run([&] {
    auto done = weft::make_chan<weft::unit>();
    auto numbers = generate(done, count);
    std::vector<weft::recv_chan<long>> squares;
    for (int w = 0; w < workers; ++w) squares.push_back(square(done, numbers));
    long sum = 0;
    for (long v : merge(done, squares)) sum += v;
    done.close();
    const long expected = count * (count + 1) * (2 * count + 1) / 6;
    std::printf("sum of squares 1..%ld over %d workers = %ld (%s)\n", count, workers, sum,
                sum == expected ? "correct" : "WRONG");
    return sum == expected ? 0 : 1;
  });
}
