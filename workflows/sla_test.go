package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// slaCalendar is Europe/Moscow, Monday to Friday 09:00-13:00 and 14:00-18:00.
func slaCalendar(holidays ...string) Calendar {
	week := map[string][]Period{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week[d] = []Period{{"09:00", "13:00"}, {"14:00", "18:00"}}
	}
	return Calendar{TimeZone: "Europe/Moscow", Week: week, Holidays: holidays}
}

// msk parses "2006-01-02 15:04" as Moscow wall-clock time. 2026-03-11 is a Wednesday.
func msk(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v
}

func requireTime(t *testing.T, want time.Time, got time.Time, ok bool, msgAndArgs ...any) {
	t.Helper()
	require.True(t, ok, msgAndArgs...)
	require.True(t, want.Equal(got), "want %s, got %s %v", want, got, msgAndArgs)
}

func TestClockStart(t *testing.T) {
	cal := slaCalendar()
	wed10 := msk(t, "2026-03-11 10:00")

	var c Clock
	c.start(2*time.Hour, wed10)
	require.Equal(t, Clock{Target: 2 * time.Hour, Running: true, Since: wed10}, c)
	due, ok := c.due(cal)
	requireTime(t, msk(t, "2026-03-11 12:00"), due, ok)

	// A restart forgets the previous measurement.
	c = Clock{Target: time.Hour, Used: 30 * time.Minute, Met: true, Warned: true, Breached: true}
	c.start(time.Hour, wed10)
	require.Equal(t, Clock{Target: time.Hour, Running: true, Since: wed10}, c)

	// A zero target is not measured.
	c.start(0, wed10)
	require.Equal(t, Clock{}, c)
	_, ok = c.due(cal)
	require.False(t, ok)
}

func TestClockPauseResume(t *testing.T) {
	cal := slaCalendar()
	tests := []struct {
		name     string
		since    string
		pause    string
		resume   string
		wantUsed time.Duration
		wantDue  string
	}{
		{"within a period", "2026-03-11 10:00", "2026-03-11 11:00", "2026-03-11 15:00", time.Hour, "2026-03-11 16:00"},
		{"over lunch", "2026-03-11 12:30", "2026-03-11 14:30", "2026-03-11 15:00", time.Hour, "2026-03-11 16:00"},
		{"resumed after hours", "2026-03-11 17:00", "2026-03-11 17:30", "2026-03-11 20:00", 30 * time.Minute, "2026-03-12 10:30"},
		{"paused over the weekend", "2026-03-13 17:00", "2026-03-16 09:30", "2026-03-16 12:00", 90 * time.Minute, "2026-03-16 12:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Clock
			c.start(2*time.Hour, msk(t, tt.since))
			c.pause(msk(t, tt.pause), cal)
			require.False(t, c.Running)
			require.Equal(t, tt.wantUsed, c.Used)
			_, ok := c.due(cal)
			require.False(t, ok, "a paused clock has no due time")
			_, ok = c.warnAt(cal, 30*time.Minute)
			require.False(t, ok, "a paused clock does not warn")

			// Pausing twice changes nothing.
			c.pause(msk(t, tt.resume), cal)
			require.Equal(t, tt.wantUsed, c.Used)

			c.resume(msk(t, tt.resume))
			require.True(t, c.Running)
			require.True(t, msk(t, tt.resume).Equal(c.Since))
			due, ok := c.due(cal)
			requireTime(t, msk(t, tt.wantDue), due, ok)
		})
	}

	t.Run("resume of a running clock keeps Since", func(t *testing.T) {
		var c Clock
		c.start(time.Hour, msk(t, "2026-03-11 10:00"))
		c.resume(msk(t, "2026-03-11 11:00"))
		require.True(t, msk(t, "2026-03-11 10:00").Equal(c.Since))
	})
	t.Run("resume of a met clock does nothing", func(t *testing.T) {
		var c Clock
		c.start(time.Hour, msk(t, "2026-03-11 10:00"))
		c.meet(msk(t, "2026-03-11 10:10"), cal)
		c.resume(msk(t, "2026-03-11 11:00"))
		require.False(t, c.Running)
	})
	t.Run("resume of an unmeasured clock does nothing", func(t *testing.T) {
		var c Clock
		c.resume(msk(t, "2026-03-11 11:00"))
		require.Equal(t, Clock{}, c)
	})
}

