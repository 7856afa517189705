package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeJSONTellsAnEscapedBackslashFromNUL: "\\u0000" in JSON is a backslash and the text
// u0000 — a message about escapes, not a NUL — and is taken as written; "\u0000" and "\\\u0000"
// hold a NUL and are refused (found by FuzzDecodeJSON).
func TestDecodeJSONTellsAnEscapedBackslashFromNUL(t *testing.T) {
	for body, want := range map[string]string{
		`{"text":"C:\\u0000 is how JSON writes NUL"}`: `C:\u0000 is how JSON writes NUL`,
		`{"text":"\\\\u0000"}`:                        `\\u0000`,
	} {
		c, _ := bodyContext(http.MethodPost, "application/json", []byte(body))
		var v messageBody
		require.NoError(t, decodeJSON(c, &v), body)
		require.Equal(t, want, v.Text)
	}
	for _, body := range []string{`{"text":"a\u0000b"}`, `{"text":"\\\u0000"}`, `{"\u0000":1}`} {
		c, _ := bodyContext(http.MethodPost, "application/json", []byte(body))
		var v map[string]any
		err := decodeJSON(c, &v)
		require.Error(t, err, body)
		require.Contains(t, err.Error(), "NUL")
	}
}

// TestPreferWaitIsBoundedWhateverTheNumber: a wait past int64's nanoseconds (1e300, Inf) is the
// longest wait, not a negative one, and NaN is refused (found by FuzzPreferWait).
func TestPreferWaitIsBoundedWhateverTheNumber(t *testing.T) {
	for v, want := range map[string]string{"wait=1e300": "30s", "wait=+Inf": "30s", "wait=9223372036.9": "30s", "wait=2.5": "2.5s", "wait=0": "0s"} {
		d, err := preferWait(http.Header{"Prefer": {v}})
		require.NoError(t, err, v)
		require.Equal(t, want, d.String(), v)
	}
	_, err := preferWait(http.Header{"Prefer": {"wait=NaN"}})
	require.Error(t, err)
}
