// Go twins of weft's sync, context and rate benchmarks
// (bench/weft/sync_bench.cpp, issue 3). Each Benchmark<Name> does exactly the
// work described for BM_<Name> in bench/README.md. Standard library only: the
// rate limiter twin is a port of golang.org/x/time/rate's Limiter (below),
// because x/time/rate is not in the standard library and compare.py builds
// with GOPROXY=off.
package weftbench

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's CPU time so far (every thread, user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports the process CPU time per op as the metric cpu-ns/op (the
// twin of the CPU column of weft's suite, which measures the process's CPU
// time for these benchmarks): on a loaded machine it varies much less than
// wall time. compare.py reads only ns/op.
type cpuMeter struct{ start time.Duration }

func startCPU() cpuMeter { return cpuMeter{cpuTime()} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(cpuTime()-m.start)/float64(b.N), "cpu-ns/op")
}

// share is goroutine k's part of n ops split over ways goroutines (the
// remainder to the first ones).
func share(n, ways, k int) int {
	s := n / ways
	if k < n%ways {
		s++
	}
	return s
}

// MutexUncontended: lock, increment a counter, unlock, in the benchmark
// goroutine.
func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	counter := 0
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	cpu.report(b)
	sink += counter
}

// Mutex4Way: 4 goroutines hammer one mutex (b.N lock/increment/unlock in
// all, split between them); starting them is timed.
func BenchmarkMutex4Way(b *testing.B) {
	const ways = 4
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	n := b.N
	b.ResetTimer()
	cpu := startCPU()
	for k := 0; k < ways; k++ {
		wg.Add(1)
		go func(s int) {
			for i := 0; i < s; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}(share(n, ways, k))
	}
	wg.Wait()
	cpu.report(b)
	b.StopTimer()
	if counter != n {
		b.Fatalf("counter %d, want %d", counter, n)
	}
}

// RWMutexReadMostly: 4 goroutines, b.N ops in all; a goroutine's k-th op is a
// write (Lock, increment, Unlock) when k%101 == 100, else a read (RLock, read
// the counter, RUnlock): one write after every 100 reads.
func BenchmarkRWMutexReadMostly(b *testing.B) {
	const ways = 4
	var rw sync.RWMutex
	var wg sync.WaitGroup
	counter := 0
	seen := make([]int, ways)
	n := b.N
	b.ResetTimer()
	cpu := startCPU()
	for k := 0; k < ways; k++ {
		wg.Add(1)
		go func(k, s int) {
			sum := 0
			for i := 0; i < s; i++ {
				if i%101 == 100 {
					rw.Lock()
					counter++
					rw.Unlock()
				} else {
					rw.RLock()
					sum += counter
					rw.RUnlock()
				}
			}
			seen[k] = sum
			wg.Done()
		}(k, share(n, ways, k))
	}
	wg.Wait()
	cpu.report(b)
	b.StopTimer()
	for _, s := range seen {
		sink += s
	}
}

// The seeds' comparison (seeds/004: BenchmarkAtomic vs BenchmarkMutex): a
// config of 6 ints replaced over and over by one writer goroutine while 4
// readers each read it b.N times; ns/op is wall time / b.N, as the seed's. The
// writer is stopped after the timer (the seed's runs for ever).
type config struct {
	a []int
}

func freshConfig(i int) *config {
	return &config{a: []int{i, i + 1, i + 2, i + 3, i + 4, i + 5}}
}

