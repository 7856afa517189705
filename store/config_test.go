package store_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

func TestSettingsRevisionMovesOnlyOnChange(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	line, _ := fixture(t, st)

	same, err := st.UpdateLine(ctx, line)
	require.NoError(t, err)
	require.Equal(t, line.UpdatedAt, same.UpdatedAt, "an edit that changes nothing keeps the revision")
	line.AutoCloseMinutes = 90
	changed, err := st.UpdateLine(ctx, line)
	require.NoError(t, err)
	require.True(t, changed.UpdatedAt.After(same.UpdatedAt))
	require.Equal(t, 90, changed.AutoCloseMinutes)

	reg, err := st.CreateRegulation(ctx, store.Regulation{Name: "24/7", FirstResponseMinutes: 30, Calendar: json.RawMessage(`{}`)})
	require.NoError(t, err)
	sameReg, err := st.UpdateRegulation(ctx, reg)
	require.NoError(t, err)
	require.Equal(t, reg.UpdatedAt, sameReg.UpdatedAt)
	reg.FirstResponseMinutes = 60
	changedReg, err := st.UpdateRegulation(ctx, reg)
	require.NoError(t, err)
	require.True(t, changedReg.UpdatedAt.After(sameReg.UpdatedAt))
}

func TestOpenConversationsResumeAfterANumber(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	line, ch := fixture(t, st)
	reg, err := st.CreateRegulation(ctx, store.Regulation{Name: "24/7", Calendar: json.RawMessage(`{}`)})
	require.NoError(t, err)
	line.RegulationID = &reg.ID
	_, err = st.UpdateLine(ctx, line)
	require.NoError(t, err)
	numbers := openConversations(t, st, line, ch, []*time.Time{nil, nil, nil})
	require.NoError(t, st.ProjectConversation(ctx, store.ConversationProjection{Number: numbers[1], Status: "closed",
		LastActivity: time.Now(), Revision: 2}))

	got, err := st.OpenConversationsOfLine(ctx, line.ID, 0)
	require.NoError(t, err)
	require.Equal(t, []int64{numbers[0], numbers[2]}, got, "closed conversations are left out")
	got, err = st.OpenConversationsOfLine(ctx, line.ID, numbers[0])
	require.NoError(t, err)
	require.Equal(t, []int64{numbers[2]}, got)
	got, err = st.OpenConversationsUsingRegulation(ctx, reg.ID, numbers[0])
	require.NoError(t, err)
	require.Equal(t, []int64{numbers[2]}, got)
}

func TestSettingsFanOutLockSerialises(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := t.Context()
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- st.WithSettingsFanOutLock(ctx, func(context.Context) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	var entered atomic.Bool
	second := make(chan error, 1)
	go func() {
		second <- st.WithSettingsFanOutLock(ctx, func(context.Context) error {
			entered.Store(true)
			return nil
		})
	}()
	require.Never(t, entered.Load, 300*time.Millisecond, 20*time.Millisecond, "a second fan-out waits for the first")
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	require.True(t, entered.Load())
}
