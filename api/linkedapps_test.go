package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// crmFake is an external app as linedesk expects one: it checks the request's signature with
// the secret the desk gave, makes an item of each new Idempotency-Key, and answers its id.
type crmFake struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	items    map[string]string // idempotency key → id
	requests []map[string]any
	refuse   bool
}

func newCRMFake(t *testing.T) *crmFake {
	f := &crmFake{items: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(f.secret))
		mac.Write([]byte(r.Header.Get("X-Linedesk-Timestamp") + "."))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Linedesk-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if f.refuse {
			http.Error(w, "the tracker is down", http.StatusServiceUnavailable)
			return
		}
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		f.requests = append(f.requests, req)
		key := r.Header.Get("Idempotency-Key")
		id, ok := f.items[key]
		if !ok || key == "" {
			id = fmt.Sprintf("C-%d", 100+len(f.items))
			f.items[key] = id
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	}))
	t.Cleanup(f.Close)
	return f
}

// TestLinkedRecordsFromAConversation: an admin links a line to an external app; "+Связать" in a
// conversation makes a signed call that creates the item from the session, and the conversation
// keeps it; a retry with the same key makes no second item; a refusing app links nothing.
func TestLinkedRecordsFromAConversation(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	crm := newCRMFake(t)
	cs := a.setupChannel(map[string]any{"name": "Support", "auto_open": true})
	other := a.setupChannel(map[string]any{"name": "Other", "auto_open": true})
	_, olga := a.newOperator("olga@desk.example", "Olga")

	res := a.do(a.http, "POST", "/api/v1/linked-apps", map[string]any{"name": "Tracker", "create_url": crm.URL + "/items",
		"item_url_template": "https://tracker.example/items/{id}", "kinds": []string{"complaint", "order"}, "line_ids": []int64{cs.lineID}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var created struct {
		App struct {
			ID int64 `json:"id"`
		} `json:"app"`
		Secret string `json:"secret"`
	}
	res.json(t, &created)
	require.NotEmpty(t, created.Secret)
	crm.secret = created.Secret
	require.NotContains(t, a.do(a.http, "GET", fmt.Sprintf("/api/v1/linked-apps/%d", created.App.ID), nil, nil).text, created.Secret)
	require.Equal(t, http.StatusForbidden, a.do(olga, "GET", "/api/v1/linked-apps", nil, nil).status)
	// A line links to one app at most.
	res = a.do(a.http, "POST", "/api/v1/linked-apps", map[string]any{"name": "CRM", "create_url": crm.URL,
		"kinds": []string{"lead"}, "line_ids": []int64{cs.lineID}}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)

	r, in := a.inbound(cs, "l-1", clientText("u-l", "The ring arrived broken"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	n := *in.Conversation
	path := fmt.Sprintf("/api/v1/conversations/%d/links", n)
	res = a.do(olga, "GET", path, nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.JSONEq(t, fmt.Sprintf(`{"items": [], "app": {"id": %d, "name": "Tracker", "kinds": ["complaint", "order"]}}`, created.App.ID), res.text)

	link := func(body map[string]any, key string) response {
		t.Helper()
		return a.do(olga, "POST", path, body, map[string]string{"Idempotency-Key": key})
	}
	res = link(map[string]any{"kind": "complaint", "title": "Broken ring", "note": "Replace it"}, "k-1")
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var item struct {
		ExternalID string `json:"external_id"`
		URL        string `json:"url"`
		Kind       string `json:"kind"`
		AppName    string `json:"app_name"`
	}
	res.json(t, &item)
	require.Equal(t, "C-100", item.ExternalID)
	require.Equal(t, "https://tracker.example/items/C-100", item.URL)
	require.Equal(t, "Tracker", item.AppName)
	crm.mu.Lock()
	require.Len(t, crm.requests, 1)
	sent := crm.requests[0]
	crm.mu.Unlock()
	require.Equal(t, "complaint", sent["kind"])
	require.Equal(t, "Broken ring", sent["title"])
	require.Equal(t, "Ann", sent["contact"].(map[string]any)["name"])
	require.Equal(t, float64(n), sent["conversation"].(map[string]any)["number"])
	require.Equal(t, "The ring arrived broken", sent["messages"].([]any)[0].(map[string]any)["text"])
	require.Equal(t, "Olga", sent["operator"].(map[string]any)["name"])

	// The same key again: the first item, no second call that makes one.
	res = link(map[string]any{"kind": "complaint", "title": "Broken ring"}, "k-1")
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"external_id":"C-100"`)
	// A second item of another kind.
	res = link(map[string]any{"kind": "order"}, "k-2")
	require.Equal(t, http.StatusCreated, res.status, res.text)
	res = a.do(olga, "GET", path, nil, nil)
	var list struct {
		Items []struct {
			ExternalID string `json:"external_id"`
			Title      string `json:"title"`
		} `json:"items"`
	}
	res.json(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, "C-101", list.Items[1].ExternalID)
	require.Equal(t, "", list.Items[1].Title, "the conversation's title, empty here")

	// A refusing app links nothing; bad input is a 400; a line without an app is a 409.
	crm.refuse = true
	res = link(map[string]any{"kind": "order"}, "k-3")
	require.Equal(t, http.StatusBadGateway, res.status, res.text)
	require.Contains(t, res.text, "Tracker refused to make the item (HTTP 503)")
	require.NotContains(t, res.text, "the tracker is down", "the app's answer is the admin's, in the log")
	require.NotContains(t, res.text, crm.URL)
	crm.refuse = false
	res = a.do(olga, "GET", path, nil, nil)
	res.json(t, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, http.StatusBadRequest, link(map[string]any{"kind": "refund"}, "k-4").status)
	r, in = a.inbound(other, "l-2", clientText("u-o", "hello"))
	require.Equal(t, http.StatusAccepted, r.status, r.text)
	res = a.do(a.http, "POST", fmt.Sprintf("/api/v1/conversations/%d/links", *in.Conversation), map[string]any{"kind": "order"}, nil)
	require.Equal(t, http.StatusConflict, res.status, res.text)
	// Leads go to the app when it takes them (seed 001: leads in the CRM), once.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/linked-apps/%d", created.App.ID), map[string]any{"kinds": []string{"complaint", "order", "lead"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	for i, want := range []string{"sent_to_app", "already_converted"} {
		res = a.do(olga, "POST", "/api/v1/conversations/convert-to-leads", map[string]any{"numbers": []int64{n}, "topic": "Wants a gold ring"}, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var conv struct {
			Leads   []any `json:"leads"`
			Results []struct {
				Code string `json:"code"`
				Link *struct {
					Kind       string `json:"kind"`
					ExternalID string `json:"external_id"`
				} `json:"link"`
			} `json:"results"`
		}
		res.json(t, &conv)
		require.Empty(t, conv.Leads, "not linedesk's own lead list")
		require.Equal(t, want, conv.Results[0].Code, i)
		require.Equal(t, "lead", conv.Results[0].Link.Kind)
		require.Equal(t, "C-102", conv.Results[0].Link.ExternalID)
	}
	crm.mu.Lock()
	require.Equal(t, "Wants a gold ring", crm.requests[len(crm.requests)-1]["title"])
	crm.mu.Unlock()

	// Removing the app keeps what was linked, under its name; the line links to nothing then.
	require.Equal(t, http.StatusNoContent, a.do(a.http, "DELETE", fmt.Sprintf("/api/v1/linked-apps/%d", created.App.ID), nil, nil).status)
	res = a.do(olga, "GET", path, nil, nil)
	require.Contains(t, res.text, `"app":null`)
	require.Contains(t, res.text, `"app_name":"Tracker"`)
	for _, body := range []map[string]any{{"name": "", "create_url": crm.URL, "kinds": []string{"x"}},
		{"name": "X", "create_url": "ftp://x", "kinds": []string{"x"}}, {"name": "X", "create_url": crm.URL, "kinds": []string{}},
		{"name": "X", "create_url": crm.URL, "kinds": []string{"x"}, "line_ids": []int64{999999}},
		{"name": "X", "create_url": crm.URL, "kinds": []string{"x"}, "item_url_template": "javascript:alert({id})"}} {
		res := a.do(a.http, "POST", "/api/v1/linked-apps", body, nil)
		require.Equal(t, http.StatusBadRequest, res.status, res.text)
	}
}
