// doWork — the goroutine leak of *Concurrency in Go*, chapter 4 ("Preventing
// Goroutine Leaks"):
//
//   doWork := func(strings <-chan string) <-chan interface{} {
//       completed := make(chan interface{})
//       go func() {
//           defer fmt.Println("doWork exited.")
//           defer close(completed)
//           for s := range strings { fmt.Println(s) }
//       }()
//       return completed
//   }
//   doWork(nil)
//   fmt.Println("Done.")
//
// A receive from the nil channel blocks forever, so the goroutine doWork
// starts never ends: when main returns it is still there (leaked). The
// seed's fix: whoever starts a goroutine must be able to stop it. doWork
// takes a done channel and selects on it; main closes done (after a second)
// and waits on `terminated` before it returns.
//
// Go's `defer`s become the goroutine's last statements: a goroutine that
// never gets there (the leak) never prints "doWork exited.".
#include <chrono>
#include <string>

#include <weft/weft.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

weft::recv_chan<weft::unit> do_work(weft::recv_chan<std::string> strings) {
  auto completed = weft::make_chan<weft::unit>();
  weft::go([strings, completed] {
    // for s := range strings (the loop is spelled out so that a report names
    // this line rather than the channel's iterator)
    while (std::optional<std::string> s = strings.recv()) say("%s\n", s->c_str());
    say("doWork exited.\n");
    completed.close();
  });
  return completed;
}

weft::recv_chan<weft::unit> do_work(weft::recv_chan<weft::unit> done, weft::recv_chan<std::string> strings) {
  auto terminated = weft::make_chan<weft::unit>();
  weft::go([done, strings, terminated] {
    for (bool stop = false; !stop;)
      // A closed channel selects with no value; Go's `s := <-strings` then
      // reads the zero value, "".
      weft::select(weft::on_recv(strings, [](std::optional<std::string> s) { say("%s\n", s.value_or("").c_str()); }),
                   weft::on_recv(done, [&stop](auto) { stop = true; }));
    say("doWork exited.\n");
    terminated.close();
  });
  return terminated;
}

}  // namespace

void do_work_bad() {
  do_work(weft::recv_chan<std::string>{});  // nil: nothing is ever received
  // Perhaps more work is done here
  say("Done.\n");
}

void do_work_fixed() {
  auto done = weft::make_chan<weft::unit>();
  auto terminated = do_work(done, weft::recv_chan<std::string>{});
  weft::go([done] {
    // Cancel the operation after 1 second.
    weft::sleep(1s);
    say("Canceling doWork goroutine...\n");
    done.close();
  });
  terminated.recv();
  say("Done.\n");
}

}  // namespace seeds