func TestClockMeet(t *testing.T) {
	cal := slaCalendar()
	var c Clock
	c.start(2*time.Hour, msk(t, "2026-03-11 12:00"))
	c.meet(msk(t, "2026-03-11 14:20"), cal)
	require.True(t, c.Met)
	require.False(t, c.Running)
	require.Equal(t, 80*time.Minute, c.Used)
	_, ok := c.due(cal)
	require.False(t, ok)

	// Met once, met for good: a later meet does not count more time.
	c.meet(msk(t, "2026-03-11 17:00"), cal)
	require.Equal(t, 80*time.Minute, c.Used)

	// Meeting a paused clock keeps its used time.
	var p Clock
	p.start(2*time.Hour, msk(t, "2026-03-11 10:00"))
	p.pause(msk(t, "2026-03-11 10:30"), cal)
	p.meet(msk(t, "2026-03-11 16:00"), cal)
	require.True(t, p.Met)
	require.Equal(t, 30*time.Minute, p.Used)

	// An unmeasured clock is never met.
	var z Clock
	z.meet(msk(t, "2026-03-11 16:00"), cal)
	require.Equal(t, Clock{}, z)
}

func TestClockDueWarnAt(t *testing.T) {
	cal := slaCalendar("2026-03-16")
	tests := []struct {
		name       string
		clock      Clock
		warnBefore time.Duration
		wantDue    string // "" = no due time
		wantWarn   string // "" = no warning
	}{
		{"two periods in one day", Clock{Target: 2 * time.Hour, Running: true, Since: msk(t, "2026-03-11 12:00")},
			30 * time.Minute, "2026-03-11 15:00", "2026-03-11 14:30"},
		{"over the weekend", Clock{Target: 2 * time.Hour, Running: true, Since: msk(t, "2026-03-06 17:00")},
			30 * time.Minute, "2026-03-09 10:00", "2026-03-09 09:30"},
		{"over a weekend and a holiday", Clock{Target: 2 * time.Hour, Running: true, Since: msk(t, "2026-03-13 17:00")},
			30 * time.Minute, "2026-03-17 10:00", "2026-03-17 09:30"},
		{"started out of hours", Clock{Target: time.Hour, Running: true, Since: msk(t, "2026-03-11 20:00")},
			15 * time.Minute, "2026-03-12 10:00", "2026-03-12 09:45"},
		{"used time counts", Clock{Target: 2 * time.Hour, Used: 90 * time.Minute, Running: true, Since: msk(t, "2026-03-11 10:00")},
			10 * time.Minute, "2026-03-11 10:30", "2026-03-11 10:20"},
		{"less left than the warning: warn at once", Clock{Target: 2 * time.Hour, Used: 100 * time.Minute, Running: true, Since: msk(t, "2026-03-11 10:00")},
			30 * time.Minute, "2026-03-11 10:20", "2026-03-11 10:00"},
		{"no warning configured", Clock{Target: time.Hour, Running: true, Since: msk(t, "2026-03-11 10:00")},
			0, "2026-03-11 11:00", ""},
		{"stopped", Clock{Target: time.Hour, Since: msk(t, "2026-03-11 10:00")},
			15 * time.Minute, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, ok := tt.clock.due(cal)
			if tt.wantDue == "" {
				require.False(t, ok)
			} else {
				requireTime(t, msk(t, tt.wantDue), due, ok, "due")
			}
			warn, ok := tt.clock.warnAt(cal, tt.warnBefore)
			if tt.wantWarn == "" {
				require.False(t, ok)
			} else {
				requireTime(t, msk(t, tt.wantWarn), warn, ok, "warnAt")
			}
		})
	}

	t.Run("a calendar that cannot be computed has no due time", func(t *testing.T) {
		c := Clock{Target: time.Hour, Running: true, Since: msk(t, "2026-03-11 10:00")}
		_, ok := c.due(Calendar{TimeZone: "Nowhere/Atlantis"})
		require.False(t, ok)
	})
}

