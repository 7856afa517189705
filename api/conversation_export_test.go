package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

// TestConversationExportAndTranscript: a closed conversation's whole history comes out as JSON
// and CSV in the order it happened — the client's messages, the operator's reply and note, the
// take and the close — with a client's formula kept as text; the printable transcript shows
// what the client and the desk wrote, escaped, without the internal note; an operator off the
// line gets none of it, and a wrong format is a clear 400.
func TestConversationExportAndTranscript(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	_, in := a.inbound(cs, "1", clientText("u-1", "Где мой заказ? <b>срочно</b>"))
	n := *in.Conversation
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(a.http, "POST", path+"/take", nil, nil).status)
	res := a.do(a.http, "POST", path+"/messages", map[string]any{"text": "Заказ в пути, будет завтра."}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res = a.do(a.http, "POST", path+"/notes", map[string]any{"text": "checked the warehouse"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res, _ = a.inbound(cs, "2", clientText("u-1", "=HYPERLINK(\"http://evil.example\")"))
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	a.waitFor("the second message", 10*time.Second, func() bool { return len(a.messages(n)) >= 4 })
	res = a.do(a.http, "POST", path+"/close", map[string]any{"solution": "Отправлен курьером.", "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)

	// The close's last word comes afterwards: the solution's mail (skipped here) is recorded.
	a.waitFor("the history to settle", 10*time.Second, func() bool {
		return strings.Contains(a.do(a.http, "GET", path+"/history", nil, nil).text, `"kind":"solution_emailed"`)
	})

	res = a.do(a.http, "GET", path+"/export", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, fmt.Sprintf(`attachment; filename="conversation-%d.json"`, n), res.header.Get("Content-Disposition"))
	var out struct {
		Conversation struct {
			Number   int64  `json:"number"`
			Status   string `json:"status"`
			Solution string `json:"solution"`
		} `json:"conversation"`
		Timeline []struct {
			At      time.Time `json:"at"`
			Type    string    `json:"type"`
			Message *struct {
				Direction string `json:"direction"`
				Text      string `json:"text"`
			} `json:"message"`
			Event *struct {
				Kind string `json:"kind"`
			} `json:"event"`
		} `json:"timeline"`
	}
	res.json(t, &out)
	require.Equal(t, n, out.Conversation.Number)
	require.Equal(t, "closed", out.Conversation.Status)
	require.Equal(t, "Отправлен курьером.", out.Conversation.Solution)
	var seq []string
	for i, it := range out.Timeline {
		if i > 0 {
			require.False(t, it.At.Before(out.Timeline[i-1].At), "the timeline goes back in time at %d", i)
		}
		switch {
		case it.Type == "message" && it.Message != nil && it.Message.Direction != "system":
			seq = append(seq, it.Message.Direction+":"+it.Message.Text)
		case it.Type == "event" && it.Event != nil && (it.Event.Kind == "taken" || it.Event.Kind == "closed"):
			seq = append(seq, it.Event.Kind)
		}
	}
	require.Equal(t, []string{"in:Где мой заказ? <b>срочно</b>", "taken", "out:Заказ в пути, будет завтра.",
		"note:checked the warehouse", "in:=HYPERLINK(\"http://evil.example\")", "closed"}, seq)

	res = a.do(a.http, "GET", path+"/export?format=csv", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.True(t, strings.HasPrefix(res.header.Get("Content-Type"), "text/csv"), res.header.Get("Content-Type"))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(res.text), []byte("\ufeff")))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"at", "type", "who", "kind", "text", "details"}, rows[0])
	require.Len(t, rows, len(out.Timeline)+1, "one row for each item of the JSON timeline")
	var reply, formula []string
	for _, r := range rows[1:] {
		if r[4] == "Заказ в пути, будет завтра." {
			reply = r
		}
		if strings.Contains(r[4], "HYPERLINK") {
			formula = r
		}
	}
	require.Equal(t, []string{"message", "Admin", "out/reply"}, reply[1:4])
	require.Equal(t, `'=HYPERLINK("http://evil.example")`, formula[4], "a client's formula must stay text in a spreadsheet")
	require.Equal(t, "Ann", formula[2])

	res = a.do(a.http, "GET", path+"/export?format=xml", nil, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "format must be json or csv")

	a.waitFor("the reply delivered", 10*time.Second, func() bool {
		for _, m := range a.messages(n) {
			if m.Direction == "out" && m.Kind == "reply" {
				return m.Status == "sent" || m.Status == "delivered"
			}
		}
		return false
	})
	res = a.do(a.http, "GET", path+"/transcript?lang=en&tz=Europe/Moscow", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.True(t, strings.HasPrefix(res.header.Get("Content-Type"), "text/html"), res.header.Get("Content-Type"))
	require.Contains(t, res.text, fmt.Sprintf("Conversation #%d", n))
	require.Contains(t, res.text, "Где мой заказ? &lt;b&gt;срочно&lt;/b&gt;", "the client's text is escaped")
	require.Contains(t, res.text, "Заказ в пути, будет завтра.")
	require.Contains(t, res.text, "Отправлен курьером.")
	require.Contains(t, res.text, "Europe/Moscow")
	require.NotContains(t, res.text, "checked the warehouse", "an internal note is not in the client's transcript")
	require.NotContains(t, res.header.Get("Content-Security-Policy"), "script-src")
	require.Contains(t, res.header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, res.text, `<span class="who">Admin</span>`)
	res = a.do(a.http, "GET", path+"/transcript", nil, nil)
	require.Contains(t, res.text, fmt.Sprintf("Обращение #%d", n), "Russian by default")
	// A line that hides operators' names shows the client its own name in the transcript too.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/lines/%d", cs.lineID), map[string]any{"hide_operator_name": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(a.http, "GET", path+"/transcript", nil, nil)
	require.Contains(t, res.text, `<span class="who">Support</span>`)
	require.NotContains(t, res.text, "Admin")
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", path+"/transcript?tz=Local", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", path+"/transcript?lang=de", nil, nil).status)
	require.Equal(t, http.StatusBadRequest, a.do(a.http, "GET", path+"/transcript?tz=Mars/Olympus", nil, nil).status)

	// Someone off the line sees no such conversation.
	a.newUser("stranger@desk.example", "Stranger", store.RoleOperator)
	stranger := a.login("stranger@desk.example", "pw-Stranger")
	require.Equal(t, http.StatusNotFound, a.do(stranger, "GET", path+"/export", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(stranger, "GET", path+"/transcript", nil, nil).status)
	require.Equal(t, http.StatusNotFound, a.do(a.http, "GET", "/api/v1/conversations/999999/export", nil, nil).status)
}
