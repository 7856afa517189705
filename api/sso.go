package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/linedesk/linedesk/store"
)

// Single sign-on for operators (feature X12): OpenID Connect's authorization code flow with PKCE
// through go-oidc and x/oauth2.
//
//	GET /api/v1/auth/oidc/login     → the provider, with state, nonce and an S256 code challenge
//	GET /api/v1/auth/oidc/callback  ← the provider, with the code; → the console, signed in
//
// The state, the nonce and the PKCE verifier travel in a short-lived encrypted HttpOnly cookie,
// not in this process's memory, so the provider may send the browser back to any api replica.
// Whatever goes wrong, the browser lands on the console's sign-in page with #sso_error=<code>,
// and no session is made.

// SSOConfig is the OpenID Connect provider operators sign in through. An empty Issuer turns
// single sign-on off.
type SSOConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read at the first sign-in.
	Issuer   string
	ClientID string
	// ClientSecret is the client's secret; empty for a public client (PKCE alone).
	ClientSecret string
	// RedirectURL is the callback the provider sends the browser back to (empty: the public URL's,
	// else the request's, /api/v1/auth/oidc/callback). It must be registered at the provider.
	RedirectURL string
	// Scopes asked for; "openid" is always among them.
	Scopes []string
	// GroupsClaim names the claim listing the user's groups at the provider (a dotted path such
	// as realm_access.roles reaches into an object).
	GroupsClaim string
	// RoleMap gives a provider group's members a linedesk role; the highest of a user's wins.
	RoleMap map[string]string
	// GroupMap makes a provider group's members members of linedesk groups (by name), which give
	// them their lines. Membership of the groups it names follows the provider at every sign-in;
	// other groups are left as admins set them.
	GroupMap map[string][]string
	// DefaultRole is the role of a user no RoleMap entry names; empty refuses such a user.
	DefaultRole string
	// Label is the sign-in button's text (empty: the console's "Sign in with SSO").
	Label string
	// HTTPClient talks to the provider (nil: one with a 15 s timeout).
	HTTPClient *http.Client
}

// Enabled reports whether single sign-on is configured.
func (c SSOConfig) Enabled() bool { return c.Issuer != "" }

// Single sign-on's routes, cookie and error codes.
const (
	ssoLoginPath    = "/api/v1/auth/oidc/login"
	ssoCallbackPath = "/api/v1/auth/oidc/callback"
	// ssoCookie holds the sign-in in flight, for the callback path only.
	ssoCookie     = "linedesk_sso"
	ssoCookiePath = "/api/v1/auth/oidc/"
	// ssoFlowTTL is how long a sign-in at the provider may take.
	ssoFlowTTL = 10 * time.Minute
)

// sso is the provider, discovered at the first sign-in and kept; a failed discovery is tried
// again at the next.
type sso struct {
	cfg  SSOConfig
	http *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func newSSO(cfg SSOConfig) *sso {
	c := cfg.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	return &sso{cfg: cfg, http: c}
}

// client is ctx with the HTTP client go-oidc and x/oauth2 talk to the provider with.
func (p *sso) client(ctx context.Context) context.Context { return oidc.ClientContext(ctx, p.http) }

// discover reads the provider's discovery document once.
func (p *sso) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, p.verifier, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	prov, err := oidc.NewProvider(p.client(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, nil, err
	}
	// The verifier checks the signature against the provider's keys, the issuer, the audience
	// (this client) and the expiry; the nonce is checked against the cookie's.
	p.provider, p.verifier = prov, prov.Verifier(&oidc.Config{ClientID: p.cfg.ClientID})
	return p.provider, p.verifier, nil
}

func (p *sso) oauth2(prov *oidc.Provider, redirect string) *oauth2.Config {
	ep := prov.Endpoint()
	if p.cfg.ClientSecret == "" {
		// A public client names itself in the body and has no secret to send.
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: ep,
		RedirectURL: redirect, Scopes: p.cfg.Scopes}
}

func (s *Server) ssoRedirectURL(c echo.Context) string {
	if s.sso.cfg.RedirectURL != "" {
		return s.sso.cfg.RedirectURL
	}
	return s.baseURL(c) + ssoCallbackPath
}

// ssoFlow is the sign-in in flight, kept in the browser in ssoCookie, sealed.
type ssoFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

func (s *Server) ssoAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.store.KeyFor("oidc sign-in flow"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

func (s *Server) sealSSOFlow(f ssoFlow) (string, error) {
	aead, err := s.ssoAEAD()
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nil, nil, plain, []byte(ssoCookie))), nil
}

