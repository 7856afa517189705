package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// bhAt parses "2006-01-02 15:04:05.999999999" (seconds optional) as a wall-clock time in zone.
func bhAt(t testing.TB, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load %s: %v", zone, err)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04"} {
		if v, err := time.ParseInLocation(layout, s, loc); err == nil {
			return v
		}
	}
	t.Fatalf("bad test time %q", s)
	return time.Time{}
}

// bhDays returns a Week with the same periods on every listed weekday key.
func bhDays(keys []string, periods ...Period) map[string][]Period {
	w := make(map[string][]Period, len(keys))
	for _, k := range keys {
		w[k] = append([]Period(nil), periods...)
	}
	return w
}

var (
	bhWorkdays = []string{"mon", "tue", "wed", "thu", "fri"}
	bhAllDays  = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

func bhMoscow9to18(holidays ...string) Calendar {
	return Calendar{
		TimeZone: "Europe/Moscow",
		Week:     bhDays(bhWorkdays, Period{"09:00", "18:00"}),
		Holidays: holidays,
	}
}

func TestBusinessHoursAddBusiness(t *testing.T) {
	const msk = "Europe/Moscow"
	split := Calendar{
		TimeZone: msk,
		Week:     bhDays(bhWorkdays, Period{"14:00", "18:00"}, Period{"09:00", "13:00"}),
	}
	berlinNight := Calendar{TimeZone: "Europe/Berlin", Week: bhDays(bhAllDays, Period{"01:00", "04:00"})}
	nyNight := Calendar{TimeZone: "America/New_York", Week: bhDays(bhAllDays, Period{"01:00", "04:00"})}
	overMidnight := Calendar{
		TimeZone: msk,
		Week:     bhDays(bhAllDays, Period{"00:00", "02:00"}, Period{"20:00", "24:00"}),
	}
	kolkata := Calendar{TimeZone: "Asia/Kolkata", Week: bhDays(bhWorkdays, Period{"10:00", "19:00"})}

	tests := []struct {
		name string
		cal  Calendar
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"friday afternoon over weekend", bhMoscow9to18(), bhAt(t, msk, "2026-03-06 16:00"), 8 * time.Hour, bhAt(t, msk, "2026-03-09 15:00")},
		{"over weekend and holiday monday", bhMoscow9to18("2026-03-09"), bhAt(t, msk, "2026-03-06 16:00"), 8 * time.Hour, bhAt(t, msk, "2026-03-10 15:00")},
		{"two periods skip lunch", split, bhAt(t, msk, "2026-03-09 12:00"), 2 * time.Hour, bhAt(t, msk, "2026-03-09 15:00")},
		{"two periods from lunch", split, bhAt(t, msk, "2026-03-09 13:20"), 30 * time.Minute, bhAt(t, msk, "2026-03-09 14:30")},
		{"two periods end exactly at end of first", split, bhAt(t, msk, "2026-03-09 12:00"), time.Hour, bhAt(t, msk, "2026-03-09 13:00")},
		{"from before opening", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 07:30"), time.Hour, bhAt(t, msk, "2026-03-09 10:00")},
		{"from exactly at opening", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 09:00"), 9 * time.Hour, bhAt(t, msk, "2026-03-09 18:00")},
		{"from exactly at end of day", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 18:00"), time.Hour, bhAt(t, msk, "2026-03-10 10:00")},
		{"from exactly at end of morning period", split, bhAt(t, msk, "2026-03-09 13:00"), 30 * time.Minute, bhAt(t, msk, "2026-03-09 14:30")},
		{"from inside a holiday", bhMoscow9to18("2026-03-09"), bhAt(t, msk, "2026-03-09 11:00"), 2 * time.Hour, bhAt(t, msk, "2026-03-10 11:00")},
		{"from on saturday", bhMoscow9to18(), bhAt(t, msk, "2026-03-07 12:00"), 30 * time.Minute, bhAt(t, msk, "2026-03-09 09:30")},
		{"40h across new year holidays", bhMoscow9to18("2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"),
			bhAt(t, msk, "2025-12-30 10:00"), 40 * time.Hour, bhAt(t, msk, "2026-01-13 14:00")},
		{"always open", Calendar{TimeZone: msk}, bhAt(t, msk, "2026-03-06 16:00"), 8 * time.Hour, bhAt(t, msk, "2026-03-07 00:00")},
		{"always open across spring forward is real time", Calendar{TimeZone: "Europe/Berlin"},
			bhAt(t, "Europe/Berlin", "2026-03-28 22:00"), 8 * time.Hour, bhAt(t, "Europe/Berlin", "2026-03-29 07:00")},
		{"zero calendar is UTC around the clock", Calendar{}, bhAt(t, "UTC", "2026-03-06 16:00"), 90 * time.Minute, bhAt(t, "UTC", "2026-03-06 17:30")},
		{"d zero", bhMoscow9to18(), bhAt(t, msk, "2026-03-07 12:00"), 0, bhAt(t, msk, "2026-03-07 12:00")},
		{"d negative", bhMoscow9to18(), bhAt(t, msk, "2026-03-07 12:00"), -time.Hour, bhAt(t, msk, "2026-03-07 12:00")},
		{"sub-second precision", bhMoscow9to18(), bhAt(t, msk, "2026-03-06 17:59:59.5"), time.Second, bhAt(t, msk, "2026-03-09 09:00:00.5")},
		{"nanosecond precision", bhMoscow9to18(), bhAt(t, msk, "2026-03-06 17:59:59.999999999"), 2 * time.Nanosecond, bhAt(t, msk, "2026-03-09 09:00:00.000000001")},
		{"period ending at 24:00 continues after midnight", overMidnight, bhAt(t, msk, "2026-03-06 23:00"), 2 * time.Hour, bhAt(t, msk, "2026-03-07 01:00")},
		{"half-hour offset zone", kolkata, bhAt(t, "Asia/Kolkata", "2026-03-06 18:30"), time.Hour, bhAt(t, "Asia/Kolkata", "2026-03-09 10:30")},

		// Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
		// The period 01:00-04:00 has 2 real hours on the spring day and 4 on the autumn day.
		{"berlin spring forward day has 2h", berlinNight, bhAt(t, "Europe/Berlin", "2026-03-29 00:00"), 2 * time.Hour,
			bhAt(t, "Europe/Berlin", "2026-03-29 04:00")},
		{"berlin spring forward skips the gap", berlinNight, bhAt(t, "Europe/Berlin", "2026-03-29 01:30"), time.Hour,
			bhAt(t, "Europe/Berlin", "2026-03-29 03:30")},
		{"berlin spring forward spills to monday", berlinNight, bhAt(t, "Europe/Berlin", "2026-03-28 04:00"), 3 * time.Hour,
			bhAt(t, "Europe/Berlin", "2026-03-30 02:00")},
		{"berlin fall back day has 4h", berlinNight, bhAt(t, "Europe/Berlin", "2026-10-25 00:00"), 4 * time.Hour,
			bhAt(t, "Europe/Berlin", "2026-10-25 04:00")},
		{"berlin fall back repeats the hour", berlinNight, time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), 2 * time.Hour,
			time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)}, // 01:30 CEST + 2h = 02:30 CET
		{"new york spring forward", nyNight, bhAt(t, "America/New_York", "2026-03-08 00:00"), 2*time.Hour + 30*time.Minute,
			bhAt(t, "America/New_York", "2026-03-09 01:30")},
		{"new york fall back", nyNight, bhAt(t, "America/New_York", "2026-11-01 00:00"), 4 * time.Hour,
			bhAt(t, "America/New_York", "2026-11-01 04:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cal.AddBusiness(tt.from, tt.d)
			if err != nil {
				t.Fatalf("AddBusiness: %v", err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("AddBusiness(%s, %v) = %s, want %s", tt.from, tt.d, got, tt.want)
			}
			if got.Location() != tt.from.Location() {
				t.Errorf("result location %v, want from's location %v", got.Location(), tt.from.Location())
			}
			wantBetween := max(tt.d, 0)
			if b := tt.cal.BusinessBetween(tt.from, got); b != wantBetween {
				t.Errorf("BusinessBetween(from, result) = %v, want %v", b, wantBetween)
			}
		})
	}
}

func TestBusinessHoursAddBusinessErrors(t *testing.T) {
	from := bhAt(t, "Europe/Moscow", "2026-03-06 16:00")

	// Open only on Mondays, and every Monday of the next 11 years is a holiday.
	var holidays []string
	for day := from; day.Before(from.AddDate(11, 0, 0)); day = day.AddDate(0, 0, 1) {
		if day.Weekday() == time.Monday {
			holidays = append(holidays, day.Format(time.DateOnly))
		}
	}
	never := Calendar{TimeZone: "Europe/Moscow", Week: map[string][]Period{"mon": {{"09:00", "18:00"}}}, Holidays: holidays}
	if err := never.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := never.AddBusiness(from, time.Minute); !errors.Is(err, ErrNoBusinessTime) {
		t.Fatalf("AddBusiness on a never-open calendar: err = %v, want ErrNoBusinessTime", err)
	}
	if got, err := never.AddBusiness(from, 0); err != nil || !got.Equal(from) {
		t.Fatalf("AddBusiness(d=0) = %v, %v; want from, nil", got, err)
	}
	if b := never.BusinessBetween(from, from.AddDate(5, 0, 0)); b != 0 {
		t.Fatalf("BusinessBetween on a never-open calendar = %v, want 0", b)
	}

	invalid := Calendar{TimeZone: "Mars/Olympus_Mons"}
	if _, err := invalid.AddBusiness(from, time.Hour); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("AddBusiness on an invalid calendar: err = %v, want a time_zone error", err)
	}
}

func TestBusinessHoursBusinessBetween(t *testing.T) {
	const msk = "Europe/Moscow"
	berlinNight := Calendar{TimeZone: "Europe/Berlin", Week: bhDays(bhAllDays, Period{"01:00", "04:00"})}
	tests := []struct {
		name     string
		cal      Calendar
		from, to time.Time
		want     time.Duration
	}{
		{"friday to monday", bhMoscow9to18(), bhAt(t, msk, "2026-03-06 16:00"), bhAt(t, msk, "2026-03-09 15:00"), 8 * time.Hour},
		{"whole week", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 00:00"), bhAt(t, msk, "2026-03-16 00:00"), 45 * time.Hour},
		{"whole week with holiday", bhMoscow9to18("2026-03-11"), bhAt(t, msk, "2026-03-09 00:00"), bhAt(t, msk, "2026-03-16 00:00"), 36 * time.Hour},
		{"weekend", bhMoscow9to18(), bhAt(t, msk, "2026-03-07 00:00"), bhAt(t, msk, "2026-03-09 00:00"), 0},
		{"to equals from", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 10:00"), bhAt(t, msk, "2026-03-09 10:00"), 0},
		{"to before from", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 12:00"), bhAt(t, msk, "2026-03-09 10:00"), 0},
		{"inside one period", bhMoscow9to18(), bhAt(t, msk, "2026-03-09 10:00:00.25"), bhAt(t, msk, "2026-03-09 10:00:01"), 750 * time.Millisecond},
		{"always open", Calendar{TimeZone: "Europe/Berlin"}, bhAt(t, "Europe/Berlin", "2026-03-29 00:00"), bhAt(t, "Europe/Berlin", "2026-03-30 00:00"), 23 * time.Hour},
		{"berlin spring forward day", berlinNight, bhAt(t, "Europe/Berlin", "2026-03-29 00:00"), bhAt(t, "Europe/Berlin", "2026-03-30 00:00"), 2 * time.Hour},
		{"berlin fall back day", berlinNight, bhAt(t, "Europe/Berlin", "2026-10-25 00:00"), bhAt(t, "Europe/Berlin", "2026-10-26 00:00"), 4 * time.Hour},
		{"invalid calendar counts wall time", Calendar{TimeZone: "nope"}, bhAt(t, msk, "2026-03-07 00:00"), bhAt(t, msk, "2026-03-09 00:00"), 48 * time.Hour},
		{"huge span saturates", Calendar{}, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.BusinessBetween(tt.from, tt.to); got != tt.want {
				t.Fatalf("BusinessBetween(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestBusinessHoursIsOpen(t *testing.T) {
	const msk = "Europe/Moscow"
	cal := bhMoscow9to18("2026-03-10")
	berlinNight := Calendar{TimeZone: "Europe/Berlin", Week: bhDays(bhAllDays, Period{"02:30", "04:00"})}
	tests := []struct {
		cal  Calendar
		at   time.Time
		want bool
	}{
		{cal, bhAt(t, msk, "2026-03-09 08:59:59.999999999"), false},
		{cal, bhAt(t, msk, "2026-03-09 09:00"), true},
		{cal, bhAt(t, msk, "2026-03-09 17:59:59.999999999"), true},
		{cal, bhAt(t, msk, "2026-03-09 18:00"), false},
		{cal, bhAt(t, msk, "2026-03-10 12:00"), false}, // holiday
		{cal, bhAt(t, msk, "2026-03-07 12:00"), false}, // saturday
		{cal, time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC), true},
		{Calendar{}, time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC), true},
		{Calendar{TimeZone: "bogus/zone"}, time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC), true},
		// Fall back in Berlin: 00:30 UTC is 02:30 CEST (open), 01:00 UTC is 02:00 CET (closed),
		// 01:30 UTC is 02:30 CET (open again).
		{berlinNight, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), true},
		{berlinNight, time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), false},
		{berlinNight, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), true},
	}
	for i, tt := range tests {
		if got := tt.cal.IsOpen(tt.at); got != tt.want {
			t.Errorf("case %d: IsOpen(%s) = %v, want %v", i, tt.at, got, tt.want)
		}
	}
}

func TestCalendarAlwaysOpen(t *testing.T) {
	tests := []struct {
		name string
		cal  Calendar
		want bool
	}{
		{"zero value", Calendar{}, true},
		{"zone and empty days", Calendar{TimeZone: "Europe/Moscow", Week: map[string][]Period{"mon": {}, "sun": nil}}, true},
		{"full days", Calendar{Week: bhDays(bhAllDays, Period{"00:00", "24:00"})}, true},
		{"full days split", Calendar{Week: bhDays(bhAllDays, Period{"12:00", "24:00"}, Period{"00:00", "12:00"})}, true},
		{"one day missing", Calendar{Week: bhDays(bhWorkdays, Period{"00:00", "24:00"})}, false},
		{"holidays", Calendar{Holidays: []string{"2026-01-01"}}, false},
		{"business hours", bhMoscow9to18(), false},
		{"invalid", Calendar{TimeZone: "nope"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.AlwaysOpen(); got != tt.want {
				t.Fatalf("AlwaysOpen() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCalendarValidate(t *testing.T) {
	tests := []struct {
		name string
		cal  Calendar
		want []string // substrings of the error; nil = valid
	}{
		{"zero value", Calendar{}, nil},
		{"typical", bhMoscow9to18("2026-01-07"), nil},
		{"adjacent and unordered periods, 24:00", Calendar{TimeZone: "Asia/Kolkata", Week: map[string][]Period{
			"sat": {{"13:00", "24:00"}, {"00:00", "09:00"}, {"09:00", "13:00"}},
		}}, nil},
		{"unknown time zone", Calendar{TimeZone: "Mars/Olympus_Mons"}, []string{`time_zone: unknown time zone "Mars/Olympus_Mons"`}},
		{"local time zone", Calendar{TimeZone: "Local"}, []string{`time_zone: "Local" is not allowed`}},
		{"unknown weekday", Calendar{Week: map[string][]Period{"monday": {{"09:00", "18:00"}}}}, []string{`week: unknown weekday key "monday"`}},
		{"upper-case weekday", Calendar{Week: map[string][]Period{"Mon": nil}}, []string{`week: unknown weekday key "Mon"`}},
		{"short hour", Calendar{Week: map[string][]Period{"tue": {{"9:00", "18:00"}}}}, []string{`week.tue[0].start: malformed time "9:00"`}},
		{"hour 25", Calendar{Week: map[string][]Period{"tue": {{"09:00", "25:00"}}}}, []string{`week.tue[0].end: malformed time "25:00"`}},
		{"24:30", Calendar{Week: map[string][]Period{"tue": {{"09:00", "24:30"}}}}, []string{`week.tue[0].end: malformed time "24:30"`}},
		{"minute 60", Calendar{Week: map[string][]Period{"tue": {{"09:60", "18:00"}}}}, []string{`week.tue[0].start: malformed time "09:60"`}},
		{"seconds", Calendar{Week: map[string][]Period{"tue": {{"09:00:00", "18:00"}}}}, []string{`week.tue[0].start: malformed time "09:00:00"`}},
		{"letters", Calendar{Week: map[string][]Period{"tue": {{"ab:cd", "18:00"}}}}, []string{`week.tue[0].start: malformed time "ab:cd"`}},
		{"empty", Calendar{Week: map[string][]Period{"tue": {{"", ""}}}}, []string{`week.tue[0].start: malformed time ""`, `week.tue[0].end: malformed time ""`}},
		{"start after end", Calendar{Week: map[string][]Period{"mon": {{"09:00", "11:00"}, {"13:00", "12:00"}}}},
			[]string{`week.mon[1]: start 13:00 is not before end 12:00`}},
		{"start equals end", Calendar{Week: map[string][]Period{"fri": {{"10:00", "10:00"}}}}, []string{`week.fri[0]: start 10:00 is not before end 10:00`}},
		{"start 24:00", Calendar{Week: map[string][]Period{"fri": {{"24:00", "24:00"}}}}, []string{`week.fri[0]: start 24:00 is not before end 24:00`}},
		{"overlap", Calendar{Week: map[string][]Period{"wed": {{"09:00", "13:00"}, {"12:00", "15:00"}}}},
			[]string{`week.wed[1]: 12:00-15:00 overlaps week.wed[0] 09:00-13:00`}},
		{"overlap unordered", Calendar{Week: map[string][]Period{"wed": {{"12:00", "15:00"}, {"09:00", "13:00"}}}},
			[]string{`week.wed[1]: 09:00-13:00 overlaps week.wed[0] 12:00-15:00`}},
		{"overlap nested past a shorter period", Calendar{Week: map[string][]Period{"thu": {{"09:00", "18:00"}, {"10:00", "11:00"}, {"12:00", "13:00"}}}},
			[]string{`week.thu[1]: 10:00-11:00 overlaps week.thu[0] 09:00-18:00`, `week.thu[2]: 12:00-13:00 overlaps week.thu[0] 09:00-18:00`}},
		{"duplicate period", Calendar{Week: map[string][]Period{"thu": {{"09:00", "18:00"}, {"09:00", "18:00"}}}},
			[]string{`week.thu[1]: 09:00-18:00 overlaps week.thu[0] 09:00-18:00`}},
		{"malformed holiday", Calendar{Holidays: []string{"2026-01-07", "07.01.2026"}}, []string{`holidays[1]: malformed date "07.01.2026"`}},
		{"impossible holiday", Calendar{Holidays: []string{"2026-02-30"}}, []string{`holidays[0]: malformed date "2026-02-30"`}},
		{"holiday with time", Calendar{Holidays: []string{"2026-01-07T00:00:00Z"}}, []string{`holidays[0]: malformed date`}},
		{"several errors", Calendar{
			TimeZone: "Nowhere/Land",
			Week:     map[string][]Period{"xyz": nil, "abc": nil, "sun": {{"18:00", "09:00"}}},
			Holidays: []string{"tomorrow"},
		}, []string{
			`time_zone: unknown time zone "Nowhere/Land"`,
			`week: unknown weekday key "abc"`,
			`week: unknown weekday key "xyz"`,
			`week.sun[0]: start 18:00 is not before end 09:00`,
			`holidays[0]: malformed date "tomorrow"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cal.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tt.want)
			}
			pos := 0
			for _, w := range tt.want {
				i := strings.Index(err.Error()[pos:], w)
				if i < 0 {
					t.Fatalf("Validate() = %q, want it to contain %q (in this order)", err, w)
				}
				pos += i + len(w)
			}
			// Messages are deterministic despite map iteration.
			for range 20 {
				if again := tt.cal.Validate(); again.Error() != err.Error() {
					t.Fatalf("Validate() not deterministic: %q vs %q", again, err)
				}
			}
			if tt.cal.AlwaysOpen() || tt.cal.IsOpen(time.Time{}) != true {
				t.Fatalf("invalid calendar: AlwaysOpen must be false and IsOpen true")
			}
		})
	}
}

func TestCalendarJSON(t *testing.T) {
	const in = `{"time_zone":"Europe/Moscow","week":{"mon":[{"start":"09:00","end":"18:00"}],"sat":[]},"holidays":["2026-01-07"]}`
	var c Calendar
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
	out, _ = json.Marshal(Calendar{})
	if string(out) != `{"time_zone":"","week":null}` {
		t.Fatalf("zero value JSON = %s", out)
	}
}

// ---------------------------------------------------------------------------------------------
// Property test against a minute-by-minute oracle.

// bhOracle is an independent, naive implementation of the calendar definition, built from the
// same integers the random calendar was generated from (not from the strings).
type bhOracle struct {
	loc      *time.Location
	week     [7][][2]int  // minutes of day, by time.Weekday
	holidays map[int]bool // y*10000+m*100+d
}

// open reports whether the minute starting at t is open.
func (o *bhOracle) open(t time.Time) bool {
	lt := t.In(o.loc)
	y, m, d := lt.Date()
	if o.holidays[y*10000+int(m)*100+d] {
		return false
	}
	hh, mm, _ := lt.Clock()
	mod := hh*60 + mm
	for _, p := range o.week[lt.Weekday()] {
		if mod >= p[0] && mod < p[1] {
			return true
		}
	}
	return false
}

var bhOracleZones = []string{"UTC", "Europe/Moscow", "Asia/Kolkata", "America/New_York", "Europe/Berlin"}

// bhDSTAnchors are 2026 DST changes (as UTC instants), keyed by zone.
var bhDSTAnchors = map[string][]time.Time{
	"America/New_York": {time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
	"Europe/Berlin":    {time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)},
}

func bhClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// bhRandomCalendar returns a random valid calendar, its oracle and a random minute-aligned
// instant in a ~3-week window (spanning a DST change for DST zones).
func bhRandomCalendar(t testing.TB, rng *rand.Rand) (Calendar, *bhOracle, time.Time) {
	zone := bhOracleZones[rng.Intn(len(bhOracleZones))]
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	cal := Calendar{TimeZone: zone, Week: map[string][]Period{}}
	if zone == "UTC" && rng.Intn(2) == 0 {
		cal.TimeZone = ""
	}
	o := &bhOracle{loc: loc, holidays: map[int]bool{}}
	alwaysOpen := rng.Intn(30) == 0
	hasPeriods := false
	for wd := range 7 {
		if alwaysOpen || rng.Intn(6) == 0 {
			if rng.Intn(2) == 0 {
				cal.Week[bizWeekdayKeys[wd]] = []Period{} // present but closed
			}
			continue
		}
		n := rng.Intn(4) // 0..3 periods
		// Choose 2n distinct cut points in [0, 1440] (biased towards the DST hours 0-5),
		// optionally letting neighbouring periods touch.
		cuts := map[int]bool{}
		for len(cuts) < 2*n {
			var c int
			if rng.Intn(3) == 0 {
				c = rng.Intn(6*60 + 1)
			} else {
				c = rng.Intn(24*60 + 1)
			}
			cuts[c] = true
		}
		points := make([]int, 0, 2*n)
		for c := 0; c <= 24*60; c++ {
			if cuts[c] {
				points = append(points, c)
			}
		}
		var periods []Period
		for i := 0; i < n; i++ {
			s, e := points[2*i], points[2*i+1]
			if i > 0 && rng.Intn(4) == 0 && o.week[wd][len(o.week[wd])-1][1] < s {
				// make it adjacent to the previous period
				s = o.week[wd][len(o.week[wd])-1][1]
			}
			o.week[wd] = append(o.week[wd], [2]int{s, e})
			periods = append(periods, Period{bhClock(s), bhClock(e)})
			hasPeriods = true
		}
		rng.Shuffle(len(periods), func(i, j int) { periods[i], periods[j] = periods[j], periods[i] })
		cal.Week[bizWeekdayKeys[wd]] = periods
	}
	if !hasPeriods {
		for wd := range 7 {
			o.week[wd] = [][2]int{{0, 24 * 60}}
		}
	}

	var from time.Time
	if anchors := bhDSTAnchors[zone]; anchors != nil {
		anchor := anchors[rng.Intn(len(anchors))]
		from = anchor.Add(-14*24*time.Hour + time.Duration(rng.Intn(21*24*60))*time.Minute)
	} else {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		from = base.Add(time.Duration(rng.Intn(365*24*60)) * time.Minute)
	}

	if !alwaysOpen || rng.Intn(2) == 0 {
		for range rng.Intn(6) { // 0..5 holidays within a few weeks of from
			y, m, d := from.In(loc).AddDate(0, 0, rng.Intn(30)-2).Date()
			cal.Holidays = append(cal.Holidays, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			o.holidays[y*10000+int(m)*100+d] = true
		}
	}

	// Round-trip through JSON, as calendars are stored and passed to workflows as JSON.
	raw, err := json.Marshal(cal)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Calendar
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	return decoded, o, from
}

func TestBusinessHoursMatchesMinuteOracle(t *testing.T) {
	const (
		shards       = 4
		perShard     = 750 // random calendars per shard (3000 in total)
		horizonMin   = 4 * 7 * 24 * 60
		maxBusinessM = 3000
	)
	for shard := range shards {
		t.Run(fmt.Sprintf("shard%d", shard), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewSource(20260301 + int64(shard)))
			for i := range perShard {
				cal, o, from := bhRandomCalendar(t, rng)
				if err := cal.Validate(); err != nil {
					t.Fatalf("case %d: generated calendar is invalid: %v\n%+v", i, err, cal)
				}
				dMin := 1 + rng.Intn(maxBusinessM)
				d := time.Duration(dMin) * time.Minute
				spanMin := rng.Intn(horizonMin)

				// Oracle: walk minute by minute until d is reached and the span is covered.
				count, spanCount := 0, -1
				var want time.Time
				reached := false
				for m := 0; m < horizonMin; m++ {
					if m == spanMin {
						spanCount = count
					}
					at := from.Add(time.Duration(m) * time.Minute)
					open := o.open(at)
					if m%211 == 0 {
						if got := cal.IsOpen(at.Add(time.Duration(rng.Int63n(int64(time.Minute))))); got != open {
							t.Fatalf("case %d: IsOpen(%s) = %v, oracle %v\ncalendar %+v", i, at, got, open, cal)
						}
					}
					if open {
						count++
						if count == dMin && !reached {
							want = at.Add(time.Minute)
							reached = true
						}
					}
					if reached && m >= spanMin {
						break
					}
				}

				got, err := cal.AddBusiness(from, d)
				switch {
				case reached:
					if err != nil || !got.Equal(want) {
						t.Fatalf("case %d: AddBusiness(%s, %v) = %s, %v; oracle %s\ncalendar %+v",
							i, from.In(o.loc), d, got.In(o.loc), err, want.In(o.loc), cal)
					}
					if b := cal.BusinessBetween(from, got); b != d {
						t.Fatalf("case %d: BusinessBetween(from, AddBusiness) = %v, want %v", i, b, d)
					}
				default:
					end := from.Add(horizonMin * time.Minute)
					if err == nil && !got.After(end) {
						t.Fatalf("case %d: AddBusiness(%s, %v) = %s, but the oracle did not reach it by %s\ncalendar %+v",
							i, from, d, got, end, cal)
					}
					if err != nil && !errors.Is(err, ErrNoBusinessTime) {
						t.Fatalf("case %d: unexpected error %v", i, err)
					}
					if b := cal.BusinessBetween(from, end); b != time.Duration(count)*time.Minute {
						t.Fatalf("case %d: BusinessBetween over the horizon = %v, oracle %d min", i, b, count)
					}
				}

				span := time.Duration(spanMin) * time.Minute
				if b := cal.BusinessBetween(from, from.Add(span)); b != time.Duration(spanCount)*time.Minute {
					t.Fatalf("case %d: BusinessBetween(%s, +%v) = %v, oracle %d min\ncalendar %+v",
						i, from.In(o.loc), span, b, spanCount, cal)
				}
			}
		})
	}
}

// TestBusinessHoursSubMinuteMatchesOracle checks nanosecond-exact results for instants that are
// not on minute boundaries, using the fact that openness is constant within each minute.
func TestBusinessHoursSubMinuteMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := range 500 {
		cal, o, from := bhRandomCalendar(t, rng)
		from = from.Add(time.Duration(rng.Int63n(int64(time.Minute))))
		to := from.Add(time.Duration(rng.Int63n(int64(3 * 24 * time.Hour))))

		// Oracle: sum over the minutes overlapping [from, to) of the open part.
		var want time.Duration
		for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
			if !o.open(m) {
				continue
			}
			a, b := m, m.Add(time.Minute)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			want += b.Sub(a)
		}
		if got := cal.BusinessBetween(from, to); got != want {
			t.Fatalf("case %d: BusinessBetween(%s, %s) = %v, oracle %v\ncalendar %+v", i, from, to, got, want, cal)
		}

		// AddBusiness inverts BusinessBetween, and its result is the earliest such instant:
		// the nanosecond just before it is open.
		if want > 0 {
			d := time.Duration(rng.Int63n(int64(want))) + 1
			got, err := cal.AddBusiness(from, d)
			if err != nil {
				t.Fatalf("case %d: AddBusiness: %v", i, err)
			}
			if got.After(to) || cal.BusinessBetween(from, got) != d || !cal.IsOpen(got.Add(-1)) {
				t.Fatalf("case %d: AddBusiness(%s, %v) = %s is not the earliest instant with that business time",
					i, from, d, got)
			}
			// Additivity across an arbitrary split point.
			mid := from.Add(time.Duration(rng.Int63n(int64(to.Sub(from)) + 1)))
			if a, b := cal.BusinessBetween(from, mid), cal.BusinessBetween(mid, to); a+b != want {
				t.Fatalf("case %d: BusinessBetween not additive: %v + %v != %v", i, a, b, want)
			}
		}
	}
}

func FuzzCalendarValidate(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"time_zone":"Europe/Moscow","week":{"mon":[{"start":"09:00","end":"18:00"}]},"holidays":["2026-01-07"]}`,
		`{"time_zone":"Europe/Berlin","week":{"sun":[{"start":"01:00","end":"04:00"}],"sat":[{"start":"00:00","end":"24:00"}]}}`,
		`{"time_zone":"America/New_York","week":{"tue":[{"start":"13:00","end":"12:00"}]}}`,
		`{"time_zone":"Asia/Kolkata","week":{"wed":[{"start":"09:00","end":"13:00"},{"start":"12:00","end":"15:00"}]}}`,
		`{"time_zone":"Mars/Base","week":{"funday":[]},"holidays":["2026-02-30"]}`,
		`{"week":{"mon":[{"start":"00:00","end":"00:01"}]},"holidays":["2026-03-09","2026-03-16","2026-03-23"]}`,
		`{"time_zone":"Local"}`,
		`{"week":{"fri":[{"start":"23:59","end":"24:00"},{"start":"00:00","end":"00:01"}]}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	instants := []time.Time{
		time.Date(2026, 3, 28, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 10, 25, 0, 30, 0, 1, time.UTC),
		time.Date(2026, 11, 1, 5, 59, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Calendar
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			if c.AlwaysOpen() {
				t.Fatalf("invalid calendar reports AlwaysOpen")
			}
			if _, err := c.AddBusiness(instants[0], time.Hour); err == nil {
				t.Fatalf("AddBusiness accepted an invalid calendar")
			}
			return
		}
		always := c.AlwaysOpen()
		for _, from := range instants {
			d := 40 * time.Hour
			got, err := c.AddBusiness(from, d)
			if err != nil {
				if !errors.Is(err, ErrNoBusinessTime) || always {
					t.Fatalf("AddBusiness: unexpected error %v", err)
				}
			} else {
				if got.Before(from.Add(d)) {
					t.Fatalf("AddBusiness(%s, %v) = %s is earlier than from+d", from, d, got)
				}
				if b := c.BusinessBetween(from, got); b != d {
					t.Fatalf("BusinessBetween(from, AddBusiness) = %v, want %v", b, d)
				}
				if always && !got.Equal(from.Add(d)) {
					t.Fatalf("always-open calendar: AddBusiness = %s, want %s", got, from.Add(d))
				}
			}
			to := from.Add(30 * 24 * time.Hour)
			if b := c.BusinessBetween(from, to); b < 0 || b > to.Sub(from) {
				t.Fatalf("BusinessBetween out of range: %v", b)
			}
			_ = c.IsOpen(from)
		}
	})
}

func BenchmarkBusinessHoursAddBusiness40h(b *testing.B) {
	cal := bhMoscow9to18("2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08")
	from := bhAt(b, "Europe/Moscow", "2025-12-30 10:00")
	for b.Loop() {
		if _, err := cal.AddBusiness(from, 40*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
