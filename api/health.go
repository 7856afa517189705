package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

type readiness struct {
	Status   string `json:"status"`
	Postgres string `json:"postgres"`
	Temporal string `json:"temporal"`
}

// readyz answers 200 only when both PostgreSQL and Temporal answer; the body says which is down.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	r := readiness{Status: "ready", Postgres: "ok", Temporal: "ok"}
	// The answer says which is down; the details (addresses, driver errors) go to the log only.
	if err := s.store.Ping(ctx); err != nil {
		r.Status, r.Postgres = "unavailable", "down"
		s.logger.WarnContext(ctx, "readiness: postgres down", "error", err)
	}
	if s.temporal == nil {
		r.Status, r.Temporal = "unavailable", "down"
	} else if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		r.Status, r.Temporal = "unavailable", "down"
		s.logger.WarnContext(ctx, "readiness: temporal down", "error", err)
	}
	if r.Status != "ready" {
		return c.JSON(http.StatusServiceUnavailable, r)
	}
	return c.JSON(http.StatusOK, r)
}
