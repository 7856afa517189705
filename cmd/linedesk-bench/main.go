// Command linedesk-bench measures linedesk on this machine in one run: the box's baselines (bare
// Temporal SignalWithStart and Signal against the same server, a single-row PostgreSQL commit)
// and the system through its public HTTP API (inbound messages to open conversations at fixed
// open-loop rates and in a closed loop, new conversations, operator actions, resident memory per
// open conversation, and the conversation list over a large seeded read model). It prints the
// ratios of the system to the baselines with the machine, versions and settings.
//
// By default it builds ./cmd/linedesk and starts `linedesk dev` itself on a fresh database, which
// it drops at the end; -target points it at a running stack instead. Load goes only to loopback
// addresses, and every loop is bounded in count and time. docs/benchmarks.md describes each
// workload.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "linedesk-bench:", err)
		os.Exit(1)
	}
}

// allWorkloads are the workload ids in the order they run.
var allWorkloads = []string{"b1", "b2", "b6a", "s1", "s1c", "s2", "s3", "s5", "s9", "q1", "r1", "w1", "m1"}

// options are the settings of one run; the report prints them.
type options struct {
	Smoke bool

	// The stack: started here (PostgresURL, Keep) or given (Target, DatabaseURL, TemporalAddress).
	PostgresURL     string
	Target          string
	DatabaseURL     string
	TemporalAddress string
	Namespace       string
	Email           string
	Password        string
	Keep            bool
	// TemporalDB is where the started stack's embedded Temporal keeps its state: sqlite or postgres.
	TemporalDB string
	PprofAddr  string

	Workloads []string

	BaselineDuration    time.Duration
	BaselineConcurrency int
	IdleWorkflows       int

	OpenConversations int
	Rates             []float64
	RateDuration      time.Duration
	Poisson           bool
	VisibleTarget     time.Duration
	MaxInFlight       int

	Clients        int
	ClosedDuration time.Duration
	S2Duration     time.Duration

	S3Conversations int
	S3Operators     int
	S3Duration      time.Duration

	MemorySizes  []int
	MemorySettle time.Duration

	SeedConversations int
	SeedMessages      int
	ListRequests      int
	ReportRequests    int
	ListConcurrency   int

	WebhookCount   int
	WebhookClients int
	WebhookRate    float64
	WebhookKinds   []string

	MailCount int

	JSONFile string
	Timeout  time.Duration

	// flags is every flag's value as given or defaulted (URLs redacted), for the report.
	flags map[string]string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("linedesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/linedesk-bench [flags]\n\nMeasures linedesk and the box's baselines in one run (see docs/benchmarks.md).\n\n")
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.Smoke, "smoke", false, "run everything at tiny sizes in seconds, only to check that it completes and reports")
	fs.StringVar(&o.PostgresURL, "postgres-url", envOr("LINEDESK_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"), "PostgreSQL server (a maintenance database URL) to create the bench database on")
	fs.StringVar(&o.Target, "target", "", "base URL of a running linedesk to measure instead of starting one (needs -database-url and -temporal-address)")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "with -target: the running stack's PostgreSQL (S1 visibility, S9 seeding, B6a scratch table)")
	fs.StringVar(&o.TemporalAddress, "temporal-address", "", "with -target: the running stack's Temporal frontend host:port")
	fs.StringVar(&o.Namespace, "namespace", "default", "Temporal namespace")
	fs.StringVar(&o.Email, "email", envOr("LINEDESK_ADMIN_EMAIL", "admin@example.com"), "admin login")
	fs.StringVar(&o.Password, "password", envOr("LINEDESK_ADMIN_PASSWORD", "admin"), "admin password")
	fs.BoolVar(&o.Keep, "keep", false, "keep the bench database and data dir of a started stack")
	fs.StringVar(&o.TemporalDB, "temporal-db", envOr("LINEDESK_TEMPORAL_DB", "sqlite"), "started stack: where the embedded Temporal keeps its state, sqlite (dev's default) or postgres (databases beside the bench database, as in production)")
	fs.StringVar(&o.PprofAddr, "pprof-addr", "", "started stack: serve linedesk's /debug/pprof here (e.g. 127.0.0.1:6060) to take a profile during the run")
	workloads := fs.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads to run")
	fs.DurationVar(&o.BaselineDuration, "baseline-duration", 15*time.Second, "duration of each baseline")
	fs.IntVar(&o.BaselineConcurrency, "baseline-concurrency", 8, "closed-loop callers in B1 and B2")
	fs.IntVar(&o.IdleWorkflows, "idle-workflows", 1000, "B2: idle workflows the signals spread over")
	fs.IntVar(&o.OpenConversations, "open-conversations", 1000, "S1: open conversations the messages spread over")
	rates := fs.String("rates", "50,100,200,300", "S1: offered rates in messages per second")
	fs.DurationVar(&o.RateDuration, "rate-duration", 20*time.Second, "S1: duration of each rate")
	fs.BoolVar(&o.Poisson, "poisson", false, "S1: Poisson arrivals instead of constant spacing")
	fs.DurationVar(&o.VisibleTarget, "visible-target", 100*time.Millisecond, "S1: the visibility p99 a rate must stay under to count as sustained")
	fs.IntVar(&o.MaxInFlight, "max-in-flight", 2000, "S1: requests outstanding at most; a send beyond it counts as dropped")
	fs.IntVar(&o.Clients, "clients", 4, "S1c and S2: closed-loop clients")
	fs.DurationVar(&o.ClosedDuration, "closed-duration", 20*time.Second, "S1c: duration")
	fs.DurationVar(&o.S2Duration, "s2-duration", time.Minute, "S2: duration")
	fs.IntVar(&o.S3Conversations, "s3-conversations", 400, "S3: conversations prepared for operator actions")
	fs.IntVar(&o.S3Operators, "s3-operators", 8, "S3: concurrent operators")
	fs.DurationVar(&o.S3Duration, "s3-duration", 30*time.Second, "S3: duration at most")
	memory := fs.String("memory-sizes", "1000,10000", "S5: open idle conversations to measure resident memory at (cumulative)")
	fs.DurationVar(&o.MemorySettle, "memory-settle", 15*time.Second, "S5: wait before reading memory")
	fs.IntVar(&o.SeedConversations, "seed-conversations", 100_000, "S9: conversations to seed")
	fs.IntVar(&o.SeedMessages, "seed-messages", 1_000_000, "S9: messages to seed")
	fs.IntVar(&o.ListRequests, "list-requests", 2000, "S9: measured list requests")
	fs.IntVar(&o.ListConcurrency, "list-concurrency", 4, "S9: concurrent list requests")
	fs.IntVar(&o.ReportRequests, "report-requests", 50, "R1: measured report requests, spread over its kinds")
	fs.IntVar(&o.MailCount, "mails", 1000, "M1: mails waiting in the mailbox when its email channel is connected")
	fs.IntVar(&o.WebhookCount, "webhooks", 1000, "W1: unique webhooks per messenger (a tenth more are redeliveries)")
	fs.IntVar(&o.WebhookClients, "webhook-clients", 200, "W1: clients the webhooks come from")
	fs.Float64Var(&o.WebhookRate, "webhook-rate", 100, "W1: webhooks per second, offered open-loop")
	webhookKinds := fs.String("webhook-kinds", "telegram,viber,vk,facebook,instagram,whatsapp,ok", "W1: the messengers, in order")
	fs.StringVar(&o.JSONFile, "json", "", "also write the raw figures as JSON to this file")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Hour, "stop the whole run after this long")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Smoke {
		// Tiny sizes; flags given explicitly still win.
		smoke := map[string]string{
			"baseline-duration": "2s", "idle-workflows": "50", "open-conversations": "20", "rates": "20,50",
			"rate-duration": "2s", "closed-duration": "2s", "s2-duration": "2s", "s3-conversations": "8",
			"s3-operators": "4", "s3-duration": "5s", "memory-sizes": "20,50", "memory-settle": "500ms",
			"seed-conversations": "1000", "seed-messages": "10000", "list-requests": "60", "report-requests": "10", "timeout": "5m",
			"webhooks": "50", "webhook-clients": "10", "mails": "50",
		}
		for name, v := range smoke {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return o, err
				}
			}
		}
	}
	o.flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Name {
		case "password":
		case "postgres-url", "database-url":
			if v := f.Value.String(); v != "" {
				o.flags[f.Name] = redact(v)
			}
		default:
			o.flags[f.Name] = f.Value.String()
		}
	})
	var problems []error
	var err error
	if o.Rates, err = parseList(*rates, strconv.ParseFloat); err != nil {
		problems = append(problems, fmt.Errorf("-rates: %w", err))
	}
	if o.MemorySizes, err = parseList(*memory, func(s string, _ int) (int, error) { return strconv.Atoi(s) }); err != nil {
		problems = append(problems, fmt.Errorf("-memory-sizes: %w", err))
	}
	if o.TemporalDB != "sqlite" && o.TemporalDB != "postgres" {
		problems = append(problems, fmt.Errorf("-temporal-db: %q is not sqlite or postgres", o.TemporalDB))
	}
	for k := range strings.SplitSeq(*webhookKinds, ",") {
		switch k = strings.TrimSpace(k); k {
		case "telegram", "viber", "vk", "facebook", "instagram", "whatsapp", "ok":
			o.WebhookKinds = append(o.WebhookKinds, k)
		case "":
		default:
			problems = append(problems, fmt.Errorf("-webhook-kinds: unknown %q (know telegram, viber, vk, facebook, instagram, whatsapp, ok)", k))
		}
	}
	for w := range strings.SplitSeq(*workloads, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if !slices.Contains(allWorkloads, w) {
			problems = append(problems, fmt.Errorf("-workloads: unknown %q (know %s)", w, strings.Join(allWorkloads, ",")))
		}
		o.Workloads = append(o.Workloads, w)
	}
	if o.PprofAddr != "" {
		if err := requireLoopbackHostPort(o.PprofAddr); err != nil {
			problems = append(problems, fmt.Errorf("-pprof-addr: %w", err))
		}
	}
	if o.Target != "" && (o.DatabaseURL == "" || o.TemporalAddress == "") {
		problems = append(problems, errors.New("-target needs -database-url and -temporal-address"))
	}
	// Bounds, so that no loop can run away.
	if o.BaselineDuration <= 0 || o.BaselineDuration > 10*time.Minute || o.RateDuration <= 0 || o.RateDuration > 10*time.Minute ||
		o.ClosedDuration <= 0 || o.ClosedDuration > 10*time.Minute || o.S2Duration <= 0 || o.S2Duration > 10*time.Minute ||
		o.S3Duration <= 0 || o.S3Duration > 10*time.Minute {
		problems = append(problems, errors.New("durations must be positive and at most 10m"))
	}
	for _, r := range o.Rates {
		if r <= 0 || r > 5000 {
			problems = append(problems, fmt.Errorf("-rates: %v is not in (0, 5000]", r))
		}
	}
	for _, n := range o.MemorySizes {
		if n <= 0 || n > 100_000 {
			problems = append(problems, fmt.Errorf("-memory-sizes: %d is not in (0, 100000]", n))
		}
	}
	if !slices.IsSorted(o.MemorySizes) {
		problems = append(problems, errors.New("-memory-sizes must be increasing"))
	}
	positive := map[string]int{"baseline-concurrency": o.BaselineConcurrency, "idle-workflows": o.IdleWorkflows,
		"open-conversations": o.OpenConversations, "max-in-flight": o.MaxInFlight, "clients": o.Clients,
		"s3-conversations": o.S3Conversations, "s3-operators": o.S3Operators, "seed-conversations": o.SeedConversations,
		"list-requests": o.ListRequests, "list-concurrency": o.ListConcurrency, "report-requests": o.ReportRequests, "webhooks": o.WebhookCount, "webhook-clients": o.WebhookClients, "mails": o.MailCount}
	for name, v := range positive {
		if v <= 0 || v > 10_000_000 {
			problems = append(problems, fmt.Errorf("-%s must be positive", name))
		}
	}
	if o.SeedMessages < 0 || o.SeedMessages > 20_000_000 {
		problems = append(problems, errors.New("-seed-messages must be in [0, 20000000]"))
	}
	if o.WebhookRate <= 0 || o.WebhookRate > 5000 {
		problems = append(problems, fmt.Errorf("-webhook-rate: %v is not in (0, 5000]", o.WebhookRate))
	}
	if o.Timeout <= 0 || o.Timeout > 12*time.Hour {
		problems = append(problems, errors.New("-timeout must be positive and at most 12h"))
	}
	return o, errors.Join(problems...)
}

func parseList[T any](s string, parse func(string, int) (T, error)) ([]T, error) {
	var out []T
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := parse(part, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		out = append(out, v)
	}
	return out, nil
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func (o options) runs(w string) bool { return slices.Contains(o.Workloads, w) }

// run parses the flags, brings up (or reaches) the stack, runs the workloads and reports.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}

	st, err := openStack(ctx, o, progress)
	if err != nil {
		return err
	}
	defer st.close(progress)

	rep := newReport(o)
	b := &bench{o: o, st: st, rep: rep, progress: progress}
	runErr := b.runAll(ctx)
	rep.finish(ctx, st)
	rep.writeText(stdout)
	if o.JSONFile != "" {
		if err := rep.writeJSON(o.JSONFile); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}
