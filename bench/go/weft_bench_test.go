// Go twins of weft's benchmarks (bench/weft/*.cpp).
//
// Each Benchmark<Name> does exactly the work described for BM_<Name> in
// bench/README.md, so that `weft ns/op ÷ Go ns/op` compares like with like.
// Run with GOMAXPROCS 1 and 2:
//
//	cd bench/go && go test -run '^$' -bench . -cpu 1,2 -benchtime 0.25s
//
// (-cpu 1 names a result BenchmarkX, -cpu 2 names it BenchmarkX-2.) Only the
// standard library is used, so no network is ever needed. bench/compare.py
// builds this file once with `go test -c` and runs the binary itself.
//
// Conventions, shared with the C++ suites:
//   - one op is one round trip, one item, one select, one spawn+join or one
//     yield; the goroutines a benchmark needs are started before the timer
//     unless the work itself is spread over them (MPMC4x4, Yield), in which
//     case starting them is timed, once per b.N, as in the C++ suites;
//   - channels carry ints;
//   - Blocked100k / Million: one op is a whole batch of 100 000 / 1 000 000
//     goroutines; ns/g is the time per goroutine and rss_bytes/g the resident
//     memory per blocked goroutine: the growth of the resident set from
//     before the first start to when all have started, on an untimed cold
//     batch (after debug.FreeOSMemory, so every stack is freshly touched),
//     the largest such growth seen in the process; start_ns/g, close_ns/g
//     and exit_ns/g split ns/g into phases (see blockedPhases).
package weftbench

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink keeps results observable so nothing is optimised away.
var sink int

// PingPong: one round trip on two unbuffered channels. The benchmark
// goroutine (A) sends on ch1; B receives and sends the value back on ch2; A
// receives it.
func BenchmarkPingPong(b *testing.B) {
	ch1 := make(chan int)
	ch2 := make(chan int)
	done := make(chan struct{})
	go func() {
		for v := range ch1 {
			ch2 <- v
		}
		close(done)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch1 <- i
		sink += <-ch2
	}
	b.StopTimer()
	close(ch1)
	<-done
}

// SPSC: one item through a buffered channel of capacity 128; one producer
// goroutine, the benchmark goroutine consumes.
func BenchmarkSPSC(b *testing.B) {
	ch := make(chan int, 128)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
	}()
	b.ResetTimer()
	s := 0
	for i := 0; i < n; i++ {
		s += <-ch
	}
	b.StopTimer()
	sink += s
}

// MPMC4x4: one item through a capacity-128 channel with 4 producers (b.N
// items split between them) and 4 consumers (ranging until close).
func BenchmarkMPMC4x4(b *testing.B) {
	const producers, consumers = 4, 4
	ch := make(chan int, 128)
	var prod, cons sync.WaitGroup
	n := b.N
	b.ResetTimer()
	for p := 0; p < producers; p++ {
		share := n / producers
		if p < n%producers {
			share++
		}
		prod.Add(1)
		go func(k int) {
			for i := 0; i < k; i++ {
				ch <- i
			}
			prod.Done()
		}(share)
	}
	counts := make([]int, consumers)
	for c := 0; c < consumers; c++ {
		cons.Add(1)
		go func(c int) {
			k := 0
			for range ch {
				k++
			}
			counts[c] = k
			cons.Done()
		}(c)
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	b.StopTimer()
	total := 0
	for _, k := range counts {
		total += k
	}
	if total != n {
		b.Fatalf("received %d items, want %d", total, n)
	}
}

// Select2Ready: one select over two receive cases that are both ready. Each
// channel (capacity 1) holds one item between ops; the chosen case puts the
// value straight back, so one op = one select + one buffered send.
func BenchmarkSelect2Ready(b *testing.B) {
	x := make(chan int, 1)
	y := make(chan int, 1)
	x <- 1
	y <- 2
	hits := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		select {
		case v := <-x:
			hits += v
			x <- v
		case v := <-y:
			hits += v
			y <- v
		}
	}
	b.StopTimer()
	sink += hits
}

// SelectDefault: one select with a default case over an empty unbuffered
// channel (no sender waiting): the `select { case <-done: default: }` poll.
func BenchmarkSelectDefault(b *testing.B) {
	ch := make(chan int)
	hits := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		select {
		case v := <-ch:
			hits += v
		default:
			hits++
		}
	}
	b.StopTimer()
	sink += hits
}

// SpawnJoin: start one goroutine and wait for it through a WaitGroup.
func BenchmarkSpawnJoin(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
}

// Yield: two goroutines each calling runtime.Gosched() in a loop; b.N yields
// in total (split between them), the benchmark goroutine waits for both.
func BenchmarkYield(b *testing.B) {
	var wg sync.WaitGroup
	n := b.N
	half := n / 2
	b.ResetTimer()
	wg.Add(2)
	for _, k := range []int{half, n - half} {
		go func(k int) {
			for i := 0; i < k; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}(k)
	}
	wg.Wait()
}