var (
	errSSONoFlow      = errors.New("no sign-in in flight from this browser")
	errSSOFlowExpired = errors.New("the sign-in at the provider took too long")
)

func (s *Server) openSSOFlow(c echo.Context) (ssoFlow, error) {
	cookie, err := c.Cookie(ssoCookie)
	if err != nil || cookie.Value == "" {
		return ssoFlow{}, errSSONoFlow
	}
	aead, err := s.ssoAEAD()
	if err != nil {
		return ssoFlow{}, err
	}
	sealed, err := base64.RawURLEncoding.DecodeString(cookie.Value)
	if err != nil {
		return ssoFlow{}, errSSONoFlow
	}
	plain, err := aead.Open(nil, nil, sealed, []byte(ssoCookie))
	if err != nil {
		return ssoFlow{}, errSSONoFlow
	}
	var f ssoFlow
	if json.Unmarshal(plain, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return ssoFlow{}, errSSONoFlow
	}
	if time.Now().Unix() > f.Expires {
		return ssoFlow{}, errSSOFlowExpired
	}
	return f, nil
}

func (s *Server) setSSOCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: ssoCookie, Value: value, Path: ssoCookiePath, MaxAge: maxAge,
		// Lax: the provider sends the browser back with a top-level GET, which carries it.
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// ssoFailed sends the browser to the console's sign-in page, which explains the code.
func (s *Server) ssoFailed(c echo.Context, code string, detail error) error {
	ctx := c.Request().Context()
	if detail != nil {
		s.logger.WarnContext(ctx, "sso sign-in refused", "code", code, "error", detail)
	} else {
		s.logger.InfoContext(ctx, "sso sign-in refused", "code", code)
	}
	return c.Redirect(http.StatusFound, "/#"+url.Values{"sso_error": {code}}.Encode())
}

type authConfigResponse struct {
	SSO ssoSettings `json:"sso"`
}

type ssoSettings struct {
	Enabled bool `json:"enabled"`
	// Label is the button's text; empty: the console's own.
	Label string `json:"label"`
	// LoginURL is where the button sends the browser.
	LoginURL string `json:"login_url,omitempty"`
}

// authConfig tells the sign-in page how one may sign in.
func (s *Server) authConfig(c echo.Context) error {
	out := authConfigResponse{}
	if s.sso.cfg.Enabled() {
		out.SSO = ssoSettings{Enabled: true, Label: s.sso.cfg.Label, LoginURL: ssoLoginPath}
	}
	return c.JSON(http.StatusOK, out)
}

// ssoLogin starts a sign-in at the provider.
func (s *Server) ssoLogin(c echo.Context) error {
	if !s.sso.cfg.Enabled() {
		return s.ssoFailed(c, "sso_off", nil)
	}
	prov, _, err := s.sso.discover(c.Request().Context())
	if err != nil {
		return s.ssoFailed(c, "provider_unavailable", err)
	}
	f := ssoFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Expires: time.Now().Add(ssoFlowTTL).Unix()}
	sealed, err := s.sealSSOFlow(f)
	if err != nil {
		return s.ssoFailed(c, "sso_failed", err)
	}
	s.setSSOCookie(c, sealed, int(ssoFlowTTL.Seconds()))
	to := s.sso.oauth2(prov, s.ssoRedirectURL(c)).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return c.Redirect(http.StatusFound, to)
}

