package workflows_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/linedesk/linedesk/workflows"
)

func TestPickOperator(t *testing.T) {
	c := func(id int64, active, capacity int) workflows.RouteCandidate {
		return workflows.RouteCandidate{ID: id, Active: active, Capacity: capacity}
	}
	three := []workflows.RouteCandidate{c(1, 0, 2), c(2, 1, 2), c(3, 0, 2)}
	tests := []struct {
		name     string
		mode     string
		cands    []workflows.RouteCandidate
		previous int64
		cursor   int64
		want     int64
		wantRule string
	}{
		{"round robin starts at the first", workflows.RoutingRoundRobin, three, 0, 0, 1, workflows.RoutingRoundRobin},
		{"round robin goes on after the cursor", workflows.RoutingRoundRobin, three, 0, 1, 2, workflows.RoutingRoundRobin},
		{"round robin wraps around", workflows.RoutingRoundRobin, three, 0, 3, 1, workflows.RoutingRoundRobin},
		{"round robin skips the full", workflows.RoutingRoundRobin, []workflows.RouteCandidate{c(1, 2, 2), c(2, 2, 2), c(3, 1, 2)}, 0, 0, 3, workflows.RoutingRoundRobin},
		{"least busy takes the fewest", workflows.RoutingLeastBusy, []workflows.RouteCandidate{c(1, 2, 5), c(2, 1, 5), c(3, 3, 5)}, 0, 0, 2, workflows.RoutingLeastBusy},
		{"least busy breaks ties in turn", workflows.RoutingLeastBusy, three, 0, 1, 3, workflows.RoutingLeastBusy},
		{"no limit is room", workflows.RoutingLeastBusy, []workflows.RouteCandidate{c(1, 40, 0)}, 0, 0, 1, workflows.RoutingLeastBusy},
		{"the previous operator first", workflows.RoutingRoundRobin, three, 2, 0, 2, workflows.RouteToPrevious},
		{"a full previous operator is passed over", workflows.RoutingRoundRobin, []workflows.RouteCandidate{c(1, 0, 2), c(2, 2, 2)}, 2, 0, 1, workflows.RoutingRoundRobin},
		{"an offline previous operator is passed over", workflows.RoutingLeastBusy, three, 9, 0, 1, workflows.RoutingLeastBusy},
		{"nobody with room", workflows.RoutingRoundRobin, []workflows.RouteCandidate{c(1, 2, 2)}, 0, 0, 0, ""},
		{"nobody online", workflows.RoutingLeastBusy, nil, 0, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rule := workflows.PickOperator(tt.mode, tt.cands, tt.previous, tt.cursor)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantRule, rule)
		})
	}
}

// fakeLine plays a line's read model for the router: a FIFO queue and operators with capacity.
type fakeLine struct {
	mu       sync.Mutex
	mode     string
	queue    []int64
	capacity map[int64]int
	active   map[int64]int
	// gone conversations answer "gone" to an assignment (someone took them meanwhile).
	gone     map[int64]bool
	assigned []workflows.RouteAssignInput
}

func (f *fakeLine) snapshot(_ context.Context, in workflows.RouteSnapshotInput) (workflows.RouteSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := workflows.RouteSnapshot{Mode: f.mode}
	for _, n := range f.queue {
		skipped := false
		for _, s := range in.Skip {
			skipped = skipped || s == n
		}
		if !skipped {
			out.Head = &workflows.QueuedHead{Number: n}
			break
		}
	}
	for id := int64(1); id <= int64(len(f.capacity)); id++ {
		out.Candidates = append(out.Candidates, workflows.RouteCandidate{ID: id, Active: f.active[id], Capacity: f.capacity[id]})
	}
	return out, nil
}

func (f *fakeLine) assign(_ context.Context, in workflows.RouteAssignInput) (workflows.RouteAssignResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone[in.Number] {
		return workflows.RouteAssignResult{Outcome: workflows.RouteGone}, nil
	}
	if f.active[in.OperatorID] >= f.capacity[in.OperatorID] {
		return workflows.RouteAssignResult{Outcome: workflows.RouteFull}, nil
	}
	f.active[in.OperatorID]++
	f.queue = slices.DeleteFunc(f.queue, func(n int64) bool { return n == in.Number })
	f.assigned = append(f.assigned, in)
	return workflows.RouteAssignResult{Outcome: workflows.RouteAssigned}, nil
}

// TestRouterServesTheQueueInOrder: the router hands out the oldest conversation first, in turn,
// never beyond capacity; it waits when everyone is full and goes on when woken after a slot frees.
func TestRouterServesTheQueueInOrder(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	line := &fakeLine{mode: workflows.RoutingRoundRobin, queue: []int64{101, 102, 103, 104, 105, 106},
		capacity: map[int64]int{1: 2, 2: 2}, active: map[int64]int{}, gone: map[int64]bool{102: true}}
	env.RegisterWorkflow(workflows.RouterWorkflow)
	env.RegisterActivityWithOptions(line.snapshot, activity.RegisterOptions{Name: workflows.ActivityRouteSnapshot})
	env.RegisterActivityWithOptions(line.assign, activity.RegisterOptions{Name: workflows.ActivityRouteAssign})
	var waitingAfterFirstPass []int64
	env.RegisterDelayedCallback(func() {
		line.mu.Lock()
		waitingAfterFirstPass = append([]int64{}, line.queue...)
		line.active[2]-- // operator 2 closes one
		line.mu.Unlock()
		env.SignalWorkflow(workflows.SignalRouterWake, nil)
	}, 10*time.Second)
	env.ExecuteWorkflow(workflows.RouterWorkflow, workflows.RouterInput{LineID: 7})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError()) // an empty queue lets the router end after its idle time

	var got []int64
	var to []int64
	for _, a := range line.assigned {
		got = append(got, a.Number)
		to = append(to, a.OperatorID)
	}
	// 102 was taken by someone meanwhile: skipped, its place stays in order. 101, 103, 104, 105
	// fill both operators; 106 waits until operator 2 frees a slot.
	require.Equal(t, []int64{101, 103, 104, 105, 106}, got)
	require.Equal(t, []int64{1, 2, 1, 2, 2}, to)
	require.Equal(t, []int64{102, 106}, waitingAfterFirstPass)
}

// TestRouterLeavesManualLinesAlone: on a manual line the router assigns nothing.
func TestRouterLeavesManualLinesAlone(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	line := &fakeLine{mode: workflows.RoutingManual, queue: []int64{101}, capacity: map[int64]int{1: 2}, active: map[int64]int{}}
	env.RegisterWorkflow(workflows.RouterWorkflow)
	env.RegisterActivityWithOptions(line.snapshot, activity.RegisterOptions{Name: workflows.ActivityRouteSnapshot})
	env.RegisterActivityWithOptions(line.assign, activity.RegisterOptions{Name: workflows.ActivityRouteAssign})
	env.ExecuteWorkflow(workflows.RouterWorkflow, workflows.RouterInput{LineID: 7})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, line.assigned)
}