// AtomicValueLoad: the readers Load the config from an atomic.Value.
func BenchmarkAtomicValueLoad(b *testing.B) {
	const readers = 4
	var v atomic.Value
	v.Store(freshConfig(0))
	var stop atomic.Bool
	var stores atomic.Int64 // how hard the writer pushed: stores/op
	writerDone := make(chan struct{})
	go func() {
		for i := 1; !stop.Load(); i++ {
			v.Store(freshConfig(i))
			stores.Store(int64(i))
		}
		close(writerDone)
	}()
	var wg sync.WaitGroup
	seen := make([]int, readers)
	n := b.N
	b.ResetTimer()
	cpu := startCPU()
	before := stores.Load()
	for k := 0; k < readers; k++ {
		wg.Add(1)
		go func(k int) {
			sum := 0
			for i := 0; i < n; i++ {
				cfg := v.Load().(*config)
				sum += cfg.a[0]
			}
			seen[k] = sum
			wg.Done()
		}(k)
	}
	wg.Wait()
	cpu.report(b)
	b.ReportMetric(float64(stores.Load()-before)/float64(b.N), "stores/op")
	b.StopTimer()
	stop.Store(true)
	<-writerDone
	for _, s := range seen {
		sink += s
	}
}

// AtomicValueBorrow: weft's borrow() reads the value in place; Go has one way
// to read an atomic.Value, so its twin is AtomicValueLoad itself.
func BenchmarkAtomicValueBorrow(b *testing.B) { BenchmarkAtomicValueLoad(b) }

// AtomicValueBorrowAlone: one goroutine loading an unchanging config, nobody
// storing: the read path alone.
func BenchmarkAtomicValueBorrowAlone(b *testing.B) { loadAlone(b) }

// AtomicValueLoadAlone: the same loop as AtomicValueBorrowAlone (Go has one
// Load); its weft twin takes an owning snapshot (load) instead of borrowing.
func BenchmarkAtomicValueLoadAlone(b *testing.B) { loadAlone(b) }

// AtomicValueLoadShared, AtomicValueLoadSharedAlone: weft converts its
// snapshot to an owning std::shared_ptr; Go has no owning pointer besides
// the GC's, so the twins are AtomicValueLoad and the Load loop.
func BenchmarkAtomicValueLoadShared(b *testing.B)      { BenchmarkAtomicValueLoad(b) }
func BenchmarkAtomicValueLoadSharedAlone(b *testing.B) { loadAlone(b) }

func loadAlone(b *testing.B) {
	var v atomic.Value
	v.Store(freshConfig(1))
	sum := 0
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		sum += v.Load().(*config).a[0]
	}
	cpu.report(b)
	sink += sum
}

// rwMutexReaders: 4 readers, reader k running seen[k] = read(rw, cfg, b.N, k)
// while one writer replaces *cfg under Lock. (The seed's writer takes RLock to
// write, a data race.) Reports writes/op, how often the writer got in, and
// then whatever extra(writes) reports.
const rwReaders = 4

func rwMutexReaders(b *testing.B, read func(rw *sync.RWMutex, cfg **config, n, k int) int, extra func(writes int64)) {
	var rw sync.RWMutex
	cfg := freshConfig(0)
	var stop atomic.Bool
	var writes atomic.Int64 // how often the writer got in: writes/op
	writerDone := make(chan struct{})
	go func() {
		for i := 1; !stop.Load(); i++ {
			rw.Lock()
			cfg = freshConfig(i)
			rw.Unlock()
			writes.Store(int64(i))
		}
		close(writerDone)
	}()
	var wg sync.WaitGroup
	seen := make([]int, rwReaders)
	n := b.N
	b.ResetTimer()
	cpu := startCPU()
	before := writes.Load()
	for k := 0; k < rwReaders; k++ {
		wg.Add(1)
		go func(k int) {
			seen[k] = read(&rw, &cfg, n, k)
			wg.Done()
		}(k)
	}
	wg.Wait()
	cpu.report(b)
	written := writes.Load() - before
	b.ReportMetric(float64(written)/float64(b.N), "writes/op")
	b.StopTimer()
	stop.Store(true)
	<-writerDone
	for _, s := range seen {
		sink += s
	}
	extra(written)
}

