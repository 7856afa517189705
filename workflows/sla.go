package workflows

import "time"

// Clock measures one SLA target in business time. It runs, may be paused (its used time is kept)
// and stops for good when the target is met.
type Clock struct {
	// Target is the allowed business time; zero means this clock is not measured.
	Target time.Duration `json:"target"`
	// Used is the business time consumed before Since.
	Used    time.Duration `json:"used"`
	Running bool          `json:"running"`
	Since   time.Time     `json:"since"`
	// Met is set when the target was reached (responded, resolved).
	Met      bool `json:"met"`
	Warned   bool `json:"warned"`
	Breached bool `json:"breached"`
}

// SLAState holds the three clocks of a conversation.
type SLAState struct {
	FirstResponse Clock `json:"first_response"`
	NextResponse  Clock `json:"next_response"`
	Resolution    Clock `json:"resolution"`
}

// start begins a fresh measurement of target at now.
func (c *Clock) start(target time.Duration, now time.Time) {
	*c = Clock{Target: target}
	if target > 0 {
		c.Running, c.Since = true, now
	}
}

// pause keeps the business time used so far and stops counting.
func (c *Clock) pause(now time.Time, cal Calendar) {
	if !c.Running {
		return
	}
	c.Used += cal.BusinessBetween(c.Since, now)
	c.Running = false
}

// resume counts again from now (only a paused clock that is not met).
func (c *Clock) resume(now time.Time) {
	if c.Running || c.Met || c.Target == 0 {
		return
	}
	c.Running, c.Since = true, now
}

// meet stops the clock for good: its target is reached.
func (c *Clock) meet(now time.Time, cal Calendar) {
	if c.Target == 0 || c.Met {
		return
	}
	c.pause(now, cal)
	c.Met = true
}

// due is when the clock breaches if it keeps running; ok is false when it is not running or the
// calendar can never reach it.
func (c *Clock) due(cal Calendar) (time.Time, bool) {
	if !c.Running {
		return time.Time{}, false
	}
	t, err := cal.AddBusiness(c.Since, c.Target-c.Used)
	return t, err == nil
}

// warnAt is when the warning fires: warnBefore of business time before the due time (or at once
// when less than that is left).
func (c *Clock) warnAt(cal Calendar, warnBefore time.Duration) (time.Time, bool) {
	if !c.Running || warnBefore <= 0 {
		return time.Time{}, false
	}
	left := c.Target - c.Used - warnBefore
	if left <= 0 {
		return c.Since, true
	}
	t, err := cal.AddBusiness(c.Since, left)
	return t, err == nil
}

// clocks lists the three clocks with their names, in a fixed order.
func (s *SLAState) clocks() []namedClock {
	return []namedClock{
		{"first_response", &s.FirstResponse},
		{"next_response", &s.NextResponse},
		{"resolution", &s.Resolution},
	}
}

type namedClock struct {
	name  string
	clock *Clock
}

// SLAEvent is a warning or breach that became due.
type SLAEvent struct {
	Clock string
	Kind  string // "sla_warning" or "sla_breached"
	Due   time.Time
}

// fireDue marks the warnings and breaches due at now and returns them in clock order.
func (s *SLAState) fireDue(now time.Time, reg *Regulation) []SLAEvent {
	if reg == nil {
		return nil
	}
	var out []SLAEvent
	for _, nc := range s.clocks() {
		c := nc.clock
		due, ok := c.due(reg.Calendar)
		if !ok {
			continue
		}
		if w, ok := c.warnAt(reg.Calendar, reg.WarnBefore); ok && !c.Warned && !now.Before(w) && now.Before(due) {
			c.Warned = true
			out = append(out, SLAEvent{Clock: nc.name, Kind: "sla_warning", Due: due})
		}
		if !c.Breached && !now.Before(due) {
			c.Breached, c.Warned = true, true
			out = append(out, SLAEvent{Clock: nc.name, Kind: "sla_breached", Due: due})
		}
	}
	return out
}

// nextDeadline is the earliest warning or breach still to fire.
func (s *SLAState) nextDeadline(reg *Regulation) (time.Time, bool) {
	if reg == nil {
		return time.Time{}, false
	}
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	for _, nc := range s.clocks() {
		c := nc.clock
		due, ok := c.due(reg.Calendar)
		if !ok {
			continue
		}
		if !c.Warned {
			if w, ok := c.warnAt(reg.Calendar, reg.WarnBefore); ok {
				consider(w)
			}
		}
		if !c.Breached {
			consider(due)
		}
	}
	return next, found
}

// dueTimes reports the due times of the running clocks.
func (s *SLAState) dueTimes(reg *Regulation) Due {
	var d Due
	if reg == nil {
		return d
	}
	at := func(c *Clock) *time.Time {
		if t, ok := c.due(reg.Calendar); ok {
			return &t
		}
		return nil
	}
	d.FirstResponse = at(&s.FirstResponse)
	d.NextResponse = at(&s.NextResponse)
	d.Resolution = at(&s.Resolution)
	return d
}

// overdue is true while a breached clock still runs.
func (s *SLAState) overdue() bool {
	for _, nc := range s.clocks() {
		if nc.clock.Breached && nc.clock.Running {
			return true
		}
	}
	return false
}

// pauseAll and resumeAll stop and restart every clock (regulation "clocks stop while paused").
func (s *SLAState) pauseAll(now time.Time, cal Calendar) {
	for _, nc := range s.clocks() {
		nc.clock.pause(now, cal)
	}
}

func (s *SLAState) resumeAll(now time.Time) {
	for _, nc := range s.clocks() {
		if !nc.clock.Since.IsZero() {
			nc.clock.resume(now)
		}
	}
}

// slaContext is what rearm needs to know about the conversation.
type slaContext struct {
	now           time.Time
	paused        bool
	responded     bool
	clientWaiting bool
}

// rearm applies a new regulation (nil: none). Business time already used is kept; clocks that
// should run but were never measured (the old regulation had no such target) start now.
func (s *SLAState) rearm(old, reg *Regulation, sc slaContext) {
	var oldCal Calendar
	if old != nil {
		oldCal = old.Calendar
	}
	for _, nc := range s.clocks() {
		nc.clock.pause(sc.now, oldCal)
	}
	if reg == nil {
		*s = SLAState{}
		return
	}
	targets := []time.Duration{reg.FirstResponse, reg.NextResponse, reg.Resolution}
	// The response clocks run only while a client message waits (clientWrote starts them).
	applies := []bool{!sc.responded && sc.clientWaiting, sc.responded && sc.clientWaiting, true}
	stopped := sc.paused && reg.PauseStopsClock
	for i, nc := range s.clocks() {
		c := nc.clock
		c.Target = targets[i]
		if c.Target == 0 || c.Met || !applies[i] {
			c.Running = false
			continue
		}
		// A new target may move the due time back into the future: it may warn and breach again.
		c.Warned, c.Breached = false, false
		c.Since = sc.now
		c.Running = !stopped
	}
}
