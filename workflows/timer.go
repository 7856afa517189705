package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// deadlineTimer is one durable timer that follows a moving deadline. It is re-armed only when
// the deadline comes earlier; a deadline that moved later lets the armed timer fire and the
// caller re-arms it for the rest, so a conversation whose client keeps writing does not start
// and cancel a timer per message. At most one timer is pending, and stop cancels it, so none
// outlives its purpose.
type deadlineTimer struct {
	at     time.Time
	fut    workflow.Future
	cancel workflow.CancelFunc
}

// follow arms the timer for at (ok) or cancels it (no deadline).
func (t *deadlineTimer) follow(ctx workflow.Context, at time.Time, ok bool) {
	if t.fut != nil && (!ok || at.Before(t.at)) {
		t.stop()
	}
	if !ok || t.fut != nil {
		return
	}
	tctx, cancel := workflow.WithCancel(ctx)
	t.at, t.cancel = at, cancel
	t.fut = workflow.NewTimer(tctx, max(at.Sub(workflow.Now(ctx)), time.Millisecond))
}

// fired tells whether the armed timer went off; the caller then calls done.
func (t *deadlineTimer) fired() bool { return t.fut != nil && t.fut.IsReady() }

// done forgets a timer that fired.
func (t *deadlineTimer) done() { t.fut, t.cancel = nil, nil }

// stop cancels a pending timer.
func (t *deadlineTimer) stop() {
	if t.fut != nil {
		if !t.fut.IsReady() {
			t.cancel()
		}
		t.done()
	}
}

// fifoLock is a mutex that serves its waiters in the order they asked. workflow.Mutex wakes
// waiters in whatever order the SDK runs coroutines, which reorders actions that arrived
// together (eight automated messages sent at once went out last-first).
type fifoLock struct {
	next, serving int
	// abandoned are tickets whose holders were cancelled while waiting: their turns are skipped.
	abandoned map[int]bool
}

// lock waits for this caller's turn.
func (l *fifoLock) lock(ctx workflow.Context) error {
	ticket := l.next
	l.next++
	if err := workflow.Await(ctx, func() bool { return l.serving == ticket }); err != nil {
		if l.serving == ticket {
			l.unlock()
		} else {
			if l.abandoned == nil {
				l.abandoned = map[int]bool{}
			}
			l.abandoned[ticket] = true
		}
		return err
	}
	return nil
}

// unlock hands the turn to the next caller.
func (l *fifoLock) unlock() {
	l.serving++
	for l.abandoned[l.serving] {
		delete(l.abandoned, l.serving)
		l.serving++
	}
}
