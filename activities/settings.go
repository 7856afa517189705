package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// The conversion of stored settings to what workflows read lives here, once: it is the only
// package that may import both the store (rows) and the workflows contract (ARCHITECTURE §3:
// store imports only pgx, workflows never imports store). Both of its users are activities:
// LoadLine, when a conversation opens, and FanOutSettings, when an admin edits a line or a
// regulation; the API only validates and saves settings.

// loadLine reads a line with its regulation, as workflows read it.
func loadLine(ctx context.Context, st *store.Store, lineID int64) (workflows.LineConfig, error) {
	l, err := st.LineByID(ctx, lineID)
	if err != nil {
		return workflows.LineConfig{}, err
	}
	cfg := lineConfig(l)
	if l.RegulationID != nil {
		r, err := st.RegulationByID(ctx, *l.RegulationID)
		if err != nil {
			return workflows.LineConfig{}, err
		}
		if cfg.Regulation, err = regulationConfig(r); err != nil {
			return workflows.LineConfig{}, err
		}
	}
	return cfg, nil
}

// lineConfig converts a stored line to what workflows read (without its regulation).
func lineConfig(l store.Line) workflows.LineConfig {
	paused := l.PausedClientMessage
	if paused == "" {
		paused = workflows.PausedResume
	}
	return workflows.LineConfig{
		ID: l.ID, AutoOpen: l.AutoOpen, AutoCloseAfter: time.Duration(l.AutoCloseMinutes) * time.Minute,
		AutoCloseText: l.AutoCloseText, DefaultType: l.DefaultType, PausedClientMessage: paused,
		MergeRepliesAfterClose: l.MergeRepliesAfterClose, GreetingText: l.GreetingText, OutOfHoursText: l.OutOfHoursText,
	}
}

// regulationConfig converts a stored regulation to what workflows read. A calendar that does not
// parse or validate is an error no retry can fix.
func regulationConfig(r store.Regulation) (*workflows.Regulation, error) {
	var cal workflows.Calendar
	var err error
	if len(r.Calendar) > 0 {
		err = json.Unmarshal(r.Calendar, &cal)
	}
	if err == nil {
		err = cal.Validate()
	}
	if err != nil {
		err = fmt.Errorf("regulation %d calendar: %w", r.ID, err)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "bad_regulation", err)
	}
	return &workflows.Regulation{
		ID:              r.ID,
		FirstResponse:   time.Duration(r.FirstResponseMinutes) * time.Minute,
		NextResponse:    time.Duration(r.NextResponseMinutes) * time.Minute,
		Resolution:      time.Duration(r.ResolutionMinutes) * time.Minute,
		WarnBefore:      time.Duration(r.WarnBeforeMinutes) * time.Minute,
		PauseStopsClock: r.PauseStopsClock,
		Calendar:        cal,
	}, nil
}

// FanOut tells open conversations that their line or regulation changed. Unlike the other
// activities it signals workflows, so it holds a Temporal client.
type FanOut struct {
	store    *store.Store
	temporal client.Client
	logger   *slog.Logger
}

// NewFanOut returns the settings fan-out activity.
func NewFanOut(st *store.Store, tc client.Client, logger *slog.Logger) *FanOut {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FanOut{store: st, temporal: tc, logger: logger}
}

// fanOutHeartbeatEvery is how often a fan-out reports progress, also while it waits for the lock.
const fanOutHeartbeatEvery = 5 * time.Second

// FanOutSettings signals each open conversation of the edited line (or of the lines using the
// edited regulation) with the settings as they are now. It runs under the store's fan-out lock,
// so fan-outs of quick successive edits cannot overtake each other. A conversation whose workflow
// is gone is skipped; any other failure is returned for Temporal to retry, and the retry resumes
// after the last conversation told.
func (f *FanOut) FanOutSettings(ctx context.Context, in workflows.SettingsFanOutInput) (workflows.SettingsFanOutResult, error) {
	var mu sync.Mutex
	var p workflows.FanOutProgress
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
			p = workflows.FanOutProgress{}
		}
	}
	progress := func() workflows.FanOutProgress {
		mu.Lock()
		defer mu.Unlock()
		return p
	}
	stop := make(chan struct{})
	var beats sync.WaitGroup
	beats.Go(func() {
		t := time.NewTicker(fanOutHeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, progress())
			}
		}
	})
	err := f.store.WithSettingsFanOutLock(ctx, func(ctx context.Context) error {
		change, numbers, err := f.read(ctx, in, progress().LastNumber)
		if errors.Is(err, store.ErrNotFound) {
			return nil // the line or regulation is gone: nobody left to tell
		}
		if err != nil {
			return err
		}
		for _, n := range numbers {
			err := f.temporal.SignalWorkflow(ctx, workflows.ConversationWorkflowID(n), "", workflows.SignalRegulationChanged, change)
			var gone *serviceerror.NotFound
			if err != nil && !errors.As(err, &gone) {
				return fmt.Errorf("signal conversation %d: %w", n, err)
			}
			mu.Lock()
			if err != nil {
				p.Gone++
			} else {
				p.Signalled++
			}
			p.LastNumber = n
			mu.Unlock()
		}
		return nil
	})
	close(stop)
	beats.Wait()
	done := progress()
	if err != nil {
		// The latest progress goes with the failure, so the retry starts after it.
		activity.RecordHeartbeat(ctx, done)
		f.logger.WarnContext(ctx, "settings fan-out stopped", "line_id", in.LineID, "regulation_id", in.RegulationID,
			"last_number", done.LastNumber, "error", err)
		return workflows.SettingsFanOutResult{}, err
	}
	return done.SettingsFanOutResult, nil
}

// read returns the change to send and the open conversations to send it to, numbered above after.
func (f *FanOut) read(ctx context.Context, in workflows.SettingsFanOutInput, after int64) (workflows.RegulationChanged, []int64, error) {
	if in.RegulationID != 0 {
		r, err := f.store.RegulationByID(ctx, in.RegulationID)
		if err != nil {
			return workflows.RegulationChanged{}, nil, err
		}
		reg, err := regulationConfig(r)
		if err != nil {
			return workflows.RegulationChanged{}, nil, err
		}
		numbers, err := f.store.OpenConversationsUsingRegulation(ctx, in.RegulationID, after)
		return workflows.RegulationChanged{Regulation: reg}, numbers, err
	}
	cfg, err := loadLine(ctx, f.store, in.LineID)
	if err != nil {
		return workflows.RegulationChanged{}, nil, err
	}
	numbers, err := f.store.OpenConversationsOfLine(ctx, in.LineID, after)
	return workflows.RegulationChanged{Regulation: cfg.Regulation, Line: &cfg}, numbers, err
}
