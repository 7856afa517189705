package api

import (
	"log/slog"
	"net/http"
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