// RWMutexRead: the readers RLock, read the config, RUnlock.
func BenchmarkRWMutexRead(b *testing.B) {
	rwMutexReaders(b, func(rw *sync.RWMutex, cfg **config, n, _ int) int {
		sum := 0
		for i := 0; i < n; i++ {
			rw.RLock()
			sum += (*cfg).a[0]
			rw.RUnlock()
		}
		return sum
	}, func(int64) {})
}

// RWMutexReadCycles: diagnostic twin of RWMutexRead (the same loop, plus a
// compare per read). A reader's cycle is a run of its reads that saw one
// config. cycles/write: how many readers saw each write; reads/cycle: how many
// reads each fitted in (4 in lockstep: the tokens of the readers the writer
// waited for). A long run (over 64 reads) means the writer was off its P for a
// while: long_share is the share of all reads done in long runs, long_runs
// their number, reads/short_cycle the mean of the other cycles.
func BenchmarkRWMutexReadCycles(b *testing.B) {
	const longRun = 64
	type runs struct{ cycles, longRuns, longReads int }
	per := make([]runs, rwReaders)
	rwMutexReaders(b, func(rw *sync.RWMutex, cfg **config, n, k int) int {
		var r runs
		run, last := 0, -1
		endRun := func() {
			if run > longRun {
				r.longRuns++
				r.longReads += run
			}
		}
		for i := 0; i < n; i++ {
			rw.RLock()
			c := (*cfg).a[0]
			rw.RUnlock()
			if c != last {
				endRun()
				r.cycles++
				run = 0
				last = c
			}
			run++
		}
		endRun()
		per[k] = r
		return r.cycles
	}, func(written int64) {
		var t runs
		for _, r := range per {
			t.cycles += r.cycles
			t.longRuns += r.longRuns
			t.longReads += r.longReads
		}
		reads := float64(b.N * len(per))
		if written > 0 {
			b.ReportMetric(float64(t.cycles)/float64(written), "cycles/write")
		}
		b.ReportMetric(reads/float64(t.cycles), "reads/cycle")
		b.ReportMetric(float64(t.longReads)/reads, "long_share")
		b.ReportMetric(float64(t.longRuns), "long_runs")
		if t.cycles > t.longRuns {
			b.ReportMetric((reads-float64(t.longReads))/float64(t.cycles-t.longRuns), "reads/short_cycle")
		}
	})
}

// WaitGroup: Add(1), Done(), Wait() in the benchmark goroutine (Wait finds
// the counter at zero and returns at once).
func BenchmarkWaitGroup(b *testing.B) {
	var wg sync.WaitGroup
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		wg.Done()
		wg.Wait()
	}
	cpu.report(b)
}

// ContextWithCancel: derive a cancellable child of Background and cancel it.
func BenchmarkContextWithCancel(b *testing.B) {
	bg := context.Background()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(bg)
		cancel()
		_ = ctx
	}
	cpu.report(b)
}

// OnceFast: Do on a Once whose function has already run.
func BenchmarkOnceFast(b *testing.B) {
	var o sync.Once
	runs := 0
	f := func() { runs++ }
	o.Do(f)
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		o.Do(f)
	}
	cpu.report(b)
	b.StopTimer()
	if runs != 1 {
		b.Fatalf("ran %d times", runs)
	}
}

// RateAllow: Allow() (time.Now() included) on a limiter with the infinite
// limit and a burst of 1, in the benchmark goroutine: always allowed.
func BenchmarkRateAllow(b *testing.B) {
	lim := newLimiter(rateInf, 1)
	allowed := 0
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		if lim.Allow() {
			allowed++
		}
	}
	cpu.report(b)
	if allowed != b.N {
		b.Fatalf("allowed %d of %d", allowed, b.N)
	}
}

// RateAllowN: x/time/rate's own BenchmarkAllowN — one event per second,
// burst 1, AllowN(now, 1) at one fixed instant (all but the first denied), on
// GOMAXPROCS goroutines through b.RunParallel.
func BenchmarkRateAllowN(b *testing.B) {
	lim := newLimiter(rateEvery(1*time.Second), 1)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lim.AllowN(now, 1)
		}
	})
	cpu.report(b)
}