// slaReg is a regulation on slaCalendar: first response 2h, next response 1h, resolution 8h, warning
// 30 minutes before.
func slaReg(holidays ...string) *Regulation {
	return &Regulation{ID: 1, FirstResponse: 2 * time.Hour, NextResponse: time.Hour, Resolution: 8 * time.Hour,
		WarnBefore: 30 * time.Minute, Calendar: slaCalendar(holidays...)}
}

func TestSLANextDeadlineAndFireDue(t *testing.T) {
	reg := slaReg()
	reg.Resolution = 0
	wed10 := msk(t, "2026-03-11 10:00")

	var s SLAState
	_, ok := s.nextDeadline(reg)
	require.False(t, ok, "nothing runs")
	s.FirstResponse.start(reg.FirstResponse, wed10)
	_, ok = s.nextDeadline(nil)
	require.False(t, ok, "no regulation")
	require.Nil(t, s.fireDue(msk(t, "2026-03-12 10:00"), nil))

	next, ok := s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-11 11:30"), next, ok, "the warning comes first")
	require.Empty(t, s.fireDue(msk(t, "2026-03-11 11:29"), reg))

	got := s.fireDue(msk(t, "2026-03-11 11:30"), reg)
	require.Equal(t, []SLAEvent{{Clock: "first_response", Kind: "sla_warning", Due: msk(t, "2026-03-11 12:00").UTC()}}, slaEventsIn(got, time.UTC))
	require.True(t, s.FirstResponse.Warned)
	require.Empty(t, s.fireDue(msk(t, "2026-03-11 11:45"), reg), "a warning fires once")

	next, ok = s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-11 12:00"), next, ok, "then the breach")
	got = s.fireDue(msk(t, "2026-03-11 12:00"), reg)
	require.Equal(t, []SLAEvent{{Clock: "first_response", Kind: "sla_breached", Due: msk(t, "2026-03-11 12:00").UTC()}}, slaEventsIn(got, time.UTC))
	require.True(t, s.overdue())
	require.Empty(t, s.fireDue(msk(t, "2026-03-11 17:00"), reg), "a breach fires once")
	_, ok = s.nextDeadline(reg)
	require.False(t, ok, "nothing left to fire")

	due := s.dueTimes(reg)
	require.NotNil(t, due.FirstResponse)
	require.True(t, msk(t, "2026-03-11 12:00").Equal(*due.FirstResponse))
	require.Nil(t, due.NextResponse)
	require.Nil(t, due.Resolution)
	require.Equal(t, Due{}, s.dueTimes(nil))

	s.FirstResponse.meet(msk(t, "2026-03-11 17:00"), reg.Calendar)
	require.False(t, s.overdue(), "a met clock is no longer overdue")
}

func TestSLAFireDueLate(t *testing.T) {
	reg := slaReg()
	var s SLAState
	s.FirstResponse.start(reg.FirstResponse, msk(t, "2026-03-11 10:00"))
	s.Resolution.start(reg.Resolution, msk(t, "2026-03-11 10:00"))

	// Woken after both the warning and the breach of the first response: only the breach fires, and
	// it counts as warned.
	got := s.fireDue(msk(t, "2026-03-11 12:05"), reg)
	require.Equal(t, []SLAEvent{{Clock: "first_response", Kind: "sla_breached", Due: msk(t, "2026-03-11 12:00").UTC()}}, slaEventsIn(got, time.UTC))
	require.True(t, s.FirstResponse.Warned)

	// The resolution clock (8h from Wednesday 10:00 = Thursday 10:00) warns at 09:30 on Thursday.
	next, ok := s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-12 09:30"), next, ok)
}

func TestSLAFireDueOrder(t *testing.T) {
	reg := slaReg()
	reg.WarnBefore = 0
	var s SLAState
	since := msk(t, "2026-03-11 09:00")
	s.FirstResponse = Clock{Target: time.Hour, Running: true, Since: since}
	s.NextResponse = Clock{Target: time.Hour, Running: true, Since: since}
	s.Resolution = Clock{Target: time.Hour, Running: true, Since: since}
	got := s.fireDue(msk(t, "2026-03-11 10:00"), reg)
	require.Len(t, got, 3)
	for i, name := range []string{"first_response", "next_response", "resolution"} {
		require.Equal(t, name, got[i].Clock)
		require.Equal(t, "sla_breached", got[i].Kind)
	}
}

