package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RedeliverMessageWorkflowName is the registered name of RedeliverMessageWorkflow.
const RedeliverMessageWorkflowName = "RedeliverMessageWorkflow"

// ActivityMarkDeliveryFailed marks a message whose redelivery gave up as failed again.
const ActivityMarkDeliveryFailed = "MarkDeliveryFailed"

// RedeliverMessageWorkflowID names one redelivery of a failed message: round is how many
// attempts the message had when the operator asked, so each request is its own run.
func RedeliverMessageWorkflowID(messageID string, round int) string {
	return "redeliver:" + messageID + ":" + strconv.Itoa(round)
}

// RedeliverMessageInput names the message an operator asked to send again; the API has already
// moved it from failed back to pending.
type RedeliverMessageInput struct {
	MessageID string `json:"message_id"`
}

// MarkDeliveryFailedInput names a message whose delivery gave up.
type MarkDeliveryFailedInput struct {
	MessageID string `json:"message_id"`
}

// redeliveryOptions try a resent message for a few minutes: the operator is waiting for the
// answer, and can ask again.
var redeliveryOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5,
	},
}

// RedeliverMessageWorkflow sends one failed message again, outside its conversation's
// workflow, so the conversations already running replay unchanged. When every attempt fails
// the message is failed again, with the attempts recorded, for the operator to see.
func RedeliverMessageWorkflow(ctx workflow.Context, in RedeliverMessageInput) error {
	actx := workflow.WithActivityOptions(ctx, redeliveryOptions)
	err := workflow.ExecuteActivity(actx, ActivityDeliverMessage, DeliverMessageInput(in)).Get(ctx, nil)
	if err == nil {
		return nil
	}
	workflow.GetLogger(ctx).Warn("message not redelivered", "message_id", in.MessageID, "error", err)
	mctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(mctx, ActivityMarkDeliveryFailed, MarkDeliveryFailedInput(in)).Get(ctx, nil)
}
