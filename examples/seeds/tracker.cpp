// The fire-and-forget tracker — "Incomplete Work" in the seeds' chapter on
// never starting a goroutine without knowing when it will stop:
//
//   type Tracker struct{}
//   func (t *Tracker) Event(data string) {
//       time.Sleep(time.Millisecond)  // simulate network write latency
//       log.Println(data)
//   }
//   func (a *App) Handle(w http.ResponseWriter, r *http.Request) {
//       w.WriteHeader(http.StatusCreated)
//       // BUG: We are not managing this goroutine.
//       go a.track.Event("this event")
//   }
//
// Nobody knows when the event goroutines end, so nothing waits for them: when
// the program stops, the events still being written are lost (leaked
// goroutines). The seed's fix: Tracker counts its goroutines in a WaitGroup
// (Event adds one before it starts the goroutine) and Shutdown waits for all
// of them; main calls it before it returns.
//
// The web server is three requests that main hands to the handler in turn.
#include <chrono>
#include <string>

#include <weft/weft.hpp>

#include "seeds.hpp"

using namespace std::chrono_literals;

namespace seeds {
namespace {

// The seed's Tracker: knows how to track events for the application.
struct tracker {
  // Records an event to a database or stream.
  void event(const std::string& data) const {
    weft::sleep(1ms);  // simulate network write latency
    say("event: %s\n", data.c_str());
  }
};

struct app {
  tracker track;

  void handle(int request) const {
    // Do some actual work, then respond to the client.
    say("request %d: 201 Created\n", request);
    // Fire and hope. BUG: nobody manages this goroutine.
    weft::go([t = track, request] { t.event("request " + std::to_string(request)); });
  }
};

// The twin's Tracker: counts the goroutines it starts.
class managed_tracker {
 public:
  // Starts tracking an event. It runs asynchronously so as not to block the
  // caller; call shutdown() before the program exits so all events finish.
  void event(std::string data) {
    wg_.add(1);  // before the goroutine starts, so shutdown() waits for it
    weft::go([this, data = std::move(data)] {
      weft::sleep(1ms);  // simulate network write latency
      say("event: %s\n", data.c_str());
      wg_.done();
    });
  }
  // Waits for all tracked events to finish.
  void shutdown() { wg_.wait(); }

 private:
  weft::wait_group wg_;
};

struct managed_app {
  managed_tracker track;

  void handle(int request) {
    say("request %d: 201 Created\n", request);
    track.event("request " + std::to_string(request));
  }
};

}  // namespace

void tracker_bad() {
  app a;
  for (int request = 1; request <= 3; ++request) a.handle(request);
  // The server shuts down and main returns: the events are still on the way.
}

void tracker_fixed() {
  managed_app a;
  for (int request = 1; request <= 3; ++request) a.handle(request);
  a.track.shutdown();  // wait for all event goroutines to finish
}

}  // namespace seeds
