package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// redeliveryStartTimeout bounds starting a redelivery once the message is pending again.
const redeliveryStartTimeout = 10 * time.Second

// retryMessage sends a failed outbound message of a conversation again. Whoever may reply in
// the conversation may ask (its assignee, a participant, the line's supervisors, admins). The
// failed → pending change is conditional, so of two requests at once only one sends; the
// delivery runs in its own workflow, beside the conversation's.
func (s *Server) retryMessage(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return notFoundErr("message " + c.Param("id"))
	}
	ctx := c.Request().Context()
	if role, _ := c.Get(lineRoleKey).(string); role != store.LineRoleAdmin && role != store.LineRoleSupervisor {
		u := currentUser(c)
		a, err := s.store.ConversationAccessOf(ctx, n, u.ID)
		if err != nil {
			return err
		}
		if !a.Involved {
			return newError(http.StatusConflict, workflows.CodeNotAssignee,
				"only who handles conversation #%d (or a supervisor of its line) resends its messages", n)
		}
	}
	round, err := s.store.RetryFailedMessage(ctx, n, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("message " + id.String() + " in this conversation")
	case errors.Is(err, store.ErrNotRetryable):
		return newError(http.StatusConflict, "not_failed", "message %s has not failed to deliver; only a failed message is sent again", id)
	case err != nil:
		return err
	}
	// The message is pending now: start its delivery even if the client hangs up.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redeliveryStartTimeout)
	defer cancel()
	_, err = s.temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
		ID:        workflows.RedeliverMessageWorkflowID(id.String(), round),
		TaskQueue: workflows.TaskQueue,
	}, workflows.RedeliverMessageWorkflowName, workflows.RedeliverMessageInput{MessageID: id.String()})
	if err != nil {
		s.logger.WarnContext(ctx, "redelivery not started", "message_id", id, "error", err)
		if rerr := s.store.SetMessageStatusIf(sctx, id, workflows.MessagePending, workflows.MessageFailed); rerr != nil {
			return rerr
		}
		return newError(http.StatusServiceUnavailable, "unavailable", "the message could not be queued for sending; try again")
	}
	m, err := s.store.MessageByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, m)
}
