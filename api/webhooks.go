package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
)

// Webhook field limits.
const (
	maxWebhookURL         = 2000
	maxWebhookDescription = 500
	maxWebhookEvents      = 50
)

// webhookBody is a webhook as clients send it; absent fields keep their value on PATCH, and
// line_id: null means every line.
type webhookBody struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	LineID      *int64    `json:"line_id"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

// applyWebhook applies a body (raw: its fields as sent, to tell null from absent) to w; it
// checks every field, reading through st, and the URL's target.
func (s *Server) applyWebhook(ctx context.Context, st *store.Store, raw map[string]json.RawMessage, b webhookBody,
	w *store.Webhook, creating bool) error {
	var problems fieldErrors
	refuseNulls(&problems, raw, "", "url", "events", "description", "enabled")
	if creating && b.URL == nil {
		problems.add("url is required")
	}
	if creating && b.Events == nil {
		problems.add("events is required")
	}
	if b.URL != nil {
		w.URL = strings.TrimSpace(*b.URL)
		checkText(&problems, "url", w.URL, maxWebhookURL)
	}
	if b.Events != nil {
		w.Events = dedupe(*b.Events)
		switch {
		case len(w.Events) == 0:
			problems.add("events must name at least one event (or \"*\" for all)")
		case len(w.Events) > maxWebhookEvents:
			problems.add("events has more than %d names", maxWebhookEvents)
		}
		for _, e := range w.Events {
			if e != store.WebhookAllEvents && !slices.Contains(store.WebhookEvents, e) {
				problems.add("events: %q is not an event; known: %s, or \"*\"", e, strings.Join(store.WebhookEvents, ", "))
			}
		}
	}
	if v, ok := raw["line_id"]; ok {
		w.LineID = b.LineID
		if string(v) != "null" && b.LineID != nil {
			if _, err := st.LineByID(ctx, *b.LineID); errors.Is(err, store.ErrNotFound) || *b.LineID <= 0 {
				problems.add("line_id %d does not exist", *b.LineID)
			} else if err != nil {
				return err
			}
		}
	}
	if b.Description != nil {
		w.Description = strings.TrimSpace(*b.Description)
		checkText(&problems, "description", w.Description, maxWebhookDescription)
	}
	if b.Enabled != nil {
		w.Enabled = *b.Enabled
	}
	if len(problems) == 0 && b.URL != nil {
		if err := netguard.CheckURL(ctx, w.URL, s.allowPrivateCallbacks); err != nil {
			problems.add("url %s", err.Error())
		}
	}
	return problems.err()
}

type createdWebhook struct {
	Webhook store.Webhook `json:"webhook"`
	// Secret signs the deliveries; it is shown in this answer only.
	Secret string `json:"secret"`
}

func (s *Server) listWebhooks(c echo.Context) error {
	list, err := s.store.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (s *Server) createWebhook(c echo.Context) error {
	raw, b, err := decodePatch[webhookBody](c)
	if err != nil {
		return err
	}
	var out store.Webhook
	var secret string
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		w := store.Webhook{Enabled: true}
		if err := s.applyWebhook(ctx, tx, raw, b, &w, true); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, secret, err = tx.CreateWebhook(ctx, w); err != nil {
			return store.AuditChange{}, err
		}
		// store.Webhook has no secret: the record shows the webhook without it.
		return store.AuditChange{Entity: store.AuditWebhook, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdWebhook{Webhook: out, Secret: secret})
}

// webhookOf loads the webhook in the path (404 when there is none).
func (s *Server) webhookOf(c echo.Context) (store.Webhook, error) {
	id, err := pathID(c, "webhook")
	if err != nil {
		return store.Webhook{}, err
	}
	w, err := s.store.WebhookByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Webhook{}, notFoundErr("webhook " + c.Param("id"))
	}
	return w, err
}

func (s *Server) getWebhook(c echo.Context) error {
	w, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (s *Server) updateWebhook(c echo.Context) error {
	id, err := pathID(c, "webhook")
	if err != nil {
		return err
	}
	raw, b, err := decodePatch[webhookBody](c)
	if err != nil {
		return err
	}
	var out store.Webhook
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditWebhook, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.WebhookByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		w := before
		if err := s.applyWebhook(ctx, tx, raw, b, &w, false); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.UpdateWebhook(ctx, w); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditWebhook, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteWebhook(c echo.Context) error {
	id, err := pathID(c, "webhook")
	if err != nil {
		return err
	}
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditWebhook, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.WebhookByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := tx.DeleteWebhook(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditWebhook, ID: auditID(id), Action: store.AuditDelete, Before: before}, nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// rotateWebhookSecret replaces the signing secret; the new one is in this answer only, and
// every attempt from now on (retries of older deliveries too) is signed with it. The log
// records that it changed, without either value.
func (s *Server) rotateWebhookSecret(c echo.Context) error {
	id, err := pathID(c, "webhook")
	if err != nil {
		return err
	}
	var secret string
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditWebhook, id); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if secret, err = tx.RotateWebhookSecret(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditWebhook, ID: auditID(id), Action: store.AuditRotateSecret,
			After: map[string]string{"secret": store.Changed}}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"secret": secret})
}

// Deliveries a page lists at most.
const maxDeliveriesPage = 200

func (s *Server) webhookDeliveries(c echo.Context) error {
	w, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	var problems fieldErrors
	status := c.QueryParam("status")
	if status != "" && status != store.WebhookPending && status != store.WebhookDelivered && status != store.WebhookFailed {
		problems.add("status must be pending, delivered or failed")
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveriesPage {
			problems.add("limit must be a number from 1 to %d", maxDeliveriesPage)
		}
		limit = n
	}
	if err := problems.err(); err != nil {
		return err
	}
	list, err := s.store.WebhookDeliveries(c.Request().Context(), w.ID, status, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// retryWebhookDelivery sends a failed delivery again: a new round of attempts, due at once.
func (s *Server) retryWebhookDelivery(c echo.Context) error {
	w, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("delivery"))
	if err != nil {
		return notFoundErr("delivery " + c.Param("delivery"))
	}
	err = s.store.RetryWebhookDelivery(c.Request().Context(), w.ID, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("delivery " + c.Param("delivery"))
	case errors.Is(err, store.ErrNotRetryable):
		return newError(http.StatusConflict, "not_failed", "delivery %s has not failed; only a failed delivery is retried", id)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": id.String(), "status": store.WebhookPending})
}
