package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// Error is an error a client sees: an HTTP status, a stable code naming the rule, and a message.
// It renders as {"error":{"code":"…","message":"…"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Conversations lists the conversations an error is about (open_work), when it names some.
	Conversations []int64 `json:"conversations,omitempty"`
	// cause is what went wrong behind a 503, for the log only: the client sees Code and Message.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "bad_request", format, args...)
}

func notFound(what string) *Error {
	return newError(http.StatusNotFound, "not_found", "%s not found", what)
}

var errUnauthorized = newError(http.StatusUnauthorized, "unauthorized", "sign in or send an API token")

// errorHandler is the one place that turns any error into the response the client sees. Domain
// and validation errors keep their status and code; anything unexpected is logged and answered
// with a generic 500 that leaks nothing.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		apiErr := toAPIError(err)
		if apiErr.Status >= 500 {
			logger.ErrorContext(c.Request().Context(), "request failed",
				"method", c.Request().Method, "path", c.Path(), "error", err)
		}
		if apiErr.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "5")
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(apiErr.Status)
			return
		}
		_ = c.JSON(apiErr.Status, map[string]*Error{"error": apiErr})
	}
}

func toAPIError(err error) *Error {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		return &Error{Status: he.Code, Code: codeForStatus(he.Code), Message: msg}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound("resource")
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "conflict", "a resource with these values already exists")
	case errors.Is(err, store.ErrUnavailable):
		return newError(http.StatusServiceUnavailable, "unavailable", "the database is unavailable; retry shortly")
	case errors.Is(err, store.ErrInvalid):
		return badRequest("the request refers to something that does not exist or breaks a rule")
	}
	return newError(http.StatusInternalServerError, "internal", "internal error")
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}
