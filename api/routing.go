package api

import (
	"context"

	"github.com/linedesk/linedesk/workflows"
)

// wakeRouters tells the routers of lines that route automatically and have conversations waiting
// (all such lines, or those named) to look at their queues, starting any that is not running:
// an operator came online, a line's rule changed. A failure is logged, not the caller's: the
// worker wakes the routers too whenever a slot frees or a conversation enters a queue.
func (s *Server) wakeRouters(ctx context.Context, lines ...int64) {
	if s.temporal == nil {
		return
	}
	ids, err := s.store.RoutedLinesWaiting(ctx, lines)
	if err != nil {
		s.logger.WarnContext(ctx, "wake routers", "error", err)
		return
	}
	for _, id := range ids {
		_, err := s.temporal.SignalWithStartWorkflow(ctx, workflows.RouterWorkflowID(id), workflows.SignalRouterWake, nil,
			workflows.RouterStartOptions(id), workflows.RouterWorkflow, workflows.RouterInput{LineID: id})
		if err != nil {
			s.logger.WarnContext(ctx, "wake router", "line_id", id, "error", err)
		}
	}
}

// returnAwayWork hands an operator's active conversations on lines whose away policy says
// "return" back to the queue when they go away or offline; the routers then pass them on.
func (s *Server) returnAwayWork(ctx context.Context, operator int64) {
	numbers, err := s.store.ActiveOnReturnLines(ctx, operator)
	if err != nil {
		s.logger.WarnContext(ctx, "away policy", "user_id", operator, "error", err)
		return
	}
	for _, n := range numbers {
		var res workflows.ActionResult
		err := s.conversationUpdate(ctx, n, workflows.UpdateReturn, "",
			workflows.ActionRequest{ActorID: operator, ActorRole: "operator"}, &res)
		if err != nil {
			s.logger.WarnContext(ctx, "away policy: return", "conversation", n, "error", err)
		}
	}
}
