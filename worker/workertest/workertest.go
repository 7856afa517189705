// Package workertest runs an in-process Temporal test server with linedesk's worker registered,
// for end-to-end tests (HTTP → Temporal → worker → PostgreSQL).
package workertest

import (
	"log/slog"
	"net/http"
	"testing"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/linedesk/linedesk/activities"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/worker"
	"github.com/linedesk/linedesk/workflows"
)

// Options tune the worker's dependencies.
type Options struct {
	// HTTPClient sends to callback URLs (nil: netguard's client with private targets allowed).
	HTTPClient *http.Client
	Mail       activities.Mailer
	Logger     *slog.Logger
}

// Start starts a Temporal test server (stopped when the test ends) and a worker on it whose
// activities use st; it returns a client in the server's namespace.
func Start(t testing.TB, st *store.Store, opts Options) client.Client {
	t.Helper()
	tt, ok := t.(*testing.T)
	var srv *temporaltest.TestServer
	if ok {
		srv = temporaltest.NewServer(temporaltest.WithT(tt))
	} else {
		srv = temporaltest.NewServer()
		t.Cleanup(srv.Stop)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := srv.GetDefaultClient()
	httpClient := opts.HTTPClient
	if httpClient == nil {
		// Tests' fake integrators listen on loopback.
		httpClient = netguard.Policy{AllowPrivate: true}.Client()
	}
	acts := activities.New(st, logger, httpClient, opts.Mail)
	fanOut := activities.NewFanOut(st, c, logger)
	router := activities.NewRouter(st, c, logger)
	acts.WakeRouters(router)
	srv.NewWorkerWithOptions(workflows.TaskQueue, func(r sdkworker.Registry) {
		worker.Register(r, acts, fanOut, router)
	}, worker.Options())
	return c
}
