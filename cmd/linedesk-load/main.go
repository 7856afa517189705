// Command linedesk-load measures a running linedesk: inbound messages per second through the
// generic API channel (each acknowledged only once durable), and the operator's conversation
// list. It sends open-loop load at a fixed rate, so a slow server cannot hide its queueing, and
// only to the server it is given (loopback by default). It stops by itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linedesk-load:", err)
		os.Exit(1)
	}
}

type options struct {
	url, email, password string
	rate                 int
	duration             time.Duration
	chats                int
	maxInFlight          int
	listRequests         int
	listConcurrency      int
	openRate             int
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "linedesk base URL")
	flag.StringVar(&o.email, "email", "admin@example.com", "admin email (creates the line and channel)")
	flag.StringVar(&o.password, "password", "admin", "admin password")
	flag.IntVar(&o.rate, "rate", 300, "inbound messages per second to offer")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to send (at most 10m)")
	flag.IntVar(&o.chats, "chats", 1000, "distinct senders (chats) the messages spread over")
	flag.IntVar(&o.maxInFlight, "max-in-flight", 2000, "requests outstanding at most; beyond it a send counts as dropped")
	flag.IntVar(&o.listRequests, "list-requests", 2000, "conversation-list requests after the inbound phase (0: skip)")
	flag.IntVar(&o.listConcurrency, "list-concurrency", 8, "concurrent list requests")
	flag.IntVar(&o.openRate, "open-rate", 0, "first open each chat's conversation at this many new chats per second, then measure messages to open conversations (0: every message of the measured phase may open a chat)")
	flag.Parse()
	if o.duration > 10*time.Minute || o.rate <= 0 || o.chats <= 0 {
		return errors.New("-rate and -chats must be positive and -duration at most 10m")
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+5*time.Minute)
	defer cancel()

	jar, _ := cookiejar.New(nil)
	transport := &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	admin := &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}
	sink, err := startSink()
	if err != nil {
		return err
	}
	channelID, token, err := setup(ctx, admin, o, sink)
	if err != nil {
		return err
	}
	sender := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	contacts := fmt.Sprintf("load-%d", time.Now().UnixNano())
	if o.openRate > 0 {
		fmt.Printf("opening: %d new chats at %d/s (channel %d)\n", o.chats, o.openRate, channelID)
		open := sendInbound(ctx, sender, o, channelID, token, contacts, o.openRate, o.chats)
		open.print("new chat ack")
	}
	count := int(o.duration.Seconds() * float64(o.rate))
	fmt.Printf("inbound: offering %d msg/s for %s over %d chats (channel %d)\n", o.rate, o.duration, o.chats, channelID)
	in := sendInbound(ctx, sender, o, channelID, token, contacts, o.rate, count)
	in.print("inbound ack")
	if o.listRequests > 0 {
		list := measureList(ctx, admin, o)
		list.print("conversation list")
	}
	return nil
}

// startSink answers the channel's callbacks (outbound messages) with 200.
func startSink() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
	}()
	return "http://" + l.Addr().String() + "/hook", nil
}

func setup(ctx context.Context, c *http.Client, o options, sink string) (int64, string, error) {
	if _, err := call(ctx, c, "POST", o.url+"/api/v1/auth/login", map[string]string{"email": o.email, "password": o.password}, nil, http.StatusOK); err != nil {
		return 0, "", fmt.Errorf("login: %w", err)
	}
	var line struct {
		ID int64 `json:"id"`
	}
	raw, err := call(ctx, c, "POST", o.url+"/api/v1/lines", map[string]any{"name": "load " + time.Now().Format(time.TimeOnly), "auto_open": true}, nil, http.StatusCreated)
	if err != nil {
		return 0, "", fmt.Errorf("create line: %w", err)
	}
	_ = json.Unmarshal(raw, &line)
	var ch struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
		InboundToken string `json:"inbound_token"`
	}
	raw, err = call(ctx, c, "POST", o.url+"/api/v1/channels", map[string]any{"kind": "api", "name": "load", "line_id": line.ID,
		"settings": map[string]string{"callback_url": sink}}, nil, http.StatusCreated)
	if err != nil {
		return 0, "", fmt.Errorf("create channel: %w", err)
	}
	_ = json.Unmarshal(raw, &ch)
	return ch.Channel.ID, ch.InboundToken, nil
}

