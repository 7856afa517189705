package activities_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/linedesk/linedesk/activities"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
	"github.com/linedesk/linedesk/worker/workertest"
	"github.com/linedesk/linedesk/workflows"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// A retried fan-out resumes after the last conversation its heartbeat names, keeps counting, and
// skips conversations listed open whose workflow is gone.
func TestFanOutResumesAfterItsHeartbeatAndSkipsGoneWorkflows(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	line, err := st.CreateLine(ctx, store.Line{Name: "Support", LineSettings: store.LineSettings{AutoOpen: true}})
	require.NoError(t, err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "api", Name: "API", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	require.NoError(t, err)
	var numbers []int64
	for i := range 3 {
		ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint("k", i), Text: "x", At: time.Now(),
			Contact: store.InboundContact{ExternalID: fmt.Sprint("c", i)}})
		require.NoError(t, err)
		c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: fmt.Sprint("open", i), ChatID: ing.ChatID,
			LineID: line.ID, Kind: workflows.KindRequest, Status: workflows.StatusQueued, OpenedAt: time.Now()})
		require.NoError(t, err)
		numbers = append(numbers, c.Number)
	}
	// No conversation workflow runs in this Temporal: each signal finds its workflow gone.
	fanOut := activities.NewFanOut(st, workertest.Start(t, st, workertest.Options{}), nil)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(fanOut.FanOutSettings)
	env.SetHeartbeatDetails(workflows.FanOutProgress{LastNumber: numbers[0],
		SettingsFanOutResult: workflows.SettingsFanOutResult{Signalled: 1}})
	val, err := env.ExecuteActivity(fanOut.FanOutSettings, workflows.SettingsFanOutInput{LineID: line.ID, Revision: line.UpdatedAt})
	require.NoError(t, err)
	var res workflows.SettingsFanOutResult
	require.NoError(t, val.Get(&res))
	require.Equal(t, workflows.SettingsFanOutResult{Signalled: 1, Gone: 2}, res, "the first conversation was told before the retry")
}
