// Package worker registers linedesk's workflows and activities and runs the Temporal worker.
package worker

import (
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/linedesk/linedesk/activities"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// Deps are what the activities need.
type Deps struct {
	Store  *store.Store
	Logger *slog.Logger
	// HTTPClient sends outbound messages to channels' callback URLs (nil: netguard's client,
	// public addresses only).
	HTTPClient *http.Client
	// Mail sends solution emails (nil: solutions are not emailed).
	Mail activities.Mailer
}

// TaskQueue is the queue this worker polls.
func TaskQueue() string { return workflows.TaskQueue }

// New returns a worker with every workflow and activity registered.
func New(c client.Client, d Deps) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, Options())
	acts := activities.New(d.Store, d.Logger, d.HTTPClient, d.Mail)
	router := activities.NewRouter(d.Store, c, d.Logger)
	acts.WakeRouters(router)
	Register(w, acts, activities.NewFanOut(d.Store, c, d.Logger), router)
	return w
}

// Options are the worker's options: activities' log lines name their workflow and conversation.
func Options() sdkworker.Options {
	return sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{&logContext{}}}
}

// Register puts linedesk's workflows and activities on a registry (a worker, or a test
// environment).
func Register(r sdkworker.Registry, a *activities.Activities, f *activities.FanOut, rt *activities.Router) {
	r.RegisterWorkflowWithOptions(workflows.ChatWorkflow, workflow.RegisterOptions{Name: "ChatWorkflow"})
	r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{Name: "ConversationWorkflow"})
	for name, fn := range a.ByName() {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	r.RegisterWorkflowWithOptions(workflows.SettingsFanOutWorkflow, workflow.RegisterOptions{Name: workflows.SettingsFanOutWorkflowName})
	r.RegisterActivityWithOptions(f.FanOutSettings, activity.RegisterOptions{Name: workflows.ActivityFanOutSettings})
	r.RegisterWorkflowWithOptions(workflows.RouterWorkflow, workflow.RegisterOptions{Name: "RouterWorkflow"})
	r.RegisterActivityWithOptions(rt.RouteSnapshot, activity.RegisterOptions{Name: workflows.ActivityRouteSnapshot})
	r.RegisterActivityWithOptions(rt.RouteAssign, activity.RegisterOptions{Name: workflows.ActivityRouteAssign})
	r.RegisterWorkflowWithOptions(workflows.RedeliverMessageWorkflow, workflow.RegisterOptions{Name: workflows.RedeliverMessageWorkflowName})
	r.RegisterActivityWithOptions(a.MarkDeliveryFailed, activity.RegisterOptions{Name: workflows.ActivityMarkDeliveryFailed})
}
