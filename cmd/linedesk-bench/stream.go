package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// streamWatch follows the console's live events (GET /api/v1/events, signed in as the admin)
// and times each accepted message until its `message` event arrives: what an operator watching
// the console waits, end to end through the read model and the event poller.
type streamWatch struct {
	mu      sync.Mutex
	pending map[string]watched
	// early holds messages whose event arrived before their acknowledgement did (the event can
	// beat the HTTP answer), with the arrival time.
	early map[string]time.Time
	// connected is closed once the stream answers.
	connected chan struct{}
}

func newStreamWatch() *streamWatch {
	return &streamWatch{pending: map[string]watched{}, early: map[string]time.Time{}, connected: make(chan struct{})}
}

func (s *streamWatch) add(messageID string, from time.Time, rec *recorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.early[messageID]; ok {
		rec.add(at.Sub(from), nil)
		delete(s.early, messageID)
		return
	}
	s.pending[messageID] = watched{from: from, rec: rec}
}

// run reads the stream until ctx ends, reconnecting with Last-Event-ID if it drops.
func (s *streamWatch) run(ctx context.Context, a *httpAPI) {
	client := &http.Client{Jar: a.session.Jar, Transport: a.session.Transport} // no timeout: a stream stays open
	last := ""
	once := sync.Once{}
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/api/v1/events", nil)
		if err != nil {
			return
		}
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		res, err := client.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			if err == nil {
				res.Body.Close()
			}
			time.Sleep(time.Second)
			continue
		}
		once.Do(func() { close(s.connected) })
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				last = id
			}
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			now := time.Now()
			var e struct {
				Kind string `json:"kind"`
				Data struct {
					ID string `json:"id"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(data), &e) != nil || e.Kind != "message" {
				continue
			}
			s.mu.Lock()
			if w, ok := s.pending[e.Data.ID]; ok {
				w.rec.add(now.Sub(w.from), nil)
				delete(s.pending, e.Data.ID)
			} else if _, seen := s.early[e.Data.ID]; !seen {
				s.early[e.Data.ID] = now
				if len(s.early) > 100000 {
					clear(s.early) // messages of earlier workloads nobody waits for
				}
			}
			s.mu.Unlock()
		}
		res.Body.Close()
	}
}

// drain waits until no message is pending, at most timeout; it forgets and returns the rest.
func (s *streamWatch) drain(ctx context.Context, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s.mu.Lock()
		n := len(s.pending)
		s.mu.Unlock()
		if n == 0 {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.pending)
	clear(s.pending)
	return n
}

func (s *streamWatch) waitConnected(ctx context.Context) error {
	select {
	case <-s.connected:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the event stream did not answer")
	}
}
