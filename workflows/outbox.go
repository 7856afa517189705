package workflows

import "go.temporal.io/sdk/workflow"

// outbox delivers recorded messages one at a time, in the order they were queued, so the client
// sees them as they were written. Both the chat and the conversation own one.
type outbox struct {
	ids  []string
	busy bool
}

func (o *outbox) push(ids ...string) { o.ids = append(o.ids, ids...) }

// idle is true when nothing waits or is being delivered.
func (o *outbox) idle() bool { return len(o.ids) == 0 && !o.busy }

// run delivers until the workflow ends; start it with workflow.Go.
func (o *outbox) run(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, deliveryOptions)
	for {
		if err := workflow.Await(ctx, func() bool { return len(o.ids) > 0 }); err != nil {
			return
		}
		id := o.ids[0]
		o.busy = true
		err := workflow.ExecuteActivity(actx, ActivityDeliverMessage, DeliverMessageInput{MessageID: id}).Get(ctx, nil)
		o.ids = o.ids[1:]
		o.busy = false
		if err != nil {
			workflow.GetLogger(ctx).Warn("message not delivered", "message_id", id, "error", err)
		}
	}
}
