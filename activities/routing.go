package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// Router holds the activities of the lines' routers and wakes them. Like FanOut it talks to
// Temporal, so it holds a client.
type Router struct {
	store    *store.Store
	temporal client.Client
	logger   *slog.Logger
}

// NewRouter returns the routing activities.
func NewRouter(st *store.Store, tc client.Client, logger *slog.Logger) *Router {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Router{store: st, temporal: tc, logger: logger}
}

// RouteSnapshot reads the line's rule, the head of its queue and its online operators.
func (r *Router) RouteSnapshot(ctx context.Context, in workflows.RouteSnapshotInput) (workflows.RouteSnapshot, error) {
	mode, head, cands, err := r.store.RouteSnapshot(ctx, in.LineID, in.Skip)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.RouteSnapshot{Mode: workflows.RoutingManual}, nil // the line is gone: nothing to route
	}
	if err != nil {
		return workflows.RouteSnapshot{}, err
	}
	out := workflows.RouteSnapshot{Mode: mode, Candidates: []workflows.RouteCandidate{}}
	if head != nil {
		out.Head = &workflows.QueuedHead{Number: head.Number, QueuedAt: head.QueuedAt, Previous: head.Previous}
	}
	for _, c := range cands {
		out.Candidates = append(out.Candidates, workflows.RouteCandidate{ID: c.ID, Active: c.Active, Capacity: c.Capacity})
	}
	return out, nil
}

// RouteAssign hands the conversation to the chosen operator through the conversation's own
// assign update, which claims the operator's slot and refuses a conversation no longer waiting.
// The update id is the activity's, so a retried activity is the same assignment.
func (r *Router) RouteAssign(ctx context.Context, in workflows.RouteAssignInput) (workflows.RouteAssignResult, error) {
	info := activity.GetInfo(ctx)
	h, err := r.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.ConversationWorkflowID(in.Number),
		UpdateID:     fmt.Sprintf("route:%s:%s", info.WorkflowExecution.RunID, info.ActivityID),
		UpdateName:   workflows.UpdateAssign,
		Args:         []any{workflows.AssignRequest{ActionRequest: workflows.ActionRequest{ActorRole: "router"}, AssigneeID: in.OperatorID, Rule: in.Rule}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var app *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return workflows.RouteAssignResult{Outcome: workflows.RouteAssigned}, nil
	case errors.As(err, &app) && app.Type() == workflows.CodeAtCapacity:
		return workflows.RouteAssignResult{Outcome: workflows.RouteFull}, nil
	case errors.As(err, &app) && workflows.IsRuleCode(app.Type()):
		return workflows.RouteAssignResult{Outcome: workflows.RouteGone}, nil
	case errors.As(err, &notFound):
		// A conversation's row is written just before its workflow starts: while the row still
		// waits in the queue, try again shortly; a workflow missing for good is passed over.
		if c, lerr := r.store.ConversationByNumber(ctx, in.Number); lerr == nil && c.Status == workflows.StatusQueued && info.Attempt < 5 {
			return workflows.RouteAssignResult{}, fmt.Errorf("conversation %d has not started yet: %w", in.Number, err)
		}
		return workflows.RouteAssignResult{Outcome: workflows.RouteGone}, nil
	}
	return workflows.RouteAssignResult{}, err
}

// Wake tells the routers of lines that route automatically and have conversations waiting to
// look at their queues (all such lines when none are named), starting a router that is not
// running. A failure is logged: a running router looks again within a minute anyway. (The API
// has its own copy: ARCHITECTURE §3 keeps it from importing activities.)
func (r *Router) Wake(ctx context.Context, lines ...int64) {
	ids, err := r.store.RoutedLinesWaiting(ctx, lines)
	r.wake(ctx, ids, err)
}

// WakeFor wakes the router of one conversation's line, if it routes automatically and has
// conversations waiting.
func (r *Router) WakeFor(ctx context.Context, number int64) {
	ids, err := r.store.RoutedLineWaitingFor(ctx, number)
	r.wake(ctx, ids, err)
}

func (r *Router) wake(ctx context.Context, ids []int64, err error) {
	if err != nil {
		r.logger.WarnContext(ctx, "wake routers", "error", err)
		return
	}
	for _, id := range ids {
		_, err := r.temporal.SignalWithStartWorkflow(ctx, workflows.RouterWorkflowID(id), workflows.SignalRouterWake, nil,
			workflows.RouterStartOptions(id), workflows.RouterWorkflow, workflows.RouterInput{LineID: id})
		if err != nil {
			r.logger.WarnContext(ctx, "wake router", "line_id", id, "error", err)
		}
	}
}

// ClaimSlot reserves one of an operator's slots for a conversation (see store.ClaimSlot).
func (a *Activities) ClaimSlot(ctx context.Context, in workflows.ClaimSlotInput) (workflows.ClaimSlotResult, error) {
	c, err := a.store.ClaimSlot(ctx, in.Number, in.OperatorID)
	if err != nil {
		return workflows.ClaimSlotResult{}, err
	}
	return workflows.ClaimSlotResult{Claimed: c.Claimed, Active: c.Active, Capacity: c.Capacity}, nil
}

// Timeline events after which a router may have work. A new conversation entering the queue
// ("opened" is projected once the conversation's workflow runs, so the router can reach it)
// concerns its own line only; a slot freeing or moving concerns every line its operator works
// on, so all waiting lines look again.
var (
	queueEvents = map[string]bool{"opened": true}
	// "returned" is both: the conversation is queued again and its operator's slot is free.
	slotEvents = map[string]bool{"returned": true, "paused": true, "closed": true, "auto_closed": true, "transferred": true,
		"assigned": true}
)

func (a *Activities) wakeAfter(ctx context.Context, number int64, events []workflows.Event) {
	if a.router == nil {
		return
	}
	queued := false
	for _, e := range events {
		if slotEvents[e.Kind] {
			a.router.Wake(ctx)
			return
		}
		queued = queued || queueEvents[e.Kind]
	}
	if queued {
		a.router.WakeFor(ctx, number)
	}
}
