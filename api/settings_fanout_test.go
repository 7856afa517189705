package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/workflows"
)

type savedLine struct {
	ID               int64     `json:"id"`
	AutoCloseMinutes int       `json:"auto_close_minutes"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// autoCloseChanges lists, in order, the auto-close times a conversation took from line edits.
func (a *app) autoCloseChanges(number int64) []string {
	a.t.Helper()
	var h struct {
		Items []struct {
			Kind string `json:"kind"`
			Data struct {
				AutoCloseAfter string `json:"auto_close_after"`
			} `json:"data"`
		} `json:"items"`
	}
	a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/history", number), nil, nil).json(a.t, &h)
	var out []string
	for _, e := range h.Items {
		if e.Kind == "line_changed" {
			out = append(out, e.Data.AutoCloseAfter)
		}
	}
	return out
}

func TestLineEditReachesOpenConversationsFromAWorker(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	var numbers []int64
	for i := range 3 {
		_, in := a.inbound(cs, fmt.Sprint("m", i), clientText(fmt.Sprint("u-", i), "hi"))
		require.NotNil(t, in.Conversation)
		numbers = append(numbers, *in.Conversation)
	}
	linePath := fmt.Sprintf("/api/v1/lines/%d", cs.lineID)
	lastChange := func(number int64) string {
		changes := a.autoCloseChanges(number)
		if len(changes) == 0 {
			return ""
		}
		return changes[len(changes)-1]
	}
	allTook := func(want string) func() bool {
		return func() bool {
			for _, n := range numbers {
				if lastChange(n) != want {
					return false
				}
			}
			return true
		}
	}

	// While another fan-out holds the lock, the PATCH still answers at once with the saved line:
	// it does not wait for the conversations.
	holding, release := make(chan struct{}), make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce)
	locked := make(chan error, 1)
	go func() {
		locked <- a.store.WithSettingsFanOutLock(t.Context(), func(context.Context) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	res := a.do(a.http, "PATCH", linePath, map[string]any{"auto_close_minutes": 90}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var saved savedLine
	res.json(t, &saved)
	require.Equal(t, 90, saved.AutoCloseMinutes)
	require.Never(t, func() bool {
		for _, n := range numbers {
			if len(a.autoCloseChanges(n)) > 0 {
				return true
			}
		}
		return false
	}, 300*time.Millisecond, 50*time.Millisecond, "the edit is told from the worker, after the answer")
	releaseOnce()
	require.NoError(t, <-locked)
	require.Eventually(t, allTook("1h30m0s"), 20*time.Second, 50*time.Millisecond)

	// The same PATCH again keeps the revision, so it names the same fan-out, which is not run again.
	fanOutID := workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{LineID: cs.lineID, Revision: saved.UpdatedAt})
	first, err := a.temporal.DescribeWorkflowExecution(t.Context(), fanOutID, "")
	require.NoError(t, err)
	res = a.do(a.http, "PATCH", linePath, map[string]any{"auto_close_minutes": 90}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var again savedLine
	res.json(t, &again)
	require.True(t, saved.UpdatedAt.Equal(again.UpdatedAt), "an edit that changes nothing keeps the revision")
	second, err := a.temporal.DescribeWorkflowExecution(t.Context(), fanOutID, "")
	require.NoError(t, err)
	require.Equal(t, first.WorkflowExecutionInfo.Execution.RunId, second.WorkflowExecutionInfo.Execution.RunId)
	require.Never(t, func() bool { return len(a.autoCloseChanges(numbers[0])) > 1 }, 300*time.Millisecond, 50*time.Millisecond)

	// Two quick edits: every conversation ends with the newer one.
	require.Equal(t, http.StatusOK, a.do(a.http, "PATCH", linePath, map[string]any{"auto_close_minutes": 120}, nil).status)
	require.Equal(t, http.StatusOK, a.do(a.http, "PATCH", linePath, map[string]any{"auto_close_minutes": 150}, nil).status)
	require.Eventually(t, allTook("2h30m0s"), 20*time.Second, 50*time.Millisecond)

	// A conversation whose workflow is gone is skipped; the others still take the edit.
	require.NoError(t, a.temporal.TerminateWorkflow(t.Context(), workflows.ConversationWorkflowID(numbers[0]), "", "test: workflow gone"))
	res = a.do(a.http, "PATCH", linePath, map[string]any{"auto_close_minutes": 30}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res.json(t, &saved)
	var result workflows.SettingsFanOutResult
	run := a.temporal.GetWorkflow(t.Context(),
		workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{LineID: cs.lineID, Revision: saved.UpdatedAt}), "")
	require.NoError(t, run.Get(t.Context(), &result))
	require.Equal(t, workflows.SettingsFanOutResult{Signalled: 2, Gone: 1}, result)
	// The fan-out ends once the signals are sent; each conversation records the change when it
	// handles its signal.
	numbers = numbers[1:]
	require.Eventually(t, allTook("30m0s"), 20*time.Second, 50*time.Millisecond)
}
