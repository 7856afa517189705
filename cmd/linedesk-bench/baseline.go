package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The bench's own workflows, on its own task queue, run by a worker inside this process: they
// measure what the Temporal server and a Go worker cost with no linedesk code in the way.
const (
	noopWorkflowName = "LinedeskBenchNoop"
	idleWorkflowName = "LinedeskBenchIdle"
	pingSignal       = "ping"
)

// noopWorkflow takes the signal it was started with and ends (B1).
func noopWorkflow(ctx workflow.Context) error {
	workflow.GetSignalChannel(ctx, pingSignal).ReceiveAsync(nil)
	return nil
}

// idleWorkflow counts signals until its lifetime ends (B2). The lifetime bounds it, so nothing
// keeps running on a target stack after the bench.
func idleWorkflow(ctx workflow.Context, lifetime time.Duration) (int, error) {
	received := 0
	ch := workflow.GetSignalChannel(ctx, pingSignal)
	timer := workflow.NewTimer(ctx, lifetime)
	done := false
	for !done {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); received++ })
		sel.AddFuture(timer, func(workflow.Future) { done = true })
		sel.Select(ctx)
	}
	for ch.ReceiveAsync(nil) {
		received++
	}
	return received, nil
}

// closedLoop runs callers goroutines calling op back to back until d has passed (or ctx ends),
// and records each call's latency.
func closedLoop(ctx context.Context, callers int, d time.Duration, op func(ctx context.Context, caller, i int) error) Throughput {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second) // the last calls may finish a little late
	defer cancel()
	rec := &recorder{}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := op(ctx, c, i)
				rec.add(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	return rec.result(time.Since(start))
}

// forEach calls op for k = 0 … n-1 from workers goroutines, within limit at most, and records
// each call's latency.
func forEach(ctx context.Context, workers, n int, limit time.Duration, op func(ctx context.Context, k int) error) Throughput {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rec := &recorder{}
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for k := range jobs {
				t0 := time.Now()
				err := op(ctx, k)
				rec.add(time.Since(t0), err)
			}
		})
	}
feed:
	for k := range n {
		select {
		case jobs <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return rec.result(time.Since(start))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runTemporalBaselines runs B1 and B2 with a worker of this process on a fresh task queue.
func (b *bench) runTemporalBaselines(ctx context.Context) error {
	queue := "linedesk-bench-" + randomHex(4)
	w := worker.New(b.st.tc, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopWorkflowName})
	w.RegisterWorkflowWithOptions(idleWorkflow, workflow.RegisterOptions{Name: idleWorkflowName})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the bench worker: %w", err)
	}
	defer w.Stop()
	o := b.o
	prefix := queue + "-"

	if o.runs("b1") {
		b.progress("B1: SignalWithStart of new no-op workflows, %d callers, %s", o.BaselineConcurrency, o.BaselineDuration)
		r := closedLoop(ctx, o.BaselineConcurrency, o.BaselineDuration, func(ctx context.Context, c, i int) error {
			_, err := b.st.tc.SignalWithStartWorkflow(ctx, fmt.Sprintf("%snoop-%d-%d", prefix, c, i), pingSignal, nil,
				client.StartWorkflowOptions{TaskQueue: queue, WorkflowExecutionTimeout: 10 * time.Minute}, noopWorkflowName)
			return err
		})
		b.rep.B1 = &r
	}

	if o.runs("b2") {
		n := o.IdleWorkflows
		lifetime := o.BaselineDuration + 5*time.Minute // ended earlier below; the lifetime only bounds a crash
		b.progress("B2: starting %d idle workflows", n)
		ids := make([]string, n)
		start := forEach(ctx, o.BaselineConcurrency, n, 10*time.Minute, func(ctx context.Context, k int) error {
			ids[k] = fmt.Sprintf("%sidle-%d", prefix, k)
			_, err := b.st.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[k], TaskQueue: queue,
				WorkflowExecutionTimeout: lifetime + time.Minute}, idleWorkflowName, lifetime)
			return err
		})
		// Whatever happens next, end them, so that they do not weigh on the system workloads.
		defer func() {
			forEach(context.WithoutCancel(ctx), o.BaselineConcurrency, n, 2*time.Minute, func(ctx context.Context, k int) error {
				if ids[k] == "" {
					return nil
				}
				return b.st.tc.TerminateWorkflow(ctx, ids[k], "", "linedesk-bench: B2 done")
			})
		}()
		if start.OK < n {
			return fmt.Errorf("B2: %d of %d idle workflows started, first error: %s", start.OK, n, start.FirstErr)
		}
		b.progress("B2: Signal to %d idle workflows, %d callers, %s", n, o.BaselineConcurrency, o.BaselineDuration)
		r := closedLoop(ctx, o.BaselineConcurrency, o.BaselineDuration, func(ctx context.Context, c, i int) error {
			return b.st.tc.SignalWorkflow(ctx, ids[(i*o.BaselineConcurrency+c)%n], "", pingSignal, nil)
		})
		b.rep.B2 = &r
	}
	return nil
}

// runPostgresBaseline runs B6a: single-row INSERT commits into a scratch table of the same
// PostgreSQL, on 1 and on 4 connections.
func (b *bench) runPostgresBaseline(ctx context.Context) error {
	table := pgx.Identifier{"linedesk_bench_scratch_" + randomHex(4)}.Sanitize()
	if _, err := b.st.pool.Exec(ctx, `CREATE TABLE `+table+` (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("B6a: create scratch table: %w", err)
	}
	defer func() {
		if _, err := b.st.pool.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+table); err != nil {
			b.progress("B6a: drop scratch table: %v", err)
		}
	}()
	for _, conns := range []int{1, 4} {
		b.progress("B6a: single-row INSERT commits on %d connection(s), %s", conns, b.o.BaselineDuration)
		cs := make([]*pgx.Conn, conns)
		for i := range cs {
			c, err := pgx.Connect(ctx, b.st.dbURL)
			if err != nil {
				return fmt.Errorf("B6a: connect: %w", err)
			}
			defer c.Close(context.WithoutCancel(ctx))
			cs[i] = c
		}
		sql := `INSERT INTO ` + table + ` (payload) VALUES ($1)`
		r := closedLoop(ctx, conns, b.o.BaselineDuration, func(ctx context.Context, c, i int) error {
			_, err := cs[c].Exec(ctx, sql, "message text of a typical length, about sixty characters long")
			return err
		})
		b.rep.B6a = append(b.rep.B6a, PGBaseline{Connections: conns, Throughput: r})
	}
	return nil
}
