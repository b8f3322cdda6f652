// The config slice — the seeds' race between a writer that keeps replacing a
// configuration and readers that print it:
//
//   cfg := &Config{}
//   go func() { i := 0; for { i++; cfg.a = []int{i, i+1, i+2, i+3, i+4, i+5} } }()
//   for n := 0; n < 4; n++ {
//       wg.Add(1)
//       go func() { for n := 0; n < 20; n++ { fmt.Printf("%v\n", cfg) }; wg.Done() }()
//   }
//   wg.Wait()
//
// Every config the writer makes counts up by one (i, i+1, ..., i+5), yet a
// reader can see a torn one: the writes and the reads are a data race. The
// seeds' fix for a read-mostly value: atomic.Value, replaced as a whole (the
// twin uses weft::atomic_value, whose load() is a snapshot that is never
// torn).
//
// The writer makes 20 configs and stops (the seed's runs forever), so that
// the program ends.
#include <array>
#include <cstddef>

#include <weft/weft.hpp>
#include <weft/check/shared.hpp>

#include "seeds.hpp"

namespace seeds {
namespace {

struct config {
  std::array<int, 6> a{};
};

config make_config(int i) { return config{{i, i + 1, i + 2, i + 3, i + 4, i + 5}}; }

constexpr int updates = 20;
constexpr int readers = 4;
constexpr int reads = 20;

// A reader's look at the config: says so if it is torn (its numbers do not
// count up by one), and returns whether it was.
bool read(const config& c) {
  for (std::size_t k = 1; k < c.a.size(); ++k)
    if (c.a[k] != c.a[0] + static_cast<int>(k)) {
      say("torn config: &{[%d %d %d %d %d %d]}\n", c.a[0], c.a[1], c.a[2], c.a[3], c.a[4], c.a[5]);
      return false;
    }
  return true;
}

}  // namespace

void config_bad() {
  weft::check::shared<config> cfg{make_config(0)};
  weft::wait_group writer;
  writer.go([&cfg] {  // the data changing
    for (int i = 1; i <= updates; ++i) cfg.store(make_config(i));
  });
  weft::wait_group wg;
  for (int n = 0; n < readers; ++n)
    wg.go([&cfg] {  // getting the data
      int torn = 0;
      for (int r = 0; r < reads; ++r) torn += read(cfg.load()) ? 0 : 1;
      say("a reader read the config %d times: %d torn\n", reads, torn);
    });
  wg.wait();
  writer.wait();
}

void config_fixed() {
  weft::atomic_value<config> cfg{make_config(0)};
  weft::wait_group writer;
  writer.go([&cfg] {
    for (int i = 1; i <= updates; ++i) cfg.store(make_config(i));
  });
  weft::wait_group wg;
  for (int n = 0; n < readers; ++n)
    wg.go([&cfg] {
      int torn = 0;
      for (int r = 0; r < reads; ++r) torn += read(*cfg.load()) ? 0 : 1;
      say("a reader read the config %d times: %d torn\n", reads, torn);
    });
  wg.wait();
  writer.wait();
}

}  // namespace seeds