func TestSLANextDeadlineEarliest(t *testing.T) {
	reg := slaReg()
	var s SLAState
	s.Resolution.start(reg.Resolution, msk(t, "2026-03-11 09:00"))     // due 18:00, warns 17:30
	s.NextResponse.start(reg.NextResponse, msk(t, "2026-03-11 15:00")) // warns 15:30
	next, ok := s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-11 15:30"), next, ok)
	s.NextResponse.Warned = true
	next, ok = s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-11 16:00"), next, ok)
	s.NextResponse.meet(msk(t, "2026-03-11 15:50"), reg.Calendar)
	next, ok = s.nextDeadline(reg)
	requireTime(t, msk(t, "2026-03-11 17:30"), next, ok)
}

func TestSLAPauseAllResumeAll(t *testing.T) {
	reg := slaReg()
	var s SLAState
	s.FirstResponse.start(reg.FirstResponse, msk(t, "2026-03-11 10:00"))
	s.Resolution.start(reg.Resolution, msk(t, "2026-03-11 10:00"))
	s.NextResponse.Target = reg.NextResponse // never started: must stay stopped

	s.pauseAll(msk(t, "2026-03-11 10:30"), reg.Calendar)
	require.Equal(t, Due{}, s.dueTimes(reg))
	s.resumeAll(msk(t, "2026-03-11 15:00"))
	require.False(t, s.NextResponse.Running, "a clock that never started does not start on resume")
	due := s.dueTimes(reg)
	require.True(t, msk(t, "2026-03-11 16:30").Equal(*due.FirstResponse))
	// Resolution 8h, 30m used: 7h30m from Wednesday 15:00 = 3h to 18:00 + 4h30m on Thursday.
	require.True(t, msk(t, "2026-03-12 14:30").Equal(*due.Resolution))
	require.Nil(t, due.NextResponse)
}

