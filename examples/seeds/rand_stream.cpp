// newRandStream — the producer leak of *Concurrency in Go*, chapter 4
// ("Preventing Goroutine Leaks"):
//
//   newRandStream := func() <-chan int {
//       randStream := make(chan int)
//       go func() {
//           defer fmt.Println("newRandStream closure exited.")
//           defer close(randStream)
//           for { randStream <- rand.Int() }
//       }()
//       return randStream
//   }
//   randStream := newRandStream()
//   for i := 1; i <= 3; i++ { fmt.Printf("%d: %d\n", i, <-randStream) }
//
// The consumer takes three numbers and leaves; the producer is stuck in its
// fourth send for good (leaked). The seed's fix: the producer also selects on
// a done channel, main closes it when it has had enough and waits (a
// WaitGroup) for the producer to finish.
//
// The numbers come from a generator with a fixed seed: under the explorer
// every source of nondeterminism must be one it controls.
#include <random>

#include <weft/weft.hpp>

#include "seeds.hpp"

namespace seeds {
namespace {

weft::recv_chan<int> new_rand_stream() {
  auto rand_stream = weft::make_chan<int>();
  weft::go([rand_stream] {
    std::minstd_rand rng(2024);
    for (;;) rand_stream.send(static_cast<int>(rng()));  // the fourth send never completes
    // (never reached: "newRandStream closure exited.", close(randStream))
  });
  return rand_stream;
}

weft::recv_chan<int> new_rand_stream(weft::wait_group& wg, weft::recv_chan<weft::unit> done) {
  auto rand_stream = weft::make_chan<int>();
  weft::go([&wg, done, rand_stream] {
    std::minstd_rand rng(2024);
    for (bool stop = false; !stop;)
      weft::select(weft::on_send(rand_stream, static_cast<int>(rng())),
                   weft::on_recv(done, [&stop](auto) { stop = true; }));
    say("newRandStream closure exited.\n");
    rand_stream.close();
    wg.done();
  });
  return rand_stream;
}

}  // namespace

void rand_stream_bad() {
  auto rand_stream = new_rand_stream();
  say("3 random ints:\n");
  for (int i = 1; i <= 3; ++i) say("%d: %d\n", i, *rand_stream.recv());
}

void rand_stream_fixed() {
  weft::wait_group wg;
  wg.add(1);
  auto done = weft::make_chan<weft::unit>();
  auto rand_stream = new_rand_stream(wg, done);
  say("3 random ints:\n");
  for (int i = 1; i <= 3; ++i) say("%d: %d\n", i, *rand_stream.recv());
  done.close();
  wg.wait();
}

}  // namespace seeds
