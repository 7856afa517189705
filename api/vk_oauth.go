package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors/vk"
	"github.com/linedesk/linedesk/store"
)

// VKApp is the VK app communities are connected through with VK's OAuth (seed 000: sign in to VK,
// allow the app, tick the communities). Without an AppID the admin pastes a community token.
type VKApp struct {
	AppID     string
	AppSecret string
	// OAuthURL and APIURL are VK's (empty: oauth.vk.com, api.vk.com); a fake's in tests.
	OAuthURL string
	APIURL   string
}

func (s *Server) vkOAuth() vk.OAuth {
	return vk.OAuth{AppID: s.vkApp.AppID, AppSecret: s.vkApp.AppSecret, OAuthURL: s.vkApp.OAuthURL, APIURL: s.vkApp.APIURL}
}

// vkState is what a VK OAuth round trip carries: who started it, for which line, which step,
// until when. It is signed with a key derived from the secrets key, and only its starter's session
// may finish it.
type vkState struct {
	User    int64  `json:"u"`
	Line    int64  `json:"l"`
	Step    string `json:"s"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

func (s *Server) signVKState(st vkState) string {
	b, _ := json.Marshal(st)
	p := base64.RawURLEncoding.EncodeToString(b)
	m := hmac.New(sha256.New, s.store.KeyFor("vk oauth state"))
	m.Write([]byte(p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) openVKState(raw string, user int64) (vkState, error) {
	p, sig, ok := strings.Cut(raw, ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	m := hmac.New(sha256.New, s.store.KeyFor("vk oauth state"))
	m.Write([]byte(p))
	if !ok || err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return vkState{}, errors.New("the sign-in to VK was not started here")
	}
	var st vkState
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(b, &st) != nil {
		return vkState{}, errors.New("the sign-in to VK was not started here")
	}
	if st.User != user {
		return vkState{}, errors.New("the sign-in to VK was started by another user")
	}
	if time.Now().Unix() > st.Expires {
		return vkState{}, errors.New("the sign-in to VK took too long; start again")
	}
	return st, nil
}

func (s *Server) vkRedirect(c echo.Context) string {
	return s.baseURL(c) + "/api/v1/vk/oauth"
}

type vkConnectBody struct {
	LineID int64 `json:"line_id"`
}

// startVKOAuth begins connecting communities through VK: the answer's authorize_url is where the
// admin's browser goes to sign in to VK.
func (s *Server) startVKOAuth(c echo.Context) error {
	var b vkConnectBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if s.vkApp.AppID == "" || s.vkApp.AppSecret == "" {
		return newError(http.StatusConflict, "vk_app_not_configured",
			"no VK app is configured (LINEDESK_VK_APP_ID and LINEDESK_VK_APP_SECRET): paste a community token instead")
	}
	ctx := c.Request().Context()
	if b.LineID <= 0 {
		return newError(http.StatusBadRequest, "invalid_fields", "line_id is required")
	}
	if _, err := s.store.LineByID(ctx, b.LineID); errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusBadRequest, "invalid_fields", "line_id %d does not exist", b.LineID)
	} else if err != nil {
		return err
	}
	state := s.signVKState(vkState{User: currentUser(c).ID, Line: b.LineID, Step: "user", Expires: time.Now().Add(15 * time.Minute).Unix(), Nonce: nonce()})
	return c.JSON(http.StatusOK, map[string]string{"authorize_url": s.vkOAuth().UserAuthorizeURL(s.vkRedirect(c), state)})
}

func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// vkOAuthCallback is where VK sends the admin's browser back. After the admin's sign-in it lists
// the communities they administer and sends them to VK's dialog to tick those to connect; after
// that, each ticked community becomes a vk channel of the line (or its existing channel gets the
// new token), with its Callback API server added and confirmed. The browser lands on the
// channels page, which says what was connected or what went wrong.
func (s *Server) vkOAuthCallback(c echo.Context) error {
	back := func(key, value string) error {
		return c.Redirect(http.StatusFound, "/admin/channels?"+url.Values{key: {value}}.Encode())
	}
	q := c.QueryParams()
	st, err := s.openVKState(q.Get("state"), currentUser(c).ID)
	if err != nil {
		return back("vk_error", err.Error())
	}
	if e := q.Get("error"); e != "" {
		return back("vk_error", "VK: "+strings.TrimSpace(e+" "+q.Get("error_description")))
	}
	code := q.Get("code")
	if code == "" {
		return back("vk_error", "VK sent no code")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 60*time.Second)
	defer cancel()
	o := s.vkOAuth()
	switch st.Step {
	case "user":
		token, err := o.UserToken(ctx, s.vkRedirect(c), code)
		if err != nil {
			return back("vk_error", err.Error())
		}
		groups, err := o.AdminGroups(ctx, token)
		if err != nil {
			return back("vk_error", "list your communities: "+err.Error())
		}
		if len(groups) == 0 {
			return back("vk_error", "you administer no VK community; create one first")
		}
		ids := make([]int64, len(groups))
		for i, g := range groups {
			ids[i] = g.ID
		}
		st.Step, st.Nonce = "groups", nonce()
		return c.Redirect(http.StatusFound, o.GroupsAuthorizeURL(s.vkRedirect(c), s.signVKState(st), ids))
	case "groups":
		tokens, err := o.GroupTokens(ctx, s.vkRedirect(c), code)
		if err != nil {
			return back("vk_error", err.Error())
		}
		ids := make([]int64, 0, len(tokens))
		for id := range tokens {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var done []string
		for _, id := range ids {
			name, err := s.connectVKCommunity(c, ctx, st.Line, id, tokens[id])
			if err != nil {
				s.logger.WarnContext(ctx, "vk community not connected", "group_id", id, "error", err)
				return back("vk_error", fmt.Sprintf("community %d: %s", id, err.Error()))
			}
			done = append(done, name)
		}
		return back("vk_connected", strings.Join(done, ", "))
	default:
		return back("vk_error", "the sign-in to VK was not started here")
	}
}

// connectVKCommunity makes (or updates) the community's vk channel with its token, fetches the
// confirmation code, and adds the desk as the community's Callback API server.
func (s *Server) connectVKCommunity(c echo.Context, ctx context.Context, line, groupID int64, token string) (string, error) {
	conn := s.connectors["vk"]
	cl := &vk.Client{BaseURL: s.vkApp.APIURL, Token: token}
	g, err := cl.GroupByID(ctx, groupID)
	if err != nil {
		return "", err
	}
	settings := map[string]any{"group_id": groupID}
	if s.vkApp.APIURL != "" {
		settings["api_base_url"] = s.vkApp.APIURL
	}
	raw, _ := json.Marshal(settings)
	var id int64
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		existing, err := tx.VKChannelByGroup(ctx, groupID)
		switch {
		case err == nil:
			id = existing.ID
			have, err := tx.ChannelCredentials(ctx, id)
			if err != nil {
				return store.AuditChange{}, err
			}
			creds := mergeCredentials(have, map[string]string{vk.CredentialAccessToken: token})
			if err := tx.SetChannelCredentials(ctx, id, creds); err != nil {
				return store.AuditChange{}, err
			}
			return store.AuditChange{Entity: store.AuditChannel, ID: auditID(id), Action: store.AuditUpdate,
				Before: auditedChannel(existing, have), After: auditedChannel(existing, creds)}, nil
		case errors.Is(err, store.ErrNotFound):
			if err := conn.ValidateSettings(raw, map[string]string{vk.CredentialAccessToken: token}); err != nil {
				return store.AuditChange{}, err
			}
			out, _, err := tx.CreateChannel(ctx, store.Channel{Kind: "vk", Name: g.Name, LineID: line, Settings: raw, Enabled: true})
			if err != nil {
				return store.AuditChange{}, err
			}
			id = out.ID
			creds := store.Credentials{vk.CredentialAccessToken: token}
			if err := tx.SetChannelCredentials(ctx, id, creds); err != nil {
				return store.AuditChange{}, err
			}
			return store.AuditChange{Entity: store.AuditChannel, ID: auditID(id), Action: store.AuditCreate, After: auditedChannel(out, creds)}, nil
		default:
			return store.AuditChange{}, err
		}
	})
	if err != nil {
		return "", err
	}
	_, cch, err := channelFor(ctx, s.store, id)
	if err != nil {
		return "", err
	}
	hookURL := s.hookURL(c, id)
	if _, err := s.connect(ctx, conn, cch, hookURL); err != nil {
		return "", err
	}
	if _, err := cl.AddCallbackServer(ctx, groupID, hookURL, "linedesk", cch.HookSecret); err != nil {
		return "", fmt.Errorf("add the Callback API server: %w", err)
	}
	return g.Name, s.auditConnect(c, id, connection{WebhookURL: hookURL, Registered: true, Account: g.Name}, "vk oauth")
}