// ssoCallback finishes a sign-in: it checks the state against the cookie's, exchanges the code
// with the PKCE verifier, verifies the ID token and its nonce, and signs the user with the
// token's email in (made at their first sign-in), with the role and groups their provider groups
// map to.
func (s *Server) ssoCallback(c echo.Context) error {
	flow, flowErr := s.openSSOFlow(c)
	// The flow is spent whatever happens next: the same callback cannot be replayed.
	s.setSSOCookie(c, "", -1)
	if !s.sso.cfg.Enabled() {
		return s.ssoFailed(c, "sso_off", nil)
	}
	q := c.QueryParams()
	switch {
	case errors.Is(flowErr, errSSOFlowExpired):
		return s.ssoFailed(c, "login_expired", nil)
	case flowErr != nil:
		return s.ssoFailed(c, "state_mismatch", flowErr)
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1:
		return s.ssoFailed(c, "state_mismatch", errors.New("the state does not match this browser's sign-in"))
	}
	if e := q.Get("error"); e != "" {
		detail := errors.New(strings.TrimSpace(e + ": " + q.Get("error_description")))
		if e == "access_denied" {
			return s.ssoFailed(c, "access_denied", detail)
		}
		return s.ssoFailed(c, "provider_error", detail)
	}
	code := q.Get("code")
	if code == "" {
		return s.ssoFailed(c, "provider_error", errors.New("the provider sent no code"))
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	prov, verifier, err := s.sso.discover(ctx)
	if err != nil {
		return s.ssoFailed(c, "provider_unavailable", err)
	}
	tok, err := s.sso.oauth2(prov, s.ssoRedirectURL(c)).Exchange(s.sso.client(ctx), code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return s.ssoFailed(c, "exchange_failed", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return s.ssoFailed(c, "invalid_token", errors.New("the token response has no id_token"))
	}
	idToken, err := verifier.Verify(s.sso.client(ctx), raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return s.ssoFailed(c, "token_expired", err)
	case err != nil:
		return s.ssoFailed(c, "invalid_token", err)
	case subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(flow.Nonce)) != 1:
		return s.ssoFailed(c, "invalid_token", errors.New("the ID token's nonce is not this sign-in's"))
	}
	claims := map[string]any{}
	if err := idToken.Claims(&claims); err != nil {
		return s.ssoFailed(c, "invalid_token", err)
	}
	s.addUserInfo(ctx, prov, tok, idToken.Subject, claims)

	in, code, err := s.sso.signIn(claims)
	if err != nil {
		return s.ssoFailed(c, code, err)
	}
	out, err := s.ssoSignIn(c, in)
	switch {
	case errors.Is(err, store.ErrUserDisabled):
		return s.ssoFailed(c, "user_disabled", err)
	case errors.Is(err, store.ErrUnavailable):
		return s.ssoFailed(c, "unavailable", err)
	case err != nil:
		s.logger.ErrorContext(ctx, "sso sign-in failed", "error", err)
		return s.ssoFailed(c, "sso_failed", nil)
	}
	if out.KeptAdmin {
		s.logger.WarnContext(ctx, "sso sign-in: the last enabled admin keeps the admin role the provider's groups do not give",
			"user_id", out.User.ID, "role", in.Role)
	}
	if len(out.UnknownGroups) > 0 {
		s.logger.WarnContext(ctx, "sso sign-in: LINEDESK_OIDC_GROUP_MAP names groups that do not exist", "groups", out.UnknownGroups)
	}
	if err := s.startSession(c, out.User.ID); err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			return s.ssoFailed(c, "unavailable", err)
		}
		s.logger.ErrorContext(ctx, "sso sign-in: start session", "error", err)
		return s.ssoFailed(c, "sso_failed", nil)
	}
	s.logger.InfoContext(ctx, "sso sign-in", "user_id", out.User.ID, "role", out.User.Role, "created", out.Created)
	return c.Redirect(http.StatusFound, "/")
}

