package worker

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/workflows"
)

// logContext puts the workflow an activity runs for, and the conversation it concerns, into the
// activity's context, so every line the activity logs with that context names them.
type logContext struct {
	interceptor.WorkerInterceptorBase
}

func (*logContext) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityLogContext{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type activityLogContext struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityLogContext) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	attrs := []slog.Attr{slog.String("workflow_id", info.WorkflowExecution.ID), slog.String("activity", info.ActivityType.Name)}
	if n, ok := workflows.ConversationOfWorkflow(info.WorkflowExecution.ID); ok {
		attrs = append(attrs, slog.String("conversation", n))
	}
	return a.Next.ExecuteActivity(telemetry.WithLogAttrs(ctx, attrs...), in)
}
