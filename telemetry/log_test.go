package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/telemetry"
)

// TestLogLinesCarryTheirContextsIDs: a line logged with a request's context names the request
// and the conversation, however the logger was derived; a line without one names neither.
func TestLogLinesCarryTheirContextsIDs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(telemetry.NewHandler(slog.NewJSONHandler(&buf, nil))).With("component", "api")
	ctx := telemetry.WithLogAttrs(context.Background(), slog.String("request_id", "r-1"))
	ctx = telemetry.WithLogAttrs(ctx, slog.String("conversation", "42"))

	logger.WarnContext(ctx, "delivery attempt failed", "attempt", 2)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "r-1", line["request_id"])
	require.Equal(t, "42", line["conversation"])
	require.Equal(t, "api", line["component"])
	require.EqualValues(t, 2, line["attempt"])

	buf.Reset()
	logger.Warn("no context")
	line = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.NotContains(t, line, "request_id")

	// A context derived for one request does not leak its ids into another's.
	other := telemetry.WithLogAttrs(context.Background(), slog.String("request_id", "r-2"))
	require.Len(t, telemetry.LogAttrs(other), 1)
	require.Len(t, telemetry.LogAttrs(ctx), 2)
}
