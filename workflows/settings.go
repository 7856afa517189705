package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// A line or regulation edit reaches the open conversations from a worker, not inside the HTTP
// request: the API commits the edit and starts SettingsFanOutWorkflow, whose one activity signals
// every open conversation with SignalRegulationChanged, with retries. Its names and types live
// here, beside it.
const (
	// SettingsFanOutWorkflowName is the name the worker registers SettingsFanOutWorkflow under.
	SettingsFanOutWorkflowName = "SettingsFanOutWorkflow"
	// ActivityFanOutSettings signals the open conversations of a line, or of the lines using a
	// regulation, with the settings as they are when it runs.
	ActivityFanOutSettings = "FanOutSettings"
)

// SettingsFanOutInput names one edit: of a line (LineID) or of a regulation (RegulationID), at
// its revision (the row's updated_at after the edit).
type SettingsFanOutInput struct {
	LineID       int64     `json:"line_id,omitempty"`
	RegulationID int64     `json:"regulation_id,omitempty"`
	Revision     time.Time `json:"revision"`
}

// SettingsFanOutWorkflowID names the fan-out of one revision of a line or regulation
// ("settings:line:3:<updated_at in µs>"). A retried PATCH that changes nothing keeps the revision,
// so it names the same workflow and the edit is not fanned out twice.
func SettingsFanOutWorkflowID(in SettingsFanOutInput) string {
	kind, id := "line", in.LineID
	if in.RegulationID != 0 {
		kind, id = "regulation", in.RegulationID
	}
	return "settings:" + kind + ":" + strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(in.Revision.UnixMicro(), 10)
}

// SettingsFanOutResult counts the conversations told, and those listed open in the read model
// whose workflow no longer runs (skipped).
type SettingsFanOutResult struct {
	Signalled int `json:"signalled"`
	Gone      int `json:"gone"`
}

// FanOutProgress is the heartbeat of ActivityFanOutSettings: a retry resumes after LastNumber
// (conversations are told in number order) and keeps counting.
type FanOutProgress struct {
	LastNumber int64 `json:"last_number"`
	SettingsFanOutResult
}

// SettingsFanOutWorkflow tells the open conversations about an edited line or regulation. The
// activity re-reads the settings when it runs, so the newest edit is what arrives; it heartbeats
// its progress, and a retry resumes where the failed attempt stopped.
func SettingsFanOutWorkflow(ctx workflow.Context, in SettingsFanOutInput) (SettingsFanOutResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Telling a few thousand conversations takes seconds; waiting behind another fan-out for
		// the lock may take as long again. A stuck attempt is noticed by its missing heartbeat.
		StartToCloseTimeout:    30 * time.Minute,
		HeartbeatTimeout:       30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
	var res SettingsFanOutResult
	err := workflow.ExecuteActivity(ctx, ActivityFanOutSettings, in).Get(ctx, &res)
	return res, err
}

// WithDefaults fills every text an admin left empty with its default, field by field, so a
// saved document from an older version (or one missing a text) still sends something sensible.
func (m StandardMessages) WithDefaults() StandardMessages {
	def := DefaultStandardMessages()
	pick := func(v, d string) string {
		if v != "" {
			return v
		}
		return d
	}
	return StandardMessages{
		CSATQuestion:  pick(m.CSATQuestion, def.CSATQuestion),
		CSATBad:       pick(m.CSATBad, def.CSATBad),
		CSATNormal:    pick(m.CSATNormal, def.CSATNormal),
		CSATExcellent: pick(m.CSATExcellent, def.CSATExcellent),
		CSATThanks:    pick(m.CSATThanks, def.CSATThanks),
		AutoClose:     pick(m.AutoClose, def.AutoClose),
	}
}
