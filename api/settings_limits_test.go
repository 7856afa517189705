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

// TestALinesDefaultTypeCannotBeRemoved: renaming or removing the request type a line gives its
// new conversations is refused with the line named, and changes nothing.
func TestALinesDefaultTypeCannotBeRemoved(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	res := a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{"Support", "Sales"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "Shop", "default_type": "Sales"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)

	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{"Support", "Sales and orders"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, `\"Sales\" is the default type of line \"Shop\"`)
	res = a.do(a.http, "GET", "/api/v1/dialog-settings", nil, nil)
	require.Contains(t, res.text, `"Sales"`, "nothing changed")

	// Removing a type no line uses is fine.
	res = a.do(a.http, "PUT", "/api/v1/dialog-settings", map[string]any{"types": []string{"Sales"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
}
