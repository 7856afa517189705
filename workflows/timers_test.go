package workflows_test

// Issue 6, "no leaked timers": every recorded history (testdata/record runs the scenarios on a real
// in-process Temporal server) is read event by event, counting the timers started and not yet
// fired or cancelled. A conversation follows its deadlines (SLA, auto-close) with one timer and
// waits for the CSAT answer with another, never both at once; a chat has one idle timer.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// timerCounts walks a history: the most timers pending at once, those pending at the end, and how
// many were started.
func timerCounts(t *testing.T, h *historypb.History) (most, atEnd, started int) {
	t.Helper()
	pending := map[string]bool{}
	for _, e := range h.Events {
		switch e.EventType {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			id := e.GetTimerStartedEventAttributes().GetTimerId()
			require.False(t, pending[id], "timer %s started twice", id)
			pending[id] = true
			started++
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			id := e.GetTimerFiredEventAttributes().GetTimerId()
			require.True(t, pending[id], "timer %s fired but was not pending", id)
			delete(pending, id)
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			id := e.GetTimerCanceledEventAttributes().GetTimerId()
			require.True(t, pending[id], "timer %s cancelled but was not pending", id)
			delete(pending, id)
		}
		most = max(most, len(pending))
	}
	return most, len(pending), started
}

func loadHistory(t *testing.T, file string) *historypb.History {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var h historypb.History
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &h))
	require.NotEmpty(t, h.Events)
	return &h
}

func TestRecordedHistoriesLeakNoTimers(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/: run go run ./workflows/testdata/record")
	}
	var conversations, chats int
	var lifecycleTimers int
	for _, file := range files {
		base := filepath.Base(file)
		t.Run(base, func(t *testing.T) {
			h := loadHistory(t, file)
			most, atEnd, started := timerCounts(t, h)
			last := h.Events[len(h.Events)-1].EventType
			switch {
			case strings.Contains(base, "-conversation_"):
				conversations++
				require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, last, "the conversation ended")
				require.LessOrEqual(t, most, 1, "one deadline timer, and the CSAT window only after it stopped")
				require.Zero(t, atEnd, "no timer outlives a closed conversation")
				if strings.HasPrefix(base, "lifecycle-") && strings.HasSuffix(base, "_1.json") {
					lifecycleTimers = started
				}
			case strings.Contains(base, "-chat_"):
				chats++
				// The scenarios terminate the idle chat: its idle timer may still be pending then.
				require.LessOrEqual(t, most, 1, "one idle timer")
				require.LessOrEqual(t, atEnd, 1)
			default:
				t.Fatalf("%s: neither a chat nor a conversation", base)
			}
		})
	}
	require.NotZero(t, conversations)
	require.NotZero(t, chats)
	// The lifecycle conversation had client messages, replies, a pause, a regulation change and a
	// close with SLA and auto-close configured: its timers moved, they did not pile up.
	require.Greater(t, lifecycleTimers, 1, "the lifecycle scenario re-armed its timer")
}
