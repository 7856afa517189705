package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/linedesk/linedesk/workflows"
)

func TestStandardMessagesWithDefaults(t *testing.T) {
	t.Parallel()
	def := workflows.DefaultStandardMessages()
	require.Equal(t, def, workflows.StandardMessages{}.WithDefaults())

	edited := workflows.StandardMessages{CSATQuestion: "Оцените ответ", AutoClose: "Bye"}.WithDefaults()
	want := def
	want.CSATQuestion, want.AutoClose = "Оцените ответ", "Bye"
	require.Equal(t, want, edited)
}

func TestSettingsFanOutWorkflowIDNamesTheRevision(t *testing.T) {
	t.Parallel()
	rev := time.Date(2026, 12, 1, 9, 30, 0, 123456789, time.UTC)
	require.Equal(t, "settings:line:3:1796117400123456",
		workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{LineID: 3, Revision: rev}))
	require.Equal(t, "settings:regulation:7:1796117400123456",
		workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{RegulationID: 7, Revision: rev}))
	require.NotEqual(t,
		workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{LineID: 3, Revision: rev}),
		workflows.SettingsFanOutWorkflowID(workflows.SettingsFanOutInput{LineID: 3, Revision: rev.Add(time.Microsecond)}))
}

func TestSettingsFanOutRetriesItsActivity(t *testing.T) {
	t.Parallel()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	in := workflows.SettingsFanOutInput{LineID: 3, Revision: time.Now()}
	attempts := 0
	env.RegisterActivityWithOptions(func(_ context.Context, got workflows.SettingsFanOutInput) (workflows.SettingsFanOutResult, error) {
		require.Equal(t, in.LineID, got.LineID)
		if attempts++; attempts < 3 {
			return workflows.SettingsFanOutResult{}, errors.New("temporal frontend unavailable")
		}
		return workflows.SettingsFanOutResult{Signalled: 4, Gone: 1}, nil
	}, activity.RegisterOptions{Name: workflows.ActivityFanOutSettings})
	env.ExecuteWorkflow(workflows.SettingsFanOutWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.SettingsFanOutResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.SettingsFanOutResult{Signalled: 4, Gone: 1}, res)
	require.Equal(t, 3, attempts)
}
