package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// RouteRules is the route table for the permission matrix test: "METHOD /path" → rule.
func RouteRules() map[string]string {
	_, rules := newAPI(Deps{Logger: slog.New(slog.DiscardHandler), Metrics: http.NotFoundHandler()})
	out := make(map[string]string, len(rules))
	for k, v := range rules {
		out[k] = string(v)
	}
	return out
}

// RunPollingEvery is RunPolling looking for polling channels every so often (tests: quickly).
func RunPollingEvery(ctx context.Context, d Deps, every time.Duration) {
	s, _ := newServer(d)
	s.runPolling(ctx, every)
}
