package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/workflowservice/v1"
)

// Report is everything one run measured; -json writes it as is.
type Report struct {
	Started  time.Time         `json:"started"`
	Seconds  float64           `json:"seconds"`
	Mode     string            `json:"mode"`
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Settings map[string]string `json:"settings"`
	options  options
	Postgres map[string]string `json:"postgres_settings"`

	B1  *Throughput  `json:"b1_signal_with_start,omitempty"`
	B2  *Throughput  `json:"b2_signal,omitempty"`
	B6a []PGBaseline `json:"b6a_insert_commit,omitempty"`

	S1        []RateResult    `json:"s1_open_loop,omitempty"`
	S1MaxRate float64         `json:"s1_max_rate"`
	S1c       *ClosedResult   `json:"s1c_closed_loop,omitempty"`
	S2        *S2Result       `json:"s2_new_conversations,omitempty"`
	S3        *S3Result       `json:"s3_operator_actions,omitempty"`
	S5        []MemoryPoint   `json:"s5_memory,omitempty"`
	S9        *S9Result       `json:"s9_conversation_list,omitempty"`
	Q1        *Q1Result       `json:"q1_search,omitempty"`
	R1        *R1Result       `json:"r1_reports,omitempty"`
	W1        []WebhookResult `json:"w1_webhooks,omitempty"`
	M1        *MailResult     `json:"m1_mail_backlog,omitempty"`
	Ratios    map[string]any  `json:"ratios"`
	Notes     []string        `json:"notes,omitempty"`
	Errors    []string        `json:"errors,omitempty"`
}

// PGBaseline is B6a on some connections.
type PGBaseline struct {
	Connections int `json:"connections"`
	Throughput
}

// Machine is where the run happened.
type Machine struct {
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	MemoryMB int64  `json:"memory_mb"`
	Kernel   string `json:"kernel,omitempty"`
	Load     string `json:"load_average_at_start,omitempty"`
}

