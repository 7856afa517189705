package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RouterInput starts a line's router (or continues it as new).
type RouterInput struct {
	LineID int64 `json:"line_id"`
	// Cursor is the operator the last turn went to: round robin goes on from the next one.
	Cursor int64 `json:"cursor,omitempty"`
}

// routerRecheck is how often a router with conversations still waiting looks again without
// being woken (a lost wake-up costs at most this); routerIdle how long an empty queue keeps it.
const (
	routerRecheck = time.Minute
	routerIdle    = time.Hour
	// routerStepsPerRun continues the router as new long before its history grows large.
	routerStepsPerRun = 500
)

// RouterWorkflow (`line:<id>`) routes one line's queue, one decision at a time, so that no two
// decisions race: it takes the conversation that has waited longest, picks an online operator
// with a free slot by the line's rule, and assigns it through the conversation's own update
// (which claims the slot and refuses if someone took the conversation meanwhile). It reads the
// queue and the operators' load from the read model on every step, so it keeps no copy that could
// drift; anything that may unblock it (a new or returned conversation, a freed slot, an operator
// coming online, changed settings) sends SignalRouterWake, with SignalWithStart.
func RouterWorkflow(ctx workflow.Context, in RouterInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	wake := workflow.GetSignalChannel(ctx, SignalRouterWake)
	r := router{line: in.LineID, cursor: in.Cursor}
	for {
		for wake.ReceiveAsync(nil) {
		}
		waiting, err := r.route(ctx)
		if err != nil {
			return err
		}
		if r.steps >= routerStepsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			for wake.ReceiveAsync(nil) {
			}
			return workflow.NewContinueAsNewError(ctx, RouterWorkflow, RouterInput{LineID: r.line, Cursor: r.cursor})
		}
		wait := routerIdle
		if waiting {
			wait = routerRecheck
		}
		woken, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return wake.Len() > 0 })
		if err != nil {
			return err
		}
		if !woken && !waiting {
			return nil // idle: the next wake-up starts the router again
		}
	}
}

type router struct {
	line   int64
	cursor int64
	steps  int
	skip   []int64
}

// route assigns waiting conversations until the queue is empty or nobody has room; it tells
// whether conversations still wait.
func (r *router) route(ctx workflow.Context) (bool, error) {
	for {
		var snap RouteSnapshot
		err := workflow.ExecuteActivity(ctx, ActivityRouteSnapshot, RouteSnapshotInput{LineID: r.line, Skip: r.skip}).Get(ctx, &snap)
		if err != nil {
			return false, err
		}
		if snap.Head == nil || snap.Mode == RoutingManual || snap.Mode == "" {
			return false, nil // on a manual line operators take conversations themselves
		}
		operator, rule := PickOperator(snap.Mode, snap.Candidates, snap.Head.Previous, r.cursor)
		if operator == 0 {
			return true, nil
		}
		var res RouteAssignResult
		err = workflow.ExecuteActivity(ctx, ActivityRouteAssign,
			RouteAssignInput{Number: snap.Head.Number, OperatorID: operator, Rule: rule}).Get(ctx, &res)
		if err != nil {
			return false, err
		}
		r.steps++
		switch res.Outcome {
		case RouteAssigned:
			if rule != RouteToPrevious {
				r.cursor = operator
			}
		case RouteGone:
			// The read model may still show it waiting for a moment: don't pick it again.
			r.skip = append(r.skip, snap.Head.Number)
			if len(r.skip) > 100 {
				r.skip = r.skip[len(r.skip)-100:]
			}
		}
		if r.steps >= routerStepsPerRun {
			return true, nil
		}
	}
}

// PickOperator chooses who gets the next conversation among the line's online operators: the
// client's previous operator when they have room, else by the line's rule — round robin goes on
// from the operator after cursor; least busy takes the fewest active conversations (ties in
// round-robin order). Nobody exceeds their capacity. It returns 0 when nobody has room.
func PickOperator(mode string, candidates []RouteCandidate, previous, cursor int64) (int64, string) {
	room := func(c RouteCandidate) bool { return c.Capacity == 0 || c.Active < c.Capacity }
	if previous != 0 {
		for _, c := range candidates {
			if c.ID == previous && room(c) {
				return c.ID, RouteToPrevious
			}
		}
	}
	// Round-robin order: ids after the cursor first, then from the start.
	var best *RouteCandidate
	better := func(c, than RouteCandidate) bool {
		if mode == RoutingLeastBusy && c.Active != than.Active {
			return c.Active < than.Active
		}
		after, thanAfter := c.ID > cursor, than.ID > cursor
		if after != thanAfter {
			return after
		}
		return c.ID < than.ID
	}
	for i := range candidates {
		c := candidates[i]
		if !room(c) {
			continue
		}
		if best == nil || better(c, *best) {
			best = &candidates[i]
		}
	}
	if best == nil {
		return 0, ""
	}
	return best.ID, mode
}
