package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// conversationUpdate runs an operator action on a conversation's workflow and waits for its
// result. updateID makes a retried request the same action.
func (s *Server) conversationUpdate(ctx context.Context, number int64, name, updateID string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	if updateID == "" {
		updateID = uuid.Must(uuid.NewV7()).String() // the same update on every try below
	}
	var err error
	for try := 0; ; try++ {
		var h client.WorkflowUpdateHandle
		h, err = s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   workflows.ConversationWorkflowID(number),
			UpdateID:     updateID,
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, out)
		}
		var notReady *serviceerror.WorkflowNotReady
		if errors.As(err, &notReady) {
			// The service failed the workflow task that held the update, or refuses updates
			// while the workflow's task keeps failing: the update was not applied. Send it again
			// (the same update id) and the workflow judges it once the task goes through.
			if pause(ctx, 200*time.Millisecond) {
				continue
			}
			break
		}
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			break
		}
		// A closed conversation's workflow may have finished; the read model says which. An open
		// one's row is written just before its workflow starts: a take in that moment waits for it.
		c, lerr := s.store.ConversationByNumber(ctx, number)
		switch {
		case errors.Is(lerr, store.ErrNotFound):
			return notFoundErr(fmt.Sprintf("conversation #%d", number))
		case lerr == nil && c.Status == workflows.StatusClosed:
			return newError(http.StatusConflict, workflows.CodeConversationClosed, "conversation #%d is closed", number)
		case lerr == nil && try < 20 && time.Since(c.CreatedAt) < time.Minute:
			if pause(ctx, 100*time.Millisecond) {
				continue
			}
		}
		break
	}
	return s.engineError(ctx, err, fmt.Sprintf("conversation #%d", number))
}

// pause waits d, or less if ctx ends first; it tells whether ctx is still alive.
func pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// chatUpdate runs an operator's update on a chat's workflow (automated message, open dialog,
// write in the chat), starting the workflow if it is not running.
func (s *Server) chatUpdate(ctx context.Context, route store.ChatRoute, name, updateID string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.ChatWorkflowID(route.ChatID.String()),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ChatWorkflow, workflows.ChatInput{
		ChatID: route.ChatID.String(), ChannelID: route.ChannelID, LineID: route.LineID, ContactID: route.ContactID,
	})
	h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     updateID,
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	return s.engineError(ctx, err, "chat")
}

// updateTimeout bounds how long a request waits for a workflow to answer before it reports
// 503; the action may still complete, and a retry with the same Idempotency-Key finds it.
const updateTimeout = 30 * time.Second

// engineError turns a workflow's refusal into the 409 the operator sees, naming the rule, a
// missing workflow into 404, and an answer that did not come in time, or a workflow or service
// too busy to take the request now, into 503: the action may still complete, and a retry with the
// same Idempotency-Key finds it. Anything else is a 500.
func (s *Server) engineError(ctx context.Context, err error, what string) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && workflows.IsRuleCode(app.Type()) {
		if app.Type() == workflows.CodeInvalid {
			return badRequest("%s", app.Message())
		}
		msg := app.Message()
		var holder int64
		if app.HasDetails() && app.Details(&holder) == nil && holder != 0 && app.Type() != workflows.CodeActiveDialogExists {
			if u, err := s.store.UserByID(ctx, holder); err == nil {
				msg = fmt.Sprintf("%s (%s)", msg, displayName(u))
			}
		}
		e := newError(http.StatusConflict, app.Type(), "%s", msg)
		return e
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return notFoundErr(what)
	}
	if ctx.Err() != nil || timedOut(err) {
		e := newError(http.StatusServiceUnavailable, "unavailable", "the request timed out; retry it with the same Idempotency-Key")
		e.cause = err
		return e
	}
	if busy(err) {
		e := newError(http.StatusServiceUnavailable, "unavailable", "%s is busy; retry it with the same Idempotency-Key", what)
		e.cause = err
		return e
	}
	return fmt.Errorf("%s: %w", what, err)
}

// timedOut tells whether err is a deadline or a cancellation met while waiting for the workflow,
// ours or the Temporal service's: the service may give up a moment before our own deadline, and
// its DeadlineExceeded is not context.DeadlineExceeded.
func timedOut(err error) bool {
	var waiting *client.WorkflowUpdateServiceTimeoutOrCanceledError
	var deadline *serviceerror.DeadlineExceeded
	var canceled *serviceerror.Canceled
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &waiting) || errors.As(err, &deadline) || errors.As(err, &canceled)
}

// busy tells whether the Temporal service declined the request for now: the workflow's task is
// failing or it is closing (WorkflowNotReady), too many requests wait for it (ResourceExhausted),
// or the service is overloaded (Unavailable).
func busy(err error) bool {
	var notReady *serviceerror.WorkflowNotReady
	var exhausted *serviceerror.ResourceExhausted
	var unavailable *serviceerror.Unavailable
	return errors.As(err, &notReady) || errors.As(err, &exhausted) || errors.As(err, &unavailable)
}

func notFoundErr(what string) *Error {
	return newError(http.StatusNotFound, "not_found", "%s not found", what)
}

func displayName(u store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// requestID makes the update id of an operator action: the client's Idempotency-Key scoped to
// the action (one key reused for another action is another request), or a fresh id.
func requestID(h http.Header, action string) string {
	if k := h.Get("Idempotency-Key"); k != "" {
		return action + ":" + k
	}
	return uuid.Must(uuid.NewV7()).String()
}
