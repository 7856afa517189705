package activities

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/linedesk/linedesk/connectors"
)

// pacer keeps each messenger channel's sends under its platform's rate (Telegram's 30 messages a
// second per bot, VK's 20 a second per community, WhatsApp's 80 per number), so a burst of
// replies and CSAT questions waits its turn here instead of drawing the platform's 429s. It is
// per worker process: with several workers each keeps the pace, and the platform's own
// retry_after (honoured by the retry policy) covers the rest.
type pacer struct {
	mu       sync.Mutex
	limiters map[int64]*rate.Limiter
}

// maxPaceWait is the longest a send waits in the activity for its turn; a longer wait goes back
// to Temporal as a retry after that delay, freeing the worker's slot.
const maxPaceWait = 2 * time.Second

// wait returns how long a send on the channel must wait from now for its turn (0: go), or,
// when that is longer than maxPaceWait, gives the turn back and returns the wait with later set.
func (p *pacer) wait(channelID int64, conn connectors.Connector, now time.Time) (d time.Duration, later bool) {
	paced, ok := conn.(connectors.Paced)
	if !ok {
		return 0, false
	}
	perSecond, burst := paced.SendRate()
	p.mu.Lock()
	if p.limiters == nil {
		p.limiters = map[int64]*rate.Limiter{}
	}
	lim, ok := p.limiters[channelID]
	if !ok || lim.Limit() != rate.Limit(perSecond) || lim.Burst() != burst {
		lim = rate.NewLimiter(rate.Limit(perSecond), burst)
		p.limiters[channelID] = lim
	}
	p.mu.Unlock()
	r := lim.ReserveN(now, 1)
	d = r.DelayFrom(now)
	if d > maxPaceWait {
		r.CancelAt(now)
		return d, true
	}
	return d, false
}
