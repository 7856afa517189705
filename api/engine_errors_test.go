package api

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/workflows"
)

// updateEngine answers every UpdateWorkflow with the next error of errs (the last one repeats)
// and records the update ids it was sent.
type updateEngine struct {
	client.Client
	errs []error
	ids  []string
}

func (e *updateEngine) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	e.ids = append(e.ids, o.UpdateID)
	return nil, e.errs[min(len(e.ids), len(e.errs))-1]
}

// TestTakeUnderLoadIsNeverA500: what the Temporal service answers a take when it is slow or busy
// is a 503 the operator may retry, and an update whose workflow task failed is sent again and
// judged by the workflow — never the generic 500.
func TestTakeUnderLoadIsNeverA500(t *testing.T) {
	alreadyTaken := temporal.NewNonRetryableApplicationError("conversation #7 is already taken by operator 2",
		workflows.CodeAlreadyTaken, nil)
	notReady := serviceerror.NewWorkflowNotReady("Unable to perform workflow execution update due to unexpected workflow task failure.")
	tests := []struct {
		name   string
		errs   []error
		status int
		code   string
		tries  int
	}{
		// The service's own deadline may come a moment before the request's.
		{"service deadline while waiting", []error{client.NewWorkflowUpdateServiceTimeoutOrCanceledError(
			serviceerror.NewDeadlineExceeded("context deadline exceeded"))}, http.StatusServiceUnavailable, "unavailable", 1},
		{"service deadline", []error{serviceerror.NewDeadlineExceeded("context deadline exceeded")},
			http.StatusServiceUnavailable, "unavailable", 1},
		{"workflow busy", []error{serviceerror.NewResourceExhausted(0, "workflow is busy")},
			http.StatusServiceUnavailable, "unavailable", 1},
		{"service unavailable", []error{serviceerror.NewUnavailable("workflow update was aborted")},
			http.StatusServiceUnavailable, "unavailable", 1},
		{"workflow task failed, then the race is lost", []error{notReady, alreadyTaken},
			http.StatusConflict, workflows.CodeAlreadyTaken, 2},
		{"workflow task keeps failing", []error{notReady}, http.StatusServiceUnavailable, "unavailable", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := &updateEngine{errs: tt.errs}
			s := &Server{temporal: engine}
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			var res workflows.ActionResult
			err := s.conversationUpdate(ctx, 7, workflows.UpdateTake, "", workflows.TakeRequest{}, &res)
			var apiErr *Error
			require.True(t, errors.As(err, &apiErr), "%v is a 500", err)
			require.Equal(t, tt.status, apiErr.Status, apiErr.Error())
			require.Equal(t, tt.code, apiErr.Code)
			if tt.tries > 0 {
				require.Len(t, engine.ids, tt.tries)
			}
			for _, id := range engine.ids {
				require.Equal(t, engine.ids[0], id, "a retry is the same update")
			}
		})
	}
}
