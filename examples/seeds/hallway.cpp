// The hallway — the livelock of *Concurrency in Go*, chapter 1: two people
// meet in a hallway; each politely steps aside, to the same side as the other,
// on the same beat, again and again.
//
//   cadence := sync.NewCond(&sync.Mutex{})
//   go func() { for range time.Tick(1*time.Millisecond) { cadence.Broadcast() } }()
//   takeStep := func() { cadence.L.Lock(); cadence.Wait(); cadence.L.Unlock() }
//   tryDir := func(dirName string, dir *int32, out *bytes.Buffer) bool {
//       fmt.Fprintf(out, " %v", dirName)
//       atomic.AddInt32(dir, 1)
//       takeStep()
//       if atomic.LoadInt32(dir) == 1 { fmt.Fprint(out, ". Success!"); return true }
//       takeStep()
//       atomic.AddInt32(dir, -1)
//       return false
//   }
//   walk := func(walking *sync.WaitGroup, name string) {
//       ...
//       for i := 0; i < 5; i++ { if tryLeft(&out) || tryRight(&out) { return } }
//       fmt.Fprintf(&out, "\n%v tosses her hands up in exasperation!", name)
//   }
//
// Everybody moves on the beat, so Alice and Barbara always lean the same way
// at the same time: both keep running and nobody gets anywhere. The bad
// version is the hallway where they never give up (a livelock); the twin is
// the seed's own walk, which gives up after 5 tries.
//
// Two changes from the Go text, both about ending cleanly: the beat is a
// goroutine that sleeps 1ms and broadcasts (time.Tick's loop) and stops once
// the hallway is empty (the Go program leaves it running when main returns,
// which weft would rightly report as a leak); and a walker that never gives up
// reports how it is doing every 5 tries, so the standalone program shows it.
#include <chrono>
#include <string>

#include <weft/weft.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

constexpr int forever = 0;

struct hallway {
  weft::mutex mu;
  weft::cond cadence{mu};
  weft::atomic<int> left{0};   // how many people lean left
  weft::atomic<int> right{0};  // how many people lean right
  weft::atomic<bool> empty{false};
};

// Everybody moves on the beat: wait for the next one.
void take_step(hallway& h) {
  h.mu.lock();
  h.cadence.wait();
  h.mu.unlock();
}

bool try_dir(hallway& h, const char* dir_name, weft::atomic<int>& dir, std::string& out) {
  out += ' ';
  out += dir_name;
  dir.fetch_add(1);
  take_step(h);
  if (dir.load() == 1) {  // nobody else leans this way: pass
    out += ". Success!";
    return true;
  }
  take_step(h);
  dir.fetch_sub(1);
  return false;
}

void walk(hallway& h, const char* name, int tries) {
  std::string out = std::string(name) + " is trying to scoot:";
  for (int i = 1; tries == forever || i <= tries; ++i) {
    if (try_dir(h, "left", h.left, out) || try_dir(h, "right", h.right, out)) {
      say("%s\n", out.c_str());
      return;
    }
    if (tries == forever && i % 5 == 0) {
      say("%s (%d tries)\n", out.c_str(), i);
      out = std::string(name) + " is still trying to scoot:";
    }
  }
  say("%s\n%s tosses her hands up in exasperation!\n", out.c_str(), name);
}

void hallway_with(int tries) {
  hallway h;
  weft::wait_group beat;
  beat.go([&h] {  // the cadence: every millisecond, everyone waiting moves
    while (!h.empty.load()) {
      weft::sleep(1ms);
      h.cadence.broadcast();
    }
  });
  weft::wait_group people_in_hallway;
  people_in_hallway.go([&h, tries] { walk(h, "Alice", tries); });
  people_in_hallway.go([&h, tries] { walk(h, "Barbara", tries); });
  people_in_hallway.wait();
  h.empty.store(true);
  beat.wait();
}

}  // namespace

void hallway_bad() { hallway_with(forever); }
void hallway_fixed() { hallway_with(5); }

}  // namespace seeds
