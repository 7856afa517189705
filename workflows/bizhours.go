package workflows

// Business-hours arithmetic for SLA deadlines.
//
// Everything in this file is pure and deterministic so that it can run inside
// Temporal workflow code: no wall clock, no goroutines, no randomness and no
// order-dependent map iteration. Time zones come from the zone database embedded
// in this package (zoneinfo.zip, Go's own copy), never from the host, so every
// worker computes the same deadlines and replays are identical.

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Calendar is a regulation's business-hours calendar ("регламент"): periods per weekday in a
// time zone, plus holidays. A calendar with no periods on any weekday is open around the clock.
//
// An instant t is open iff, with lt := t.In(zone), lt's local date is not a holiday and lt's
// wall-clock time of day lies in one of the periods of lt's weekday. A weekday that is missing
// from Week (or has no periods) is closed all day, unless no weekday has any periods at all: then
// every weekday is treated as 00:00-24:00 (holidays still close their days). Business time is the
// measure of the set of open instants, so DST transitions are handled naturally: a period that
// crosses a spring-forward gap has fewer real minutes, one that crosses a fall-back overlap has
// more.
type Calendar struct {
	TimeZone string              `json:"time_zone"`          // IANA name, "" = UTC
	Week     map[string][]Period `json:"week"`               // keys "mon","tue","wed","thu","fri","sat","sun"
	Holidays []string            `json:"holidays,omitempty"` // local dates "2026-01-07"; closed all day
}

// Period is one open interval of a day in local wall-clock time, [Start, End).
type Period struct {
	Start string `json:"start"` // "09:00"
	End   string `json:"end"`   // "18:00"; "24:00" allowed as end of day
}

// ErrNoBusinessTime is returned (wrapped) by AddBusiness when the requested amount of business
// time cannot be accumulated within the bounded search horizon.
var ErrNoBusinessTime = errors.New("calendar does not accumulate the requested business time")

// bizSearchYears bounds AddBusiness: it gives up when from+d+bizSearchYears is reached.
const bizSearchYears = 10

// bizMaxSpan bounds BusinessBetween walks: intervals longer than the range of time.Duration
// (about 292 years) are truncated to it.
const bizMaxSpan = time.Duration(math.MaxInt64)

const bizDay = 24 * time.Hour

// bizWeekdayKeys lists the Week keys indexed by time.Weekday (Sunday = 0).
var bizWeekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// bizWeekdayOrder is the order in which weekdays are validated and reported.
var bizWeekdayOrder = [7]time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday,
}

// bizSpan is an open interval of a local day, as offsets from local midnight: [start, end).
type bizSpan struct {
	start, end time.Duration
}

// bizCalendar is the compiled, validated form of a Calendar.
type bizCalendar struct {
	loc      *time.Location
	week     [7][]bizSpan       // indexed by time.Weekday; sorted, disjoint, non-adjacent
	holidays map[int64]struct{} // local dates as days since 1970-01-01
	always   bool               // every instant is open
}

// Validate reports whether the calendar is well formed. All problems are reported (joined with
// errors.Join) in a deterministic order; each message names the offending field, for example
// "week.mon[1]: start 13:00 is not before end 12:00".
func (c Calendar) Validate() error {
	_, err := c.compile()
	return err
}

// AlwaysOpen reports whether every instant is open: the calendar is valid, has no holidays and
// either has no periods at all or covers 00:00-24:00 on every weekday. An invalid calendar is
// not always open.
func (c Calendar) AlwaysOpen() bool {
	bc, err := c.compile()
	return err == nil && bc.always
}

// AddBusiness returns the earliest instant t >= from such that the business time in [from, t)
// equals d. If d <= 0 it returns from unchanged. The result is exact to the nanosecond and is
// expressed in from's location. It returns an error if the calendar is invalid or if d cannot be
// accumulated before from+d plus 10 years (errors.Is(err, ErrNoBusinessTime)), e.g. because all
// remaining days are holidays.
func (c Calendar) AddBusiness(from time.Time, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return from, nil
	}
	bc, err := c.compile()
	if err != nil {
		return time.Time{}, err
	}
	return bc.addBusiness(from, d)
}

// BusinessBetween returns the business time in [from, to), or 0 if to <= from. Intervals longer
// than the range of time.Duration are truncated to it. An invalid calendar (which Validate would
// reject) is treated as open around the clock, so SLA clocks keep running rather than silently
// stopping.
func (c Calendar) BusinessBetween(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	bc, err := c.compile()
	if err != nil {
		bc = bizAlwaysOpen
	}
	return bc.between(from, to)
}

// IsOpen reports whether the instant t is open. An invalid calendar (which Validate would reject)
// is treated as open around the clock.
func (c Calendar) IsOpen(t time.Time) bool {
	bc, err := c.compile()
	if err != nil {
		return true
	}
	return bc.isOpen(t)
}

// bizAlwaysOpen is the fallback compiled calendar used for invalid calendars.
var bizAlwaysOpen = &bizCalendar{loc: time.UTC, always: true}