func newReport(o options) *Report {
	mode := "full"
	if o.Smoke {
		mode = "smoke"
	}
	r := &Report{Started: time.Now(), Mode: mode, Settings: o.flags, options: o, Versions: map[string]string{"go (bench)": runtime.Version()},
		Postgres: map[string]string{}, Ratios: map[string]any{}}
	r.Machine = machine()
	return r
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if kb, err := procFileKB("/proc/meminfo", "MemTotal"); err == nil {
		m.MemoryMB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

func procFileKB(path, field string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			_, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("no %s in %s", field, path)
}

// finish records versions and settings of the stack and computes the ratios.
func (r *Report) finish(ctx context.Context, st *stack) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r.Seconds = time.Since(r.Started).Seconds()
	for k, v := range st.buildVersions() {
		r.Versions[k] = v
	}
	if st.tc != nil {
		if info, err := st.tc.WorkflowService().GetSystemInfo(ctx, &workflowservice.GetSystemInfoRequest{}); err == nil {
			r.Versions["temporal server (running)"] = info.GetServerVersion()
		}
	}
	if st.pool != nil {
		var v string
		if err := st.pool.QueryRow(ctx, `SHOW server_version`).Scan(&v); err == nil {
			r.Versions["postgresql"] = v
		}
		for _, name := range []string{"synchronous_commit", "shared_buffers", "max_connections", "fsync", "wal_level"} {
			if err := st.pool.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&v); err == nil {
				r.Postgres[name] = v
			}
		}
	}
	if st.managed() {
		r.Versions["temporal persistence"] = "linedesk dev: embedded server, SQLite file (WAL, synchronous=NORMAL), 1 history shard"
		if st.temporalDB == "postgres" {
			r.Versions["temporal persistence"] = "linedesk dev: embedded server, PostgreSQL databases beside linedesk's, 1 history shard"
		}
	}
	// R1 = S2 / B1, R2 = S1 max rate / B2, R3 = S1c / B6a at 4 connections.
	if r.S2 != nil && r.B1 != nil && r.B1.PerSecond > 0 {
		r.Ratios["R1 = S2 conversations/s / B1 starts/s"] = round2(r.S2.PerSecond / r.B1.PerSecond)
	}
	if r.B2 != nil && r.B2.PerSecond > 0 && len(r.S1) > 0 {
		r.Ratios["R2 = S1 max sustained msg/s / B2 signals/s"] = round2(r.S1MaxRate / r.B2.PerSecond)
	}
	if r.S1c != nil {
		for _, b := range r.B6a {
			if b.Connections == 4 && b.PerSecond > 0 {
				r.Ratios["R3 = S1c msg/s / B6a commits/s (4 connections)"] = round2(r.S1c.Ack.PerSecond / b.PerSecond)
			}
		}
	}
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeText prints the readable report.
func (r *Report) writeText(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	ms := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	p("linedesk-bench (%s run, %s, %.0f s)", r.Mode, r.Started.Format(time.RFC3339), r.Seconds)
	p("machine\t%s, %d cores, %d MB memory, kernel %s, load at start %s", r.Machine.CPU, r.Machine.Cores, r.Machine.MemoryMB, r.Machine.Kernel, r.Machine.Load)
	keys := make([]string, 0, len(r.Versions))
	for k := range r.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p("version\t%s\t%s", k, r.Versions[k])
	}
	pg := make([]string, 0, len(r.Postgres))
	for k, v := range r.Postgres {
		pg = append(pg, k+"="+v)
	}
	slices.Sort(pg)
	p("postgresql\t%s", strings.Join(pg, " "))
	s := r.options
	p("settings\tbaselines %s x %d callers, %d idle workflows; S1 %d open conversations, rates %v msg/s for %s each (%s arrivals); clients %d; S1c %s; S2 %s; S3 %d conversations, %d operators; S5 %v; S9 %d conversations / %d messages, %d requests x %d",
		s.BaselineDuration, s.BaselineConcurrency, s.IdleWorkflows, s.OpenConversations, s.Rates, s.RateDuration,
		map[bool]string{true: "Poisson", false: "constant"}[s.Poisson], s.Clients, s.ClosedDuration, s.S2Duration, s.S3Conversations,
		s.S3Operators, s.MemorySizes, s.SeedConversations, s.SeedMessages, s.ListRequests, s.ListConcurrency)
	p("")
	p("workload\trate/s\tok\tfailed\tp50 ms\tp99 ms\tmax ms\tnotes")
	row := func(name string, t Throughput, note string) {
		p("%s\t%.1f\t%d\t%d\t%s\t%s\t%s\t%s", name, t.PerSecond, t.OK, t.Failed+t.Dropped, ms(t.Latency.P50), ms(t.Latency.P99), ms(t.Latency.Max), note)
	}
	if r.B1 != nil {
		row("B1 SignalWithStart, new workflows", *r.B1, "RPC ack")
	}
	if r.B2 != nil {
		row("B2 Signal to idle workflows", *r.B2, fmt.Sprintf("%d workflows", s.IdleWorkflows))
	}
	for _, b := range r.B6a {
		row(fmt.Sprintf("B6a INSERT commit, %d conn", b.Connections), b.Throughput, "")
	}
	for _, x := range r.S1 {
		note := fmt.Sprintf("visible p50 %s p99 %s ms, on the event stream p50 %s p99 %s ms",
			ms(x.Visible.P50), ms(x.Visible.P99), ms(x.Streamed.P50), ms(x.Streamed.P99))
		if x.Unstreamed > 0 {
			note += fmt.Sprintf(", %d never on the stream", x.Unstreamed)
		}
		if x.Invisible > 0 {
			note += fmt.Sprintf(", %d never visible", x.Invisible)
		}
		if x.Sustained {
			note += ", sustained"
		}
		row(fmt.Sprintf("S1 inbound at %.0f/s (ack)", x.Rate), x.Ack, note)
	}
	if len(r.S1) > 0 {
		p("S1 max sustained rate\t%.0f\t\t\t\t\t\tvisible p99 < %s, no errors or drops", r.S1MaxRate, s.VisibleTarget)
	}
	if r.S1c != nil {
		row(fmt.Sprintf("S1c closed loop, %d clients (ack)", r.S1c.Clients), r.S1c.Ack,
			fmt.Sprintf("visible p50 %s p99 %s ms", ms(r.S1c.Visible.P50), ms(r.S1c.Visible.P99)))
	}
	if r.S2 != nil {
		row(fmt.Sprintf("S2 new contacts, %d clients (ack)", r.S2.Clients), r.S2.Ack,
			fmt.Sprintf("%.1f conversations/s unassigned (%d); visible p99 %s ms; all visible %.1f s after", r.S2.PerSecond,
				r.S2.Conversations, ms(r.S2.Visible.P99), r.S2.AllVisibleAfter))
	}
	if r.S3 != nil {
		row(fmt.Sprintf("S3 operator actions, %d operators", r.S3.Operators), r.S3.Total, fmt.Sprintf("%d refused (409)", r.S3.Rejected))
		for _, k := range []string{"take", "reply", "close"} {
			row("  S3 "+k, r.S3.Actions[k], "")
		}
	}
	if r.S9 != nil {
		row(fmt.Sprintf("S9 list, %d conversations", r.S9.Conversations), r.S9.Overall, fmt.Sprintf("seeded in %.1f s", r.S9.SeedSeconds))
		for _, q := range r.S9.Queries {
			p("  S9 %s\t\t%d\t\t%s\t%s\t%s\t%.1f SQL statements/request", q.Name, q.Latency.Count, ms(q.Latency.P50), ms(q.Latency.P99), ms(q.Latency.Max), q.StatementsPerRequest)
		}
	}
	if r.Q1 != nil {
		row(fmt.Sprintf("Q1 search, %d messages", r.Q1.Messages), r.Q1.Overall, "")
		for _, q := range r.Q1.Queries {
			p("  Q1 %s\t\t%d\t\t%s\t%s\t%s\t%d hits on the first page", q.Name, q.Latency.Count, ms(q.Latency.P50), ms(q.Latency.P99), ms(q.Latency.Max), q.Hits)
		}
	}
	if r.R1 != nil {
		row(fmt.Sprintf("R1 reports, %d conversations", r.R1.Conversations), r.R1.Overall, "")
		for _, q := range r.R1.Queries {
			p("  R1 %s\t\t%d\t\t%s\t%s\t%s\t%d bytes", q.Name, q.Latency.Count, ms(q.Latency.P50), ms(q.Latency.P99), ms(q.Latency.Max), q.Bytes)
		}
	}
	for _, w := range r.W1 {
		row(fmt.Sprintf("W1 %s webhooks at %.0f/s, %d redelivered", w.Kind, w.Rate, w.Redelivered), w.Answered,
			fmt.Sprintf("%d messages stored for %d events, %d doubled", w.Stored, w.Webhooks-w.Redelivered, w.Doubled))
	}
	if m := r.M1; m != nil {
		p("M1 mail backlog, %d mails\t%.1f mails/s\timported in %.1f s (intake started %.1f s after the channel)\t%.1f ms CPU/mail\tall in conversations after %.1f s\t%d stored, %d doubled",
			m.Mails, m.PerSecond, m.Seconds, m.StartSeconds, m.CPUMillisPerMail, m.RoutedSeconds, m.Stored, m.Doubled)
	}
	if len(r.S5) > 0 {
		p("")
		p("S5 open idle conversations\tRSS KB before\tafter\tKB/conv\tGo heap KB/conv\tPostgreSQL anon KB/conv\topened in s")
		for _, m := range r.S5 {
			p("%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f", m.Conversations, m.RSSBeforeKB, m.RSSAfterKB, m.RSSPerConvKB, m.HeapPerConvKB, m.PostgresPerConvKB, m.OpenSeconds)
		}
	}
	p("")
	ratios := make([]string, 0, len(r.Ratios))
	for k := range r.Ratios {
		ratios = append(ratios, k)
	}
	slices.Sort(ratios)
	for _, k := range ratios {
		p("%s\t%v", k, r.Ratios[k])
	}
	for _, n := range r.Notes {
		p("note\t%s", n)
	}
	for _, e := range r.Errors {
		p("error\t%s", e)
	}
	w.Flush()
}