// addUserInfo fills in the email and groups from the provider's userinfo endpoint when the ID
// token lacks them (some providers keep groups there). The ID token's claims win; userinfo of
// another subject is ignored.
func (s *Server) addUserInfo(ctx context.Context, prov *oidc.Provider, tok *oauth2.Token, subject string, claims map[string]any) {
	_, hasEmail := claims["email"]
	needGroups := len(s.sso.cfg.RoleMap)+len(s.sso.cfg.GroupMap) > 0 && claimAt(claims, s.sso.cfg.GroupsClaim) == nil
	if (hasEmail && !needGroups) || prov.UserInfoEndpoint() == "" || tok.AccessToken == "" {
		return
	}
	info, err := prov.UserInfo(s.sso.client(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		s.logger.WarnContext(ctx, "sso sign-in: userinfo", "error", err)
		return
	}
	if info.Subject != subject {
		s.logger.WarnContext(ctx, "sso sign-in: userinfo is about another subject")
		return
	}
	more := map[string]any{}
	if err := info.Claims(&more); err != nil {
		return
	}
	for k, v := range more {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
}

// signIn reads who signed in from the token's claims and maps their groups; the string is the
// error code of a refusal.
func (p *sso) signIn(claims map[string]any) (store.SSOSignIn, string, error) {
	email, _ := claims["email"].(string)
	email = strings.TrimSpace(email)
	if email == "" {
		return store.SSOSignIn{}, "no_email", errors.New("the provider sent no email claim (ask for the email scope)")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > maxEmailLen {
		return store.SSOSignIn{}, "no_email", errors.New("the email claim is not a plain address")
	}
	switch v := claims["email_verified"].(type) {
	case bool:
		if !v {
			return store.SSOSignIn{}, "email_not_verified", errors.New("the provider has not verified " + email)
		}
	case string:
		if strings.EqualFold(v, "false") {
			return store.SSOSignIn{}, "email_not_verified", errors.New("the provider has not verified " + email)
		}
	}
	groups := claimStrings(claimAt(claims, p.cfg.GroupsClaim))
	role := ""
	for _, g := range groups {
		if r := p.cfg.RoleMap[g]; store.RoleRank(r) > store.RoleRank(role) {
			role = r
		}
	}
	if role == "" {
		role = p.cfg.DefaultRole
	}
	if role == "" {
		return store.SSOSignIn{}, "no_role", errors.New(email + " is in no provider group LINEDESK_OIDC_ROLE_MAP names")
	}
	in := store.SSOSignIn{Email: email, Name: claimName(claims, email), Role: role}
	for g, names := range p.cfg.GroupMap {
		in.Managed = append(in.Managed, names...)
		if slices.Contains(groups, g) {
			in.Groups = append(in.Groups, names...)
		}
	}
	slices.Sort(in.Managed)
	in.Managed = slices.Compact(in.Managed)
	return in, "", nil
}

// ssoSignIn finds or makes the user and applies the mapping, audited: a new user is recorded as
// made by single sign-on, and a change of role or groups as the sign-in's.
func (s *Server) ssoSignIn(c echo.Context, in store.SSOSignIn) (store.SSOOutcome, error) {
	ctx := c.Request().Context()
	var out store.SSOOutcome
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if out, err = tx.SignInWithSSO(ctx, in); err != nil {
			return err
		}
		ch := store.AuditChange{Entity: store.AuditUser, ID: auditID(out.User.ID), Action: store.AuditSSOSync, After: out.After}
		if out.Created {
			ch.Action = store.AuditSSOProvision
		} else {
			ch.Before = *out.Before
		}
		return tx.Audit(ctx, store.Actor{UserID: out.User.ID, RemoteAddr: c.RealIP()}, ch)
	})
	return out, err
}

// claimAt reads a claim by name, or by a dotted path into nested objects when no claim has the
// whole name (namespaced claims such as https://example.com/groups hold dots themselves).
func claimAt(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// claimStrings reads a list of strings (or one string) from a claim.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimName is a new user's name: the name claim, else the given and family names, else the
// preferred username, else the email.
func claimName(claims map[string]any, email string) string {
	str := func(k string) string { v, _ := claims[k].(string); return strings.TrimSpace(v) }
	name := str("name")
	if name == "" {
		name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if name == "" {
		name = str("preferred_username")
	}
	if name == "" {
		name = email
	}
	if r := []rune(name); len(r) > maxNameLen {
		name = string(r[:maxNameLen])
	}
	return name
}