// compile validates the calendar and builds its compiled form.
func (c Calendar) compile() (*bizCalendar, error) {
	var errs []error
	bc := &bizCalendar{}

	loc, err := bizLoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, err)
	}
	bc.loc = loc

	// Unknown weekday keys, reported in sorted order (map iteration order is random).
	var unknown []string
	// The keys are sorted below before anything depends on their order.
	//workflowcheck:ignore
	for key := range c.Week {
		if bizWeekdayIndex(key) < 0 {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	for _, key := range unknown {
		errs = append(errs, fmt.Errorf("week: unknown weekday key %q (want one of mon, tue, wed, thu, fri, sat, sun)", key))
	}

	anyPeriods := false
	for _, wd := range bizWeekdayOrder {
		key := bizWeekdayKeys[wd]
		periods := c.Week[key]
		if len(periods) > 0 {
			anyPeriods = true
		}
		spans, dayErrs := bizCompileDay(key, periods)
		errs = append(errs, dayErrs...)
		bc.week[wd] = spans
	}
	if !anyPeriods {
		for wd := range bc.week {
			bc.week[wd] = []bizSpan{{0, bizDay}}
		}
	}

	for i, h := range c.Holidays {
		day, err := time.Parse(time.DateOnly, h)
		if err != nil {
			errs = append(errs, fmt.Errorf("holidays[%d]: malformed date %q (want YYYY-MM-DD)", i, h))
			continue
		}
		if bc.holidays == nil {
			bc.holidays = make(map[int64]struct{}, len(c.Holidays))
		}
		bc.holidays[bizDayNumber(day)] = struct{}{}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	bc.always = len(bc.holidays) == 0
	for _, spans := range bc.week {
		if len(spans) != 1 || spans[0] != (bizSpan{0, bizDay}) {
			bc.always = false
		}
	}
	return bc, nil
}

// bizCompileDay validates one weekday's periods and returns them sorted, with adjacent periods
// merged.
func bizCompileDay(key string, periods []Period) ([]bizSpan, []error) {
	type indexed struct {
		bizSpan
		i int
	}
	var errs []error
	valid := make([]indexed, 0, len(periods))
	for i, p := range periods {
		start, errStart := bizParseClock(p.Start)
		if errStart != nil {
			errs = append(errs, fmt.Errorf("week.%s[%d].start: %w", key, i, errStart))
		}
		end, errEnd := bizParseClock(p.End)
		if errEnd != nil {
			errs = append(errs, fmt.Errorf("week.%s[%d].end: %w", key, i, errEnd))
		}
		if errStart != nil || errEnd != nil {
			continue
		}
		if start >= end {
			errs = append(errs, fmt.Errorf("week.%s[%d]: start %s is not before end %s", key, i, p.Start, p.End))
			continue
		}
		valid = append(valid, indexed{bizSpan{start, end}, i})
	}
	// Stable sort by start (then by index) keeps error reporting deterministic.
	slices.SortStableFunc(valid, func(a, b indexed) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	spans := make([]bizSpan, 0, len(valid))
	var reach indexed // the period reaching furthest so far
	for j, v := range valid {
		if j > 0 && v.start < reach.end {
			a, b := reach, v
			if a.i > b.i {
				a, b = b, a
			}
			errs = append(errs, fmt.Errorf("week.%s[%d]: %s-%s overlaps week.%s[%d] %s-%s",
				key, b.i, bizFormatClock(b.start), bizFormatClock(b.end),
				key, a.i, bizFormatClock(a.start), bizFormatClock(a.end)))
		}
		if j == 0 || v.end > reach.end {
			reach = v
		}
		if n := len(spans); n > 0 && v.start <= spans[n-1].end {
			spans[n-1].end = max(spans[n-1].end, v.end)
			continue
		}
		spans = append(spans, v.bizSpan)
	}
	return spans, errs
}

// bizParseClock parses a strict "HH:MM" wall-clock time between 00:00 and 24:00 inclusive.
func bizParseClock(s string) (time.Duration, error) {
	if len(s) != 5 || s[2] != ':' || !bizIsDigit(s[0]) || !bizIsDigit(s[1]) || !bizIsDigit(s[3]) || !bizIsDigit(s[4]) {
		return 0, bizMalformedClock(s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, bizMalformedClock(s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func bizIsDigit(ch byte) bool { return '0' <= ch && ch <= '9' }

func bizMalformedClock(s string) error {
	return fmt.Errorf("malformed time %q (want HH:MM between 00:00 and 24:00)", s)
}

func bizFormatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func bizWeekdayIndex(key string) int {
	for i, k := range bizWeekdayKeys {
		if k == key {
			return i
		}
	}
	return -1
}

// bizLocations caches loaded time zones by name; *time.Location is immutable and safe to share.
var bizLocations sync.Map // string -> *time.Location

func bizLoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if cached, ok := bizLocations.Load(name); ok {
		return cached.(*time.Location), nil
	}
	// "Local" depends on the host's configuration, which would make workflows non-deterministic.
	if strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("time_zone: %q is not allowed, use an IANA name such as \"Europe/Moscow\"", name)
	}
	data, ok := zoneData(name)
	if !ok {
		return nil, fmt.Errorf("time_zone: unknown time zone %q", name)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("time_zone: unknown time zone %q", name)
	}
	bizLocations.Store(name, loc)
	return loc, nil
}

// zoneinfo is Go's time zone database (GOROOT/lib/time/zoneinfo.zip), embedded so that deadlines
// never depend on the tzdata of the host a worker runs on.
//
//go:embed zoneinfo.zip
var zoneinfo []byte

var zoneIndex = sync.OnceValue(func() map[string]*zip.File {
	r, err := zip.NewReader(bytes.NewReader(zoneinfo), int64(len(zoneinfo)))
	if err != nil {
		panic("workflows: embedded zoneinfo.zip: " + err.Error())
	}
	index := make(map[string]*zip.File, len(r.File))
	for _, f := range r.File {
		index[f.Name] = f
	}
	return index
})

// zoneData returns a zone's TZif data from the embedded database.
func zoneData(name string) ([]byte, bool) {
	f, ok := zoneIndex()[name]
	if !ok {
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return data, err == nil
}

// bizDayNumber returns the number of days since 1970-01-01 of a UTC midnight.
func bizDayNumber(midnight time.Time) int64 {
	return bizFloorDiv(midnight.Unix(), 86400)
}

func bizFloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// bizWeekdayOf returns the weekday of a day number (1970-01-01 was a Thursday).
func bizWeekdayOf(day int64) time.Weekday {
	w := (day + int64(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

func (bc *bizCalendar) isHoliday(day int64) bool {
	if len(bc.holidays) == 0 {
		return false
	}
	_, ok := bc.holidays[day]
	return ok
}

func (bc *bizCalendar) isOpen(t time.Time) bool {
	if bc.always {
		return true
	}
	lt := t.In(bc.loc)
	y, mo, d := lt.Date()
	if bc.isHoliday(bizDayNumber(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC))) {
		return false
	}
	h, m, s := lt.Clock()
	tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(lt.Nanosecond())
	for _, sp := range bc.week[lt.Weekday()] {
		if tod >= sp.start && tod < sp.end {
			return true
		}
	}
	return false
}

// walk calls fn with the open intervals [a, b) within [from, to), in chronological order, until
// fn returns false. Adjacent intervals may be reported separately (at local midnight or at zone
// offset changes).
//
// It walks the time line in segments of constant UTC offset (time.Time.ZoneBounds). Within a
// segment local wall-clock time is the real instant shifted by the offset, so the open wall-clock
// intervals of each local day map back to real instants by subtracting the offset.
func (bc *bizCalendar) walk(from, to time.Time, fn func(a, b time.Time) bool) {
	cur := from
	for cur.Before(to) {
		lt := cur.In(bc.loc)
		_, offSec := lt.Zone()
		_, end := lt.ZoneBounds()
		if end.IsZero() || end.After(to) || !end.After(cur) {
			end = to
		}
		off := time.Duration(offSec) * time.Second
		wcur := cur.UTC().Add(off) // local wall clock as if it were UTC
		wend := end.UTC().Add(off)
		y, mo, d := wcur.Date()
		midnight := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		day := bizDayNumber(midnight)
		for midnight.Before(wend) {
			if !bc.isHoliday(day) {
				for _, sp := range bc.week[bizWeekdayOf(day)] {
					a := midnight.Add(sp.start)
					b := midnight.Add(sp.end)
					if a.Before(wcur) {
						a = wcur
					}
					if b.After(wend) {
						b = wend
					}
					if a.Before(b) && !fn(a.Add(-off), b.Add(-off)) {
						return
					}
				}
			}
			midnight = midnight.Add(bizDay)
			day++
		}
		cur = end
	}
}

func (bc *bizCalendar) addBusiness(from time.Time, d time.Duration) (time.Time, error) {
	if bc.always {
		return from.Add(d), nil
	}
	horizon := from.Add(d).AddDate(bizSearchYears, 0, 0)
	remaining := d
	var result time.Time
	found := false
	bc.walk(from, horizon, func(a, b time.Time) bool {
		if l := b.Sub(a); l < remaining {
			remaining -= l
			return true
		}
		result = a.Add(remaining)
		found = true
		return false
	})
	if !found {
		return time.Time{}, fmt.Errorf("%w: %v of business time from %s not reached by the search limit %s (from+d+%d years)",
			ErrNoBusinessTime, d, from.Format(time.RFC3339Nano), horizon.Format(time.RFC3339Nano), bizSearchYears)
	}
	return result.In(from.Location()), nil
}

func (bc *bizCalendar) between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if span := to.Sub(from); span == bizMaxSpan {
		// Possibly saturated: truncate the walk to the range of time.Duration.
		to = from.Add(bizMaxSpan)
	}
	if bc.always {
		return to.Sub(from)
	}
	var total time.Duration
	bc.walk(from, to, func(a, b time.Time) bool {
		total += b.Sub(a) // cannot overflow: the sum is at most to.Sub(from)
		return true
	})
	return total
}
