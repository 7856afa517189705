package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/telegram"
)

// TestPacerKeepsAChannelUnderItsPlatformsRate: a Telegram bot's 31st message in one instant
// waits its turn (1/30 s), a send whose turn is more than two seconds away goes back to Temporal
// with that delay (and gives its turn back), channels are paced apart, and a platform without
// a stated rate is not paced.
func TestPacerKeepsAChannelUnderItsPlatformsRate(t *testing.T) {
	var p pacer
	tg := &telegram.Connector{}
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for i := range 30 {
		d, later := p.wait(1, tg, now)
		require.Zero(t, d, "message %d of the burst", i+1)
		require.False(t, later)
	}
	d, later := p.wait(1, tg, now)
	require.False(t, later)
	require.InDelta(t, float64(time.Second/30), float64(d), float64(time.Millisecond))
	// Channel 2 has its own budget.
	d, _ = p.wait(2, tg, now)
	require.Zero(t, d)
	// Drain channel 1 far ahead: a turn beyond two seconds is handed back as a retry delay.
	for range 59 {
		p.wait(1, tg, now)
	}
	d, later = p.wait(1, tg, now)
	require.True(t, later)
	require.Greater(t, d, maxPaceWait)
	d2, later2 := p.wait(1, tg, now)
	require.True(t, later2)
	require.InDelta(t, float64(d), float64(d2), float64(time.Millisecond), "the handed-back turn was returned")

	var _ connectors.Paced = tg
	d, later = p.wait(3, &meta.Connector{}, now)
	require.Zero(t, d)
	require.False(t, later)
}