func call(ctx context.Context, c *http.Client, method, url string, body any, header map[string]string, want int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return out, fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, out)
	}
	return out, nil
}

type result struct {
	offered, ok, failed, dropped int64
	elapsed                      time.Duration
	latencies                    []time.Duration
	firstError                   string
}

func (r *result) print(what string) {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	fmt.Printf("%s: %d ok, %d failed, %d dropped of %d in %s = %.1f ok/s; latency p50 %s p90 %s p99 %s max %s\n",
		what, r.ok, r.failed, r.dropped, r.offered, r.elapsed.Round(time.Millisecond), float64(r.ok)/r.elapsed.Seconds(),
		q(0.50).Round(100*time.Microsecond), q(0.90).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond),
		q(1).Round(100*time.Microsecond))
	if r.firstError != "" {
		fmt.Printf("  first error: %s\n", r.firstError)
	}
}

// sendInbound offers count messages at rate a second, open loop, from contacts prefix-0 …
// prefix-(o.chats-1) in turn.
func sendInbound(ctx context.Context, c *http.Client, o options, channelID int64, token, prefix string, rate, count int) *result {
	res := &result{}
	var mu sync.Mutex
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	url := fmt.Sprintf("%s/api/v1/channels/%d/inbound", o.url, channelID)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	run := fmt.Sprint(start.UnixNano())
	for i := range count {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		res.offered++
		if inFlight.Load() >= int64(o.maxInFlight) {
			res.dropped++
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer inFlight.Add(-1)
			body := map[string]any{"contact": map[string]string{"external_id": fmt.Sprintf("%s-%d", prefix, i%o.chats)},
				"text": fmt.Sprintf("message %d", i)}
			t0 := time.Now()
			_, err := call(ctx, c, "POST", url, body, map[string]string{"Authorization": "Bearer " + token,
				"Idempotency-Key": fmt.Sprintf("%s-%d", run, i)}, http.StatusAccepted)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.failed++
				if res.firstError == "" {
					res.firstError = err.Error()
				}
				return
			}
			res.ok++
			res.latencies = append(res.latencies, d)
		}(i)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// measureList reads the conversation list as operators do: each view and sort, first pages and
// deeper pages through the cursor.
func measureList(ctx context.Context, c *http.Client, o options) *result {
	res := &result{}
	var mu sync.Mutex
	queries := []string{"view=all", "view=unassigned", "view=all&sort=activity", "view=unassigned&sort=due", "status=queued&sort=due"}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range o.listConcurrency {
		wg.Go(func() {
			for i := range jobs {
				q := queries[i%len(queries)]
				t0 := time.Now()
				raw, err := call(ctx, c, "GET", o.url+"/api/v1/conversations?limit=50&"+q, nil, nil, http.StatusOK)
				if err == nil && rand.IntN(2) == 0 {
					// Half the time, also fetch the next page.
					var page struct {
						NextCursor *string `json:"next_cursor"`
					}
					if json.Unmarshal(raw, &page) == nil && page.NextCursor != nil {
						_, err = call(ctx, c, "GET", o.url+"/api/v1/conversations?limit=50&"+q+"&cursor="+*page.NextCursor, nil, nil, http.StatusOK)
					}
				}
				d := time.Since(t0)
				mu.Lock()
				res.offered++
				if err != nil {
					res.failed++
					if res.firstError == "" {
						res.firstError = err.Error()
					}
				} else {
					res.ok++
					res.latencies = append(res.latencies, d)
				}
				mu.Unlock()
			}
		})
	}
	for i := range o.listRequests {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}
