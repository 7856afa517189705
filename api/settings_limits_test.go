package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSettingsLimitsCountCharacters: the documented limits are characters, so a Russian desk
// gets the same room as an English one (a Cyrillic letter is two bytes, an emoji four).
func TestSettingsLimitsCountCharacters(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})

	entry := strings.Repeat("ж", 200)
	res := a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{entry}, "reasons": []string{}, "components": []string{}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{entry + "ж"}, "reasons": []string{}, "components": []string{}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "longer than 200 characters")

	res = a.do(a.http, "PUT", "/api/v1/standard-messages", map[string]any{"csat_thanks": strings.Repeat("спасибо ", 500), "csat_bad": "😞 Плохо"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "PUT", "/api/v1/standard-messages", map[string]any{"auto_close": strings.Repeat("я", 4001)}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "longer than 4000 characters")
}
