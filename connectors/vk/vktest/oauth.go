package vktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Community is a community an Account administers.
type Community struct {
	ID           int64
	Name         string
	Confirmation string
}

// CallbackServer is a Callback API server a community has, as groups.addCallbackServer and
// groups.setCallbackSettings left it.
type CallbackServer struct {
	URL        string
	Secret     string
	MessageNew bool
	Confirmed  bool
}

// Account is a fake VK for an admin and the communities they administer: the OAuth dialogs
// (oauth.vk.com/authorize answers at once as if the admin pressed "Разрешить", ticking the
// communities Tick chose), the code exchange, and the API methods a connect calls. Adding a
// Callback API server posts VK's confirmation to its URL and keeps it only if the answer is the
// community's confirmation code, as VK does.
type Account struct {
	srv       *httptest.Server
	appID     string
	appSecret string
	groups    []Community

	mu      sync.Mutex
	codes   map[string][]int64 // code → the communities it allows (nil: the admin's own token)
	tokens  map[string]int64   // token → community (0: the admin)
	ticked  []int64
	servers map[int64]CallbackServer
	seq     int
}

// NewAccount starts a fake VK for a VK app and an admin of groups.
func NewAccount(t testing.TB, appID, appSecret string, groups ...Community) *Account {
	t.Helper()
	a := &Account{appID: appID, appSecret: appSecret, groups: groups, codes: map[string][]int64{}, tokens: map[string]int64{},
		servers: map[int64]CallbackServer{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serveHTTP))
	t.Cleanup(a.srv.Close)
	return a
}

// URL is both the OAuth and the API base URL to configure.
func (a *Account) URL() string { return a.srv.URL }

// Tick makes the admin tick only these communities in the dialog (default: every one offered).
func (a *Account) Tick(ids ...int64) {
	a.mu.Lock()
	a.ticked = ids
	a.mu.Unlock()
}

// Server returns a community's Callback API server.
func (a *Account) Server(groupID int64) (CallbackServer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.servers[groupID]
	return s, ok
}

// Token returns the community token issued for a community ("" when none).
func (a *Account) Token(groupID int64) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, g := range a.tokens {
		if g == groupID {
			return t
		}
	}
	return ""
}

func (a *Account) group(id int64) (Community, bool) {
	for _, g := range a.groups {
		if g.ID == id {
			return g, true
		}
	}
	return Community{}, false
}

func (a *Account) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/authorize":
		a.authorize(w, r)
	case r.URL.Path == "/access_token":
		a.accessToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/method/"):
		a.method(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *Account) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != a.appID || err != nil || redirect.Scheme == "" || q.Get("response_type") != "code" || q.Get("v") == "" {
		http.Error(w, "invalid request", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.seq++
	code := fmt.Sprintf("code%d", a.seq)
	var allowed []int64
	if ids := q.Get("group_ids"); ids != "" {
		for s := range strings.SplitSeq(ids, ",") {
			id, _ := strconv.ParseInt(s, 10, 64)
			if _, ok := a.group(id); ok && (a.ticked == nil || slices.Contains(a.ticked, id)) {
				allowed = append(allowed, id)
			}
		}
		if !strings.Contains(q.Get("scope"), "messages") {
			a.mu.Unlock()
			http.Error(w, "a community token needs the messages scope", http.StatusBadRequest)
			return
		}
	}
	a.codes[code+"|"+q.Get("redirect_uri")] = allowed
	a.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (a *Account) accessToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "application/json")
	if q.Get("client_id") != a.appID || q.Get("client_secret") != a.appSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "client_secret is incorrect"})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	key := q.Get("code") + "|" + q.Get("redirect_uri")
	allowed, ok := a.codes[key]
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "Code is invalid or expired."})
		return
	}
	delete(a.codes, key)
	a.seq++
	if allowed == nil {
		token := fmt.Sprintf("vk1.a.user-token-%d", a.seq)
		a.tokens[token] = 0
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "expires_in": 86400, "user_id": 1001})
		return
	}
	out := map[string]any{"expires_in": 0}
	for _, id := range allowed {
		token := fmt.Sprintf("vk1.a.community-token-%d-%d", id, a.seq)
		a.tokens[token] = id
		out["access_token_"+strconv.FormatInt(id, 10)] = token
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (a *Account) method(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/method/")
	if err := r.ParseForm(); err != nil {
		vkError(w, 100, "One of the parameters specified was missing or invalid")
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	owner, ok := a.tokens[token]
	a.mu.Unlock()
	if !ok {
		vkError(w, 5, "User authorization failed: invalid access_token")
		return
	}
	gid, _ := strconv.ParseInt(r.Form.Get("group_id"), 10, 64)
	if method != "groups.get" && (owner == 0 || gid != owner) {
		vkError(w, 15, "Access denied: no access to this group")
		return
	}
	switch method {
	case "groups.get":
		if owner != 0 || r.Form.Get("filter") != "admin" {
			vkError(w, 27, "Group authorization failed: method is unavailable with group auth.")
			return
		}
		var items []map[string]any
		for _, g := range a.groups {
			items = append(items, map[string]any{"id": g.ID, "name": g.Name, "screen_name": "club" + strconv.FormatInt(g.ID, 10), "is_admin": 1})
		}
		response(w, map[string]any{"count": len(items), "items": items})
	case "groups.getById":
		g, _ := a.group(gid)
		response(w, map[string]any{"groups": []map[string]any{{"id": g.ID, "name": g.Name, "screen_name": "club" + strconv.FormatInt(g.ID, 10)}}})
	case "groups.getCallbackConfirmationCode":
		g, _ := a.group(gid)
		response(w, map[string]any{"code": g.Confirmation})
	case "groups.addCallbackServer":
		g, _ := a.group(gid)
		srv := CallbackServer{URL: r.Form.Get("url"), Secret: r.Form.Get("secret_key")}
		// VK checks the server at once: the confirmation must be answered with the code.
		body, _ := json.Marshal(map[string]any{"type": "confirmation", "group_id": gid, "secret": srv.Secret})
		res, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err == nil {
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			srv.Confirmed = res.StatusCode == http.StatusOK && string(got) == g.Confirmation
		}
		if !srv.Confirmed {
			vkError(w, 2000, "Server does not return the confirmation code")
			return
		}
		a.mu.Lock()
		a.servers[gid] = srv
		a.mu.Unlock()
		response(w, map[string]any{"server_id": 1})
	case "groups.setCallbackSettings":
		a.mu.Lock()
		s := a.servers[gid]
		s.MessageNew = r.Form.Get("message_new") == "1" && r.Form.Get("api_version") != ""
		a.servers[gid] = s
		a.mu.Unlock()
		response(w, 1)
	default:
		vkError(w, 3, "Unknown method passed")
	}
}
