package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bench is one run: its options, the stack under test, the report it fills and, once set up,
// the line and channels the system workloads write to.
type bench struct {
	o        options
	st       *stack
	rep      *Report
	progress func(string, ...any)

	api     *httpAPI
	vis     *visibility
	stream  *streamWatch
	run     string // prefix of every external id and idempotency key of this run
	adminID int64
	lineID  int64
	sink    string
	seeded  int64 // the channel of the large seeded read model (S9, Q1), once seeded
}

// runAll runs the chosen workloads in order. A workload that fails is reported and the others
// still run, unless the stack itself is gone.
func (b *bench) runAll(ctx context.Context) error {
	var errs []error
	fail := func(what string, err error) {
		if err != nil {
			b.progress("%s failed: %v", what, err)
			b.rep.Errors = append(b.rep.Errors, what+": "+err.Error())
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	if b.o.runs("b1") || b.o.runs("b2") {
		fail("temporal baselines", b.runTemporalBaselines(ctx))
	}
	if b.o.runs("b6a") {
		fail("B6a", b.runPostgresBaseline(ctx))
	}
	system := false
	for _, w := range []string{"s1", "s1c", "s2", "s3", "s5", "s9", "q1", "r1", "w1", "m1"} {
		system = system || b.o.runs(w)
	}
	if !system || ctx.Err() != nil {
		return errors.Join(append(errs, ctx.Err())...)
	}
	if err := b.setupSystem(ctx); err != nil {
		fail("setup", err)
		return errors.Join(errs...)
	}
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go b.vis.run(pollCtx)
	if b.o.runs("s1") {
		b.stream = newStreamWatch()
		go b.stream.run(pollCtx, b.api)
		if err := b.stream.waitConnected(ctx); err != nil {
			fail("S1 stream", err)
			return errors.Join(errs...)
		}
	}

	steps := []struct {
		id  string
		run func(context.Context) error
	}{
		{"s1", b.runS1}, {"s1c", b.runS1c}, {"s2", b.runS2}, {"s3", b.runS3}, {"s5", b.runS5}, {"s9", b.runS9}, {"q1", b.runQ1}, {"r1", b.runR1}, {"w1", b.runW1}, {"m1", b.runM1},
	}
	for _, s := range steps {
		if !b.o.runs(s.id) {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if b.st.managed() {
			select {
			case <-b.st.exited:
				fail(s.id, fmt.Errorf("linedesk dev has exited:\n%s", b.st.logTail()))
				return errors.Join(errs...)
			default:
			}
		}
		fail(s.id, s.run(ctx))
	}
	return errors.Join(errs...)
}

// setupSystem signs in and creates the bench's line (auto-open) and its callback sink.
func (b *bench) setupSystem(ctx context.Context) error {
	b.api = newHTTPAPI(b.st.baseURL)
	b.vis = newVisibility(b.st.pool)
	b.run = "bench-" + randomHex(4)
	var err error
	if b.adminID, err = b.api.login(ctx, b.o.Email, b.o.Password); err != nil {
		return err
	}
	sink, stop, err := startSink()
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, stop)
	b.sink = sink
	b.lineID, err = b.api.createLine(ctx, "Bench "+b.run)
	if err != nil {
		return fmt.Errorf("create line: %w", err)
	}
	return nil
}

func (b *bench) channel(ctx context.Context, name string) (apiChannel, error) {
	ch, err := b.api.createChannel(ctx, b.lineID, name+" "+b.run, b.sink)
	if err != nil {
		return ch, fmt.Errorf("create channel %s: %w", name, err)
	}
	return ch, nil
}

// openChats sends one first message from each of n new contacts (workers at a time) and waits
// until every message has joined its new conversation. It returns the external ids.
func (b *bench) openChats(ctx context.Context, ch apiChannel, tag string, n, workers int, limit time.Duration) ([]string, error) {
	ids := make([]string, n)
	rec := &recorder{}
	sent := forEach(ctx, workers, n, limit, func(ctx context.Context, k int) error {
		ids[k] = fmt.Sprintf("%s-%s-%d", b.run, tag, k)
		t0 := time.Now()
		mid, err := b.api.inbound(ctx, ch, ids[k], ids[k]+"-first", "hello, I need help")
		if err == nil {
			b.vis.add(mid, t0, rec)
		}
		return err
	})
	if sent.OK < n {
		return nil, fmt.Errorf("opening %d chats: %d accepted, first error: %s", n, sent.OK, sent.FirstErr)
	}
	if left := b.vis.drain(ctx, limit); left > 0 {
		return nil, fmt.Errorf("opening %d chats: %d first messages never joined a conversation", n, left)
	}
	return ids, nil
}

// RateResult is S1 at one offered rate.
type RateResult struct {
	Rate      float64    `json:"offered_per_second"`
	Offered   int        `json:"offered"`
	Achieved  float64    `json:"accepted_per_second"`
	Ack       Throughput `json:"ack"`
	Visible   Latency    `json:"visible"`
	Invisible int        `json:"never_visible"`
	// Streamed is the time until the message's event reached the console's event stream.
	Streamed   Latency `json:"streamed"`
	Unstreamed int     `json:"never_streamed"`
	Sustained  bool    `json:"sustained"`
	FirstError string  `json:"first_error,omitempty"`
}

// runS1 offers messages to open conversations at fixed open-loop rates. Latencies count from
// each message's intended send time, so a slow server cannot hide its queue (no coordinated
// omission).
func (b *bench) runS1(ctx context.Context) error {
	o := b.o
	ch, err := b.channel(ctx, "S1")
	if err != nil {
		return err
	}
	b.progress("S1: opening %d conversations", o.OpenConversations)
	chats, err := b.openChats(ctx, ch, "s1", o.OpenConversations, 8, 10*time.Minute)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for ri, rate := range o.Rates {
		b.progress("S1: %.0f msg/s for %s over %d open conversations", rate, o.RateDuration, len(chats))
		// Arrivals until the window ends; the cap only guards against a runaway Poisson draw.
		maxCount := int(2*rate*o.RateDuration.Seconds()) + 100
		count := 0
		ack, visRec, streamRec := &recorder{}, &recorder{}, &recorder{}
		var inFlight atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		due := start
		for i := 0; i < maxCount && ctx.Err() == nil; i++ {
			if i > 0 {
				gap := time.Duration(float64(time.Second) / rate)
				if o.Poisson {
					gap = time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
				}
				due = due.Add(gap)
			}
			if due.Sub(start) >= o.RateDuration {
				break
			}
			count++
			time.Sleep(time.Until(due))
			if inFlight.Load() >= int64(o.MaxInFlight) {
				ack.drop()
				continue
			}
			inFlight.Add(1)
			intended := due
			wg.Go(func() {
				defer inFlight.Add(-1)
				chat := chats[(i*7919+ri)%len(chats)]
				mid, err := b.api.inbound(ctx, ch, chat, fmt.Sprintf("%s-s1-%d-%d", b.run, ri, i), "message "+strconv.Itoa(i))
				ack.add(time.Since(intended), err)
				if err == nil {
					b.stream.add(mid, intended, streamRec)
					b.vis.add(mid, intended, visRec)
				}
			})
		}
		wg.Wait()
		// Rates are over the offered window, not the tail of the last answers.
		elapsed := o.RateDuration
		left := b.vis.drain(ctx, 30*time.Second)
		r := RateResult{Rate: rate, Offered: count, Ack: ack.result(elapsed), Invisible: left}
		r.Unstreamed = b.stream.drain(ctx, 10*time.Second)
		r.Streamed = streamRec.result(elapsed).Latency
		r.Achieved = r.Ack.PerSecond
		r.Visible = visRec.result(elapsed).Latency
		r.FirstError = r.Ack.FirstErr
		r.Sustained = r.Ack.Failed == 0 && r.Ack.Dropped == 0 && left == 0 && r.Visible.Count > 0 &&
			r.Visible.P99 < float64(o.VisibleTarget.Microseconds())/1000
		b.rep.S1 = append(b.rep.S1, r)
		if r.Sustained && rate > b.rep.S1MaxRate {
			b.rep.S1MaxRate = rate
		}
		if r.Ack.Failed+r.Ack.Dropped > count/10 {
			b.progress("S1: more than a tenth of the messages failed at %.0f msg/s; skipping higher rates", rate)
			break
		}
	}
	return nil
}

// ClosedResult is a closed-loop run: acknowledgements and the time until visible.
type ClosedResult struct {
	Clients   int        `json:"clients"`
	Ack       Throughput `json:"ack"`
	Visible   Latency    `json:"visible"`
	Invisible int        `json:"never_visible"`
}

// runS1c: Clients clients, each writing to its own open conversation as fast as acks come back.
func (b *bench) runS1c(ctx context.Context) error {
	o := b.o
	ch, err := b.channel(ctx, "S1c")
	if err != nil {
		return err
	}
	chats, err := b.openChats(ctx, ch, "s1c", o.Clients, o.Clients, 2*time.Minute)
	if err != nil {
		return err
	}
	b.progress("S1c: %d clients in a closed loop for %s", o.Clients, o.ClosedDuration)
	visRec := &recorder{}
	ack := closedLoop(ctx, o.Clients, o.ClosedDuration, func(ctx context.Context, c, i int) error {
		t0 := time.Now()
		mid, err := b.api.inbound(ctx, ch, chats[c], fmt.Sprintf("%s-s1c-%d-%d", b.run, c, i), "message "+strconv.Itoa(i))
		if err == nil {
			b.vis.add(mid, t0, visRec)
		}
		return err
	})
	left := b.vis.drain(ctx, 30*time.Second)
	b.rep.S1c = &ClosedResult{Clients: o.Clients, Ack: ack, Visible: visRec.result(0).Latency, Invisible: left}
	return nil
}

// S2Result is new conversations per second.
type S2Result struct {
	ClosedResult
	// Conversations is how many of the new contacts' conversations were queued and unassigned
	// (the Unassigned view) by the end of the run; PerSecond is that over the run's duration.
	Conversations int     `json:"conversations_unassigned"`
	PerSecond     float64 `json:"conversations_per_second"`
	// AllVisibleAfter is how long after the last acknowledgement every accepted first message
	// had its conversation in the Unassigned view.
	AllVisibleAfter float64 `json:"all_visible_after_seconds"`
}

// runS2: Clients clients in a closed loop, each message from a new contact.
func (b *bench) runS2(ctx context.Context) error {
	o := b.o
	ch, err := b.channel(ctx, "S2")
	if err != nil {
		return err
	}
	b.progress("S2: %d clients, each message from a new contact, for %s", o.Clients, o.S2Duration)
	visRec := &recorder{}
	start := time.Now()
	ack := closedLoop(ctx, o.Clients, o.S2Duration, func(ctx context.Context, c, i int) error {
		ext := fmt.Sprintf("%s-s2-%d-%d", b.run, c, i)
		t0 := time.Now()
		mid, err := b.api.inbound(ctx, ch, ext, ext, "hello, a new question")
		if err == nil {
			b.vis.add(mid, t0, visRec)
		}
		return err
	})
	window := time.Since(start)
	unassigned := func() (int, error) {
		var n int
		err := b.st.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE channel_id = $1 AND status = 'queued' AND assignee_id IS NULL`, ch.ID).Scan(&n)
		return n, err
	}
	inWindow, err := unassigned()
	if err != nil {
		return err
	}
	left := b.vis.drain(ctx, 60*time.Second)
	after := time.Since(start) - window
	res := &S2Result{ClosedResult: ClosedResult{Clients: o.Clients, Ack: ack, Visible: visRec.result(0).Latency, Invisible: left},
		Conversations: inWindow, PerSecond: float64(inWindow) / window.Seconds(), AllVisibleAfter: after.Seconds()}
	if all, err := unassigned(); err == nil && all < ack.OK {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("S2: %d of %d accepted first messages have a conversation in the Unassigned view", all, ack.OK))
	}
	b.rep.S2 = res
	return nil
}

// S3Result is operator actions per second, by kind.
type S3Result struct {
	Operators     int                   `json:"operators"`
	Conversations int                   `json:"conversations"`
	Total         Throughput            `json:"total"`
	Actions       map[string]Throughput `json:"actions"`
	Rejected      int                   `json:"rejected_409"`
}

// runS3: operators take a conversation, reply twice and close it, one conversation after another.
func (b *bench) runS3(ctx context.Context) error {
	o := b.o
	ch, err := b.channel(ctx, "S3")
	if err != nil {
		return err
	}
	b.progress("S3: preparing %d conversations", o.S3Conversations)
	if _, err := b.openChats(ctx, ch, "s3", o.S3Conversations, 8, 10*time.Minute); err != nil {
		return err
	}
	var numbers []int64
	rows, err := b.st.pool.Query(ctx, `SELECT number FROM conversations WHERE channel_id = $1 AND status = 'queued' ORDER BY number`, ch.ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	if len(numbers) == 0 {
		return errors.New("no queued conversations to act on")
	}
	b.progress("S3: %d operators take, reply twice and close, for %s at most", o.S3Operators, o.S3Duration)
	kinds := []string{"take", "reply", "close"}
	recs := map[string]*recorder{}
	for _, k := range kinds {
		recs[k] = &recorder{}
	}
	total := &recorder{}
	var rejected atomic.Int64
	act := func(ctx context.Context, kind string, n int64, i int) {
		path := "/api/v1/conversations/" + strconv.FormatInt(n, 10)
		var body any
		want := http.StatusOK
		switch kind {
		case "take":
			path += "/take"
		case "reply":
			path += "/messages"
			body = map[string]string{"text": "Thanks, looking into it (" + strconv.Itoa(i) + ")"}
			want = http.StatusCreated
		case "close":
			path += "/close"
			body = map[string]any{"solution": "Answered", "confirm_unread": true}
		}
		t0 := time.Now()
		err := b.api.do(ctx, b.api.session, http.MethodPost, path, body, nil, want, nil)
		d := time.Since(t0)
		var se *statusError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			rejected.Add(1)
		}
		recs[kind].add(d, err)
		total.add(d, err)
	}
	start := time.Now()
	deadline := start.Add(o.S3Duration)
	forEach(ctx, o.S3Operators, len(numbers), o.S3Duration+time.Minute, func(ctx context.Context, k int) error {
		if time.Now().After(deadline) {
			return nil
		}
		n := numbers[k]
		act(ctx, "take", n, 0)
		act(ctx, "reply", n, 1)
		act(ctx, "reply", n, 2)
		act(ctx, "close", n, 3)
		return nil
	})
	elapsed := time.Since(start)
	res := &S3Result{Operators: o.S3Operators, Conversations: len(numbers), Total: total.result(elapsed),
		Actions: map[string]Throughput{}, Rejected: int(rejected.Load())}
	for _, k := range kinds {
		res.Actions[k] = recs[k].result(elapsed)
	}
	b.rep.S3 = res
	return nil
}
