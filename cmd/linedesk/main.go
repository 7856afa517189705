// Command linedesk runs the linedesk support desk: `dev` (everything in one process), `api`,
// `worker` and `migrate` for a split deployment, and `rotate-key` and `backup` for its operators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
	// Business-hours calendars need time zone data; embedding it makes SLA due times the same on
	// every machine and container, and workflow replays deterministic.
	_ "time/tzdata"
)

const usage = `linedesk — an omnichannel support desk

Usage:
  linedesk dev       everything in one process: embedded Temporal, PostgreSQL, worker, API, console
  linedesk api       the HTTP API, webhooks and console, against TEMPORAL_ADDRESS and DATABASE_URL
  linedesk worker    the Temporal worker, against TEMPORAL_ADDRESS and DATABASE_URL
  linedesk migrate   apply database migrations to DATABASE_URL

Operations (docs/operations.md):
  linedesk rotate-key  re-seal every stored secret with LINEDESK_SECRETS_KEY (old keys in LINEDESK_SECRETS_OLD_KEYS)
  linedesk backup      pg_dump DATABASE_URL (and Temporal's databases when given) to a file

Run 'linedesk COMMAND -h' for the command's flags; every flag also has an environment variable.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	command := args[0]
	switch command {
	case "dev", "api", "worker", "migrate", "rotate-key", "backup":
	default:
		fmt.Fprintf(stderr, "linedesk: unknown command %q\n\n%s", command, usage)
		return 2
	}
	cfg, err := loadConfig(command, args[1:], os.LookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "linedesk %s: %v\n", command, err)
		return 2
	}
	logger := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.PprofAddr != "" {
		startPprof(cfg.PprofAddr, logger)
	}

	switch command {
	case "dev":
		err = runDev(ctx, cfg, logger, stdout)
	case "api":
		err = runAPI(ctx, cfg, logger)
	case "worker":
		err = runWorker(ctx, cfg, logger)
	case "migrate":
		err = runMigrate(ctx, cfg, logger)
	case "rotate-key":
		err = runRotateKey(ctx, cfg, stdout)
	case "backup":
		err = runBackup(ctx, cfg, stdout)
	}
	if err != nil && (errors.Is(err, errDataDirBusy) || errors.Is(err, errNotPaired) || command == "rotate-key" || command == "backup") {
		// Addressed to the person at the terminal, over several lines: printed, not logged.
		fmt.Fprintf(stderr, "\nlinedesk %s: %v\n", command, err)
		return 1
	}
	if err != nil {
		logger.Error("linedesk "+command+" failed", "error", err)
		return 1
	}
	return 0
}

// startPprof serves Go's profiling endpoints for diagnosing CPU and memory use.
func startPprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		logger.Info("pprof listening", "addr", addr)
		if err := srv.ListenAndServe(); err != nil {
			logger.Error("pprof stopped", "error", err)
		}
	}()
}