// rssBytes is the process's resident set, from /proc/self/statm.
func rssBytes(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Fatalf("read /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(data))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		b.Fatalf("parse /proc/self/statm %q: %v", data, err)
	}
	return pages * int64(os.Getpagesize())
}

// blockedPhases: where a batch's time went, summed over the timed batches.
// start: from the first go statement until every goroutine has started;
// close: the release (close, or the gate's Done), which readies every blocked
// goroutine; exit: from then until every goroutine has exited.
type blockedPhases struct{ start, close, exit time.Duration }

// blockedIn: what each goroutine of a blocked batch is parked in, and what
// releases it.
type blockedIn int

const (
	// A receive on one unbuffered channel; released by closing it.
	inRecv blockedIn = iota
	// A select on that channel and one nobody uses (a context's Done() and a
	// work channel, as Go code waits for cancellation).
	inSelect
	// Wait on a WaitGroup at 1, used as a gate; released by Done.
	inWaitGroup
)

// blockedBatch starts n goroutines that all block in `in`, waits until every
// one has started, releases them all at once and waits for all to exit. It
// returns the growth of the resident set between before the first start and
// when all are blocked.
func blockedBatch(b *testing.B, n int, ph *blockedPhases, in blockedIn) int64 {
	ch := make(chan struct{})
	never := make(chan int)
	var started, exited, gate sync.WaitGroup
	started.Add(n)
	exited.Add(n)
	gate.Add(1)
	before := rssBytes(b)
	t0 := time.Now()
	// A loop per kind, so that each closure captures only what it uses.
	switch in {
	case inRecv:
		for i := 0; i < n; i++ {
			go func() {
				started.Done()
				<-ch
				exited.Done()
			}()
		}
	case inSelect:
		for i := 0; i < n; i++ {
			go func() {
				started.Done()
				select {
				case <-ch:
				case <-never:
				}
				exited.Done()
			}()
		}
	case inWaitGroup:
		for i := 0; i < n; i++ {
			go func() {
				started.Done()
				gate.Wait()
				exited.Done()
			}()
		}
	}
	started.Wait()
	t1 := time.Now()
	after := rssBytes(b)
	t2 := time.Now()
	if in == inWaitGroup {
		gate.Done()
	} else {
		close(ch)
	}
	t3 := time.Now()
	exited.Wait()
	t4 := time.Now()
	ph.start += t1.Sub(t0)
	ph.close += t3.Sub(t2)
	ph.exit += t4.Sub(t3)
	return after - before
}

// maxGrown[key] is the largest growth blockedBatch has seen for n goroutines in
// this process. Go never frees a g (only its stack), so only the first batch
// of a process pays for the g structures too: that cold figure is the one
// reported, which is why compare.py runs each of these benchmarks, per
// GOMAXPROCS, in a process of its own.
type blockedKey struct {
	n  int
	in blockedIn
}

var maxGrown = map[blockedKey]int64{}

func blockedBench(b *testing.B, n int, in blockedIn) {
	key := blockedKey{n, in}
	// Untimed cold batch: give freed stacks back to the OS first so every
	// goroutine's stack is touched afresh and shows up in the resident set.
	debug.FreeOSMemory()
	var cold, ph blockedPhases
	if grown := blockedBatch(b, n, &cold, in); grown > maxGrown[key] {
		maxGrown[key] = grown
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		blockedBatch(b, n, &ph, in)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	perG := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / float64(n) }
	b.ReportMetric(perG(elapsed), "ns/g")
	b.ReportMetric(float64(maxGrown[key])/float64(n), "rss_bytes/g")
	b.ReportMetric(perG(ph.start), "start_ns/g")
	b.ReportMetric(perG(ph.close), "close_ns/g")
	b.ReportMetric(perG(ph.exit), "exit_ns/g")
}

// Blocked100k: 100 000 goroutines blocked on one channel, then released.
func BenchmarkBlocked100k(b *testing.B) { blockedBench(b, 100_000, inRecv) }

// Blocked100kSelect: the same, each goroutine blocked in a two-case select.
func BenchmarkBlocked100kSelect(b *testing.B) { blockedBench(b, 100_000, inSelect) }

// Blocked100kWaitGroup: the same, each goroutine blocked in Wait on a
// WaitGroup used as a gate, released by one Done.
func BenchmarkBlocked100kWaitGroup(b *testing.B) { blockedBench(b, 100_000, inWaitGroup) }

// Million: 1 000 000 goroutines blocked at once (not in the default table;
// run it with -bench Million -benchtime 1x).
func BenchmarkMillion(b *testing.B) { blockedBench(b, 1_000_000, inRecv) }