func TestSLARearm(t *testing.T) {
	wed10 := msk(t, "2026-03-11 10:00")
	wed1030 := msk(t, "2026-03-11 10:30")
	longer := func() *Regulation {
		r := slaReg()
		r.ID, r.FirstResponse, r.NextResponse, r.Resolution = 2, 4*time.Hour, 2*time.Hour, 16*time.Hour
		return r
	}
	tests := []struct {
		name    string
		before  func(s *SLAState, reg *Regulation)
		newReg  func() *Regulation
		sc      slaContext
		wantDue Due // as "2006-01-02 15:04" strings through dueStrings
		check   func(t *testing.T, s *SLAState)
	}{
		{
			name: "longer first response keeps used time",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.Resolution.start(reg.Resolution, wed10)
			},
			newReg: longer,
			sc:     slaContext{now: wed1030, clientWaiting: true},
			// 4h - 30m used from 10:30: 2h30m to 13:00, 1h after lunch. Resolution 16h - 30m: 6h30m on
			// Wednesday, 8h on Thursday, 1h on Friday.
			wantDue: Due{FirstResponse: ptr(msk(t, "2026-03-11 15:00")), Resolution: ptr(msk(t, "2026-03-13 10:00"))},
		},
		{
			name: "a breached clock may warn and breach again",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.FirstResponse.Warned, s.FirstResponse.Breached = true, true
			},
			newReg:  longer,
			sc:      slaContext{now: wed1030, clientWaiting: true},
			wantDue: Due{FirstResponse: ptr(msk(t, "2026-03-11 15:00")), Resolution: ptr(msk(t, "2026-03-13 10:30"))},
			check: func(t *testing.T, s *SLAState) {
				require.False(t, s.FirstResponse.Warned)
				require.False(t, s.FirstResponse.Breached)
			},
		},
		{
			name: "responded and the client waits: next response runs",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.FirstResponse.meet(msk(t, "2026-03-11 10:10"), reg.Calendar)
				s.NextResponse.start(reg.NextResponse, msk(t, "2026-03-11 10:20"))
			},
			newReg:  longer,
			sc:      slaContext{now: wed1030, responded: true, clientWaiting: true},
			wantDue: Due{NextResponse: ptr(msk(t, "2026-03-11 12:20")), Resolution: ptr(msk(t, "2026-03-13 10:30"))},
			check: func(t *testing.T, s *SLAState) {
				require.True(t, s.FirstResponse.Met, "a met clock stays met")
			},
		},
		{
			name: "responded and nobody waits: next response does not run",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.FirstResponse.meet(msk(t, "2026-03-11 10:10"), reg.Calendar)
			},
			newReg:  longer,
			sc:      slaContext{now: wed1030, responded: true},
			wantDue: Due{Resolution: ptr(msk(t, "2026-03-13 10:30"))},
		},
		{
			name:    "nobody wrote yet: first response does not run",
			before:  func(s *SLAState, reg *Regulation) { s.Resolution.start(reg.Resolution, wed10) },
			newReg:  longer,
			sc:      slaContext{now: wed1030},
			wantDue: Due{Resolution: ptr(msk(t, "2026-03-13 10:00"))},
			check: func(t *testing.T, s *SLAState) {
				require.True(t, s.FirstResponse.Since.IsZero(), "the first-response clock starts with the client's message")
			},
		},
		{
			name: "paused with a stopping regulation: clocks wait for resume",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
			},
			newReg: func() *Regulation {
				r := longer()
				r.PauseStopsClock = true
				return r
			},
			sc:      slaContext{now: wed1030, paused: true, clientWaiting: true},
			wantDue: Due{},
			check: func(t *testing.T, s *SLAState) {
				require.Equal(t, 30*time.Minute, s.FirstResponse.Used)
				s.resumeAll(msk(t, "2026-03-11 14:00"))
				require.True(t, s.FirstResponse.Running)
				require.True(t, s.Resolution.Running)
			},
		},
		{
			name: "paused with a running regulation: clocks run",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.Resolution.start(reg.Resolution, wed10)
			},
			newReg:  longer,
			sc:      slaContext{now: wed1030, paused: true, clientWaiting: true},
			wantDue: Due{FirstResponse: ptr(msk(t, "2026-03-11 15:00")), Resolution: ptr(msk(t, "2026-03-13 10:00"))},
		},
		{
			name: "a target dropped to zero stops its clock",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.Resolution.start(reg.Resolution, wed10)
			},
			newReg: func() *Regulation {
				r := longer()
				r.Resolution = 0
				return r
			},
			sc:      slaContext{now: wed1030, clientWaiting: true},
			wantDue: Due{FirstResponse: ptr(msk(t, "2026-03-11 15:00"))},
		},
		{
			name: "no regulation: everything stops",
			before: func(s *SLAState, reg *Regulation) {
				s.FirstResponse.start(reg.FirstResponse, wed10)
				s.Resolution.start(reg.Resolution, wed10)
			},
			newReg:  func() *Regulation { return nil },
			sc:      slaContext{now: wed1030, clientWaiting: true},
			wantDue: Due{},
			check: func(t *testing.T, s *SLAState) {
				require.Equal(t, SLAState{}, *s)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := slaReg()
			var s SLAState
			tt.before(&s, old)
			reg := tt.newReg()
			s.rearm(old, reg, tt.sc)
			check := reg
			if check == nil {
				check = old
			}
			require.Equal(t, dueStrings(tt.wantDue), dueStrings(s.dueTimes(check)))
			if tt.check != nil {
				tt.check(t, &s)
			}
		})
	}

	t.Run("from no regulation", func(t *testing.T) {
		var s SLAState
		reg := slaReg()
		s.rearm(nil, reg, slaContext{now: wed10, clientWaiting: true})
		require.Equal(t, dueStrings(Due{FirstResponse: ptr(msk(t, "2026-03-11 12:00")), Resolution: ptr(msk(t, "2026-03-12 10:00"))}),
			dueStrings(s.dueTimes(reg)))
	})
}

func ptr[T any](v T) *T { return &v }

// dueStrings renders due times in UTC so that equal instants compare equal.
func dueStrings(d Due) [3]string {
	f := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return [3]string{f(d.FirstResponse), f(d.NextResponse), f(d.Resolution)}
}

func slaEventsIn(events []SLAEvent, loc *time.Location) []SLAEvent {
	out := make([]SLAEvent, len(events))
	for i, e := range events {
		e.Due = e.Due.In(loc)
		out[i] = e
	}
	return out
}
