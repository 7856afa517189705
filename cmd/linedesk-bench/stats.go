package main

import (
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Latency summarises a set of latencies in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := min(len(s)-1, int(p*float64(len(s))))
		return float64(s[i].Microseconds()) / 1000
	}
	return Latency{Count: len(s), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: float64(s[len(s)-1].Microseconds()) / 1000}
}

// Throughput is one measured loop: what succeeded, how fast, and how long each took.
type Throughput struct {
	OK        int     `json:"ok"`
	Failed    int     `json:"failed"`
	Dropped   int     `json:"dropped,omitempty"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	Latency   Latency `json:"latency"`
	FirstErr  string  `json:"first_error,omitempty"`
}

// recorder collects the outcomes of one loop from many goroutines.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	ok       int
	failed   int
	dropped  int
	firstErr string
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
		return
	}
	r.ok++
	r.lat = append(r.lat, d)
}

func (r *recorder) drop() {
	r.mu.Lock()
	r.dropped++
	r.mu.Unlock()
}

func (r *recorder) result(elapsed time.Duration) Throughput {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := Throughput{OK: r.ok, Failed: r.failed, Dropped: r.dropped, Seconds: elapsed.Seconds(),
		Latency: summarize(r.lat), FirstErr: r.firstErr}
	if elapsed > 0 {
		t.PerSecond = float64(r.ok) / elapsed.Seconds()
	}
	return t
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