// ---------------------------------------------------------------------------
// golang.org/x/time/rate's Limiter (v0.5), the parts Allow and AllowN use,
// ported line for line: its mutex, its fields, reserveN and advance, and the
// conversions. weft::rate::limiter implements the same arithmetic.

type rateLimit float64

const rateInf = rateLimit(math.MaxFloat64)

const rateInfDuration = time.Duration(math.MaxInt64)

func rateEvery(interval time.Duration) rateLimit {
	if interval <= 0 {
		return rateInf
	}
	return 1 / rateLimit(interval.Seconds())
}

type limiter struct {
	mu     sync.Mutex
	limit  rateLimit
	burst  int
	tokens float64
	// last is the last time the limiter's tokens field was updated
	last time.Time
	// lastEvent is the latest time of a rate-limited event (past or future)
	lastEvent time.Time
}

func newLimiter(r rateLimit, b int) *limiter {
	return &limiter{limit: r, burst: b}
}

type reservation struct {
	ok        bool
	lim       *limiter
	tokens    int
	timeToAct time.Time
	limit     rateLimit
}

func (lim *limiter) Allow() bool {
	return lim.AllowN(time.Now(), 1)
}

func (lim *limiter) AllowN(t time.Time, n int) bool {
	return lim.reserveN(t, n, 0).ok
}

func (lim *limiter) reserveN(t time.Time, n int, maxFutureReserve time.Duration) reservation {
	lim.mu.Lock()
	defer lim.mu.Unlock()

	if lim.limit == rateInf {
		return reservation{
			ok:        true,
			lim:       lim,
			tokens:    n,
			timeToAct: t,
		}
	} else if lim.limit == 0 {
		var ok bool
		if lim.burst >= n {
			ok = true
			lim.burst -= n
		}
		return reservation{
			ok:        ok,
			lim:       lim,
			tokens:    lim.burst,
			timeToAct: t,
		}
	}

	t, tokens := lim.advance(t)

	// Calculate the remaining number of tokens resulting from the request.
	tokens -= float64(n)

	// Calculate the wait duration
	var waitDuration time.Duration
	if tokens < 0 {
		waitDuration = lim.limit.durationFromTokens(-tokens)
	}

	// Decide result
	ok := n <= lim.burst && waitDuration <= maxFutureReserve

	// Prepare reservation
	r := reservation{
		ok:    ok,
		lim:   lim,
		limit: lim.limit,
	}
	if ok {
		r.tokens = n
		r.timeToAct = t.Add(waitDuration)

		// Update state
		lim.last = t
		lim.tokens = tokens
		lim.lastEvent = r.timeToAct
	}

	return r
}

func (lim *limiter) advance(t time.Time) (newT time.Time, newTokens float64) {
	last := lim.last
	if t.Before(last) {
		last = t
	}

	// Calculate the new number of tokens, due to time that passed.
	elapsed := t.Sub(last)
	delta := lim.limit.tokensFromDuration(elapsed)
	tokens := lim.tokens + delta
	if burst := float64(lim.burst); tokens > burst {
		tokens = burst
	}
	return t, tokens
}

func (limit rateLimit) durationFromTokens(tokens float64) time.Duration {
	if limit <= 0 {
		return rateInfDuration
	}
	duration := (tokens / float64(limit)) * float64(time.Second)
	// Cap the duration to the maximum representable int64 value, to avoid overflow.
	if duration > float64(math.MaxInt64) {
		return rateInfDuration
	}
	return time.Duration(duration)
}

func (limit rateLimit) tokensFromDuration(d time.Duration) float64 {
	if limit <= 0 {
		return 0
	}
	return d.Seconds() * float64(limit)
}
