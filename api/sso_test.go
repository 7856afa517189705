package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// Single sign-on is tested against a real OpenID Connect provider run in the test
// (oauth2-proxy/mockoidc): discovery, JWKS, RS256 ID tokens, codes bound to the nonce and to the
// PKCE challenge, and a token endpoint that checks the verifier and spends each code once.

// idpUser is someone the provider signs in. tamper alters the ID token's standard claims (to
// sign a token for another audience, already expired, or with another nonce).
type idpUser struct {
	sub, email, name string
	// verified is email_verified (nil: not sent).
	verified *bool
	groups   []string
	// groupsInUserinfo keeps the groups out of the ID token: only userinfo has them.
	groupsInUserinfo bool
	tamper           func(*mockoidc.IDTokenClaims)
}

func (u idpUser) ID() string { return u.sub }

func (u idpUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email, "groups": u.groups})
}

type idpClaims struct {
	*mockoidc.IDTokenClaims
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
	Name          string   `json:"name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

func (u idpUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.tamper != nil {
		u.tamper(base)
	}
	c := &idpClaims{IDTokenClaims: base, Email: u.email, EmailVerified: u.verified, Name: u.name}
	if !u.groupsInUserinfo {
		c.Groups = u.groups
	}
	return c, nil
}

var yes = func() *bool { b := true; return &b }()

// ssoDesk is two api replicas of one desk behind a round-robin load balancer, with single
// sign-on through a provider of the test's own.
type ssoDesk struct {
	t     *testing.T
	idp   *mockoidc.MockOIDC
	store *store.Store
	url   string // the load balancer's
	// hits counts the requests each replica served.
	hits *[2]atomic.Int64
}

// in is the desk for a subtest: its helpers fail that test.
func (d *ssoDesk) in(t *testing.T) *ssoDesk {
	c := *d
	c.t = t
	return &c
}

func newSSODesk(t *testing.T, mutate func(*api.SSOConfig)) *ssoDesk {
	t.Helper()
	idp, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = idp.Shutdown() })
	cfg := api.SSOConfig{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		Scopes: []string{"openid", "email", "profile", "groups"}, GroupsClaim: "groups",
		RoleMap:     map[string]string{"desk-admins": "admin", "desk-leads": "supervisor"},
		GroupMap:    map[string][]string{"support": {"Support operators"}, "sales": {"Sales operators", "Missing group"}},
		DefaultRole: store.RoleOperator, Label: "Sign in with Example ID"}
	if mutate != nil {
		mutate(&cfg)
	}
	// Two replicas are two processes: each its own store on the one database, sealing with the
	// one configured key, and nothing else shared.
	pool := storetest.NewPool(t)
	key := secretbox.NewKey()
	d := &ssoDesk{t: t, idp: idp, hits: new([2]atomic.Int64)}
	var replicas [2]*httptest.Server
	for i := range replicas {
		box, err := secretbox.New(key)
		require.NoError(t, err)
		st := store.New(pool).WithSecrets(box)
		if i == 0 {
			d.store = st
		}
		h := api.New(api.Deps{Store: st, Logger: slog.New(slog.DiscardHandler), SSO: cfg})
		replicas[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d.hits[i].Add(1)
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(replicas[i].Close)
	}
	var next atomic.Int64
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		target, _ := url.Parse(replicas[next.Add(1)%2].URL)
		r.SetURL(target)
		r.Out.Host = r.In.Host // the replicas see the address the browser used
	}})
	t.Cleanup(lb.Close)
	d.url = lb.URL
	_, err = d.store.CreateUser(t.Context(), store.NewUser{Email: "admin@example.com", Name: "Admin", Password: "secret", Role: store.RoleAdmin})
	require.NoError(t, err)
	return d
}

// browser is a cookie jar that follows no redirect by itself.
func (d *ssoDesk) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get sends a GET and returns the answer's status and Location.
func (d *ssoDesk) get(b *http.Client, u string) (int, string) {
	d.t.Helper()
	res, err := b.Get(u)
	require.NoError(d.t, err)
	defer res.Body.Close()
	require.Less(d.t, res.StatusCode, 500, "GET %s", u)
	return res.StatusCode, res.Header.Get("Location")
}

// start opens the sign-in page's SSO link and returns where it sends the browser: the
// provider's authorization URL.
func (d *ssoDesk) start(b *http.Client) *url.URL {
	d.t.Helper()
	status, loc := d.get(b, d.url+"/api/v1/auth/oidc/login")
	require.Equal(d.t, http.StatusFound, status)
	to, err := url.Parse(loc)
	require.NoError(d.t, err)
	require.True(d.t, strings.HasPrefix(loc, d.idp.AuthorizationEndpoint()), loc)
	return to
}

// authorize is the user signing in at the provider: it returns the callback URL with the code.
func (d *ssoDesk) authorize(b *http.Client, to *url.URL, u idpUser) *url.URL {
	d.t.Helper()
	d.idp.QueueUser(u)
	status, loc := d.get(b, to.String())
	require.Equal(d.t, http.StatusFound, status)
	back, err := url.Parse(loc)
	require.NoError(d.t, err)
	require.Equal(d.t, "/api/v1/auth/oidc/callback", back.Path)
	require.NotEmpty(d.t, back.Query().Get("code"))
	return back
}

// finish opens the callback and returns where the desk sends the browser.
func (d *ssoDesk) finish(b *http.Client, back *url.URL) string {
	d.t.Helper()
	status, loc := d.get(b, back.String())
	require.Equal(d.t, http.StatusFound, status)
	return loc
}

// signIn is the whole round trip.
func (d *ssoDesk) signIn(b *http.Client, u idpUser) string {
	d.t.Helper()
	return d.finish(b, d.authorize(b, d.start(b), u))
}

type meAnswer struct {
	User   store.User   `json:"user"`
	Access store.Access `json:"access"`
}

// me reads GET /me; ok is false when the browser holds no session.
func (d *ssoDesk) me(b *http.Client) (meAnswer, bool) {
	d.t.Helper()
	res, err := b.Get(d.url + "/api/v1/me")
	require.NoError(d.t, err)
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized {
		return meAnswer{}, false
	}
	require.Equal(d.t, http.StatusOK, res.StatusCode)
	var m meAnswer
	require.NoError(d.t, json.NewDecoder(res.Body).Decode(&m))
	return m, true
}

// refused checks a refusal: the browser is on the sign-in page with the code, and holds no
// session.
func (d *ssoDesk) refused(b *http.Client, loc, code string) {
	d.t.Helper()
	require.Equal(d.t, "/#sso_error="+code, loc)
	u, _ := url.Parse(d.url)
	for _, c := range b.Jar.Cookies(u) {
		require.NotEqual(d.t, api.SessionCookie, c.Name, "a refused sign-in made a session")
	}
	_, ok := d.me(b)
	require.False(d.t, ok)
}

func (d *ssoDesk) userByEmail(email string) (store.UserInfo, bool) {
	d.t.Helper()
	users, err := d.store.ListUsers(d.t.Context())
	require.NoError(d.t, err)
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return store.UserInfo{}, false
}

func (d *ssoDesk) group(name string, line int64, members ...int64) store.Group {
	d.t.Helper()
	g, err := d.store.SaveGroup(d.t.Context(), store.Group{Name: name, Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni}, LineIDs: []int64{line}, MemberIDs: members})
	require.NoError(d.t, err)
	return g
}

func TestSSOSignInProvisionsAndMapsGroups(t *testing.T) {
	t.Parallel()
	d := newSSODesk(t, nil)
	ctx := t.Context()
	support, err := d.store.CreateLine(ctx, store.Line{Name: "Support"})
	require.NoError(t, err)
	sales, err := d.store.CreateLine(ctx, store.Line{Name: "Sales"})
	require.NoError(t, err)
	d.group("Support operators", support.ID)
	d.group("Sales operators", sales.ID)

	// The sign-in page learns that single sign-on is on, and the button's text.
	res, err := http.Get(d.url + "/api/v1/auth/config")
	require.NoError(t, err)
	var conf struct {
		SSO struct {
			Enabled  bool   `json:"enabled"`
			Label    string `json:"label"`
			LoginURL string `json:"login_url"`
		} `json:"sso"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&conf))
	res.Body.Close()
	require.True(t, conf.SSO.Enabled)
	require.Equal(t, "Sign in with Example ID", conf.SSO.Label)
	require.Equal(t, "/api/v1/auth/oidc/login", conf.SSO.LoginURL)

	// The provider is asked for the code flow with a state, a nonce and an S256 challenge.
	b := d.browser()
	to := d.start(b)
	q := to.Query()
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, d.idp.ClientID, q.Get("client_id"))
	require.Equal(t, d.url+"/api/v1/auth/oidc/callback", q.Get("redirect_uri"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Len(t, q.Get("code_challenge"), 43)
	require.NotEmpty(t, q.Get("state"))
	require.NotEmpty(t, q.Get("nonce"))
	require.Contains(t, strings.Fields(q.Get("scope")), "openid")

	olga := idpUser{sub: "olga-1", email: "Olga@Example.com", name: "Olga Petrova", verified: yes, groups: []string{"support", "unmapped"}}
	require.Equal(t, "/", d.finish(b, d.authorize(b, to, olga)))
	me, ok := d.me(b)
	require.True(t, ok, "signed in")
	require.Equal(t, "Olga@Example.com", me.User.Email)
	require.Equal(t, "Olga Petrova", me.User.Name)
	require.Equal(t, store.RoleOperator, me.User.Role, "in no role-mapped group: the default role")
	require.Equal(t, []int64{support.ID}, me.Access.OperatorLines, "the support group gives the Support line")
	require.Positive(t, d.hits[0].Load())
	require.Positive(t, d.hits[1].Load(), "the sign-in went through both replicas")

	// The session is the password login's: it works for the API as any other.
	res, err = b.Get(d.url + "/api/v1/lines")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	info, ok := d.userByEmail("olga@example.com")
	require.True(t, ok)
	audit, err := d.store.AuditLog(ctx, store.AuditFilter{EntityKind: store.AuditUser.Kind, EntityID: strconv.FormatInt(info.ID, 10)})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	require.Equal(t, store.AuditSSOProvision, audit[0].Action)
	require.Equal(t, info.ID, *audit[0].ActorID)

	// An admin also puts her in a group the mapping does not name: that stays hers.
	night := d.group("Night shift", sales.ID, info.ID)

	// At the provider she moves from support to sales and becomes a lead: the next sign-in (in
	// another browser) follows.
	olga.groups = []string{"sales", "desk-leads"}
	b2 := d.browser()
	require.Equal(t, "/", d.signIn(b2, olga))
	me, ok = d.me(b2)
	require.True(t, ok)
	require.Equal(t, store.RoleSupervisor, me.User.Role)
	require.Equal(t, []int64{sales.ID}, me.Access.OperatorLines, "out of Support operators, into Sales operators; Night shift kept")
	info, _ = d.userByEmail("olga@example.com")
	salesGroup := groupNamed(t, d.store, "Sales operators")
	require.ElementsMatch(t, []int64{salesGroup.ID, night.ID}, info.GroupIDs)
	audit, err = d.store.AuditLog(ctx, store.AuditFilter{EntityKind: store.AuditUser.Kind, EntityID: strconv.FormatInt(info.ID, 10)})
	require.NoError(t, err)
	require.Len(t, audit, 2)
	require.Equal(t, store.AuditSSOSync, audit[0].Action)
	require.JSONEq(t, `{"role":"operator","groups":["Night shift","Support operators"]}`, string(audit[0].Before))
	require.JSONEq(t, `{"role":"supervisor","groups":["Night shift","Sales operators"]}`, string(audit[0].After))

	// Signing in again with nothing changed records nothing.
	require.Equal(t, "/", d.signIn(d.browser(), olga))
	audit, err = d.store.AuditLog(ctx, store.AuditFilter{EntityKind: store.AuditUser.Kind, EntityID: strconv.FormatInt(info.ID, 10)})
	require.NoError(t, err)
	require.Len(t, audit, 2)

	// Out of every mapped group at the provider: back to the default role, and out of the mapped
	// groups' lines at once, in the browser that signed in earlier too (the role is the user's).
	olga.groups = nil
	require.Equal(t, "/", d.signIn(d.browser(), olga))
	me, ok = d.me(b2)
	require.True(t, ok)
	require.Equal(t, store.RoleOperator, me.User.Role)
	require.Equal(t, []int64{sales.ID}, me.Access.OperatorLines, "Night shift, which an admin gave, stays")

	// A user an admin made with a password signs in with the provider too (the email, in any
	// case, is theirs), and becomes an admin through the admins' group.
	_, err = d.store.CreateUser(ctx, store.NewUser{Email: "pavel@example.com", Name: "Pavel", Password: "pw-Pavel-1", Role: store.RoleOperator})
	require.NoError(t, err)
	b3 := d.browser()
	require.Equal(t, "/", d.signIn(b3, idpUser{sub: "p", email: "PAVEL@example.com", groups: []string{"desk-admins", "desk-leads"}}))
	me, ok = d.me(b3)
	require.True(t, ok)
	require.Equal(t, "pavel@example.com", me.User.Email)
	require.Equal(t, "Pavel", me.User.Name, "an existing user's name stays")
	require.Equal(t, store.RoleAdmin, me.User.Role, "the highest mapped role wins")
}

func TestSSOGroupsFromUserinfo(t *testing.T) {
	t.Parallel()
	d := newSSODesk(t, nil)
	b := d.browser()
	require.Equal(t, "/", d.signIn(b, idpUser{sub: "n", email: "nina@example.com", groups: []string{"desk-leads"}, groupsInUserinfo: true}))
	me, ok := d.me(b)
	require.True(t, ok)
	require.Equal(t, store.RoleSupervisor, me.User.Role, "the groups came from the userinfo endpoint")
	require.Equal(t, "nina@example.com", me.User.Name, "no name claim: the email")
}

func TestSSORefusesAndMakesNoSession(t *testing.T) {
	t.Parallel()
	d := newSSODesk(t, nil)
	ann := idpUser{sub: "ann", email: "ann@example.com", verified: yes, groups: []string{"support"}}
	nobody := func(t *testing.T) {
		t.Helper()
		_, ok := d.in(t).userByEmail("ann@example.com")
		require.False(t, ok, "a refused first sign-in made no user")
	}

	t.Run("state of another sign-in", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		back := d.authorize(b, d.start(b), ann)
		q := back.Query()
		q.Set("state", "forged")
		back.RawQuery = q.Encode()
		d.refused(b, d.finish(b, back), "state_mismatch")
		nobody(t)
	})
	t.Run("callback in a browser that did not start it (login CSRF)", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		back := d.authorize(b, d.start(b), ann)
		victim := d.browser()
		d.refused(victim, d.finish(victim, back), "state_mismatch")
		nobody(t)
	})
	t.Run("tampered flow cookie", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		back := d.authorize(b, d.start(b), ann)
		u, _ := url.Parse(d.url + "/api/v1/auth/oidc/")
		cookies := b.Jar.Cookies(u)
		require.Len(t, cookies, 1)
		v := []byte(cookies[0].Value)
		v[len(v)/2] ^= 1
		b.Jar.SetCookies(u, []*http.Cookie{{Name: cookies[0].Name, Value: string(v), Path: "/api/v1/auth/oidc/"}})
		d.refused(b, d.finish(b, back), "state_mismatch")
		nobody(t)
	})
	t.Run("a code bound to another PKCE challenge", func(t *testing.T) {
		// An attacker's code, injected into the victim's own sign-in: the state is the victim's,
		// but the code was issued for the attacker's challenge, so the victim's verifier fails.
		attacker := d.browser()
		stolen := d.authorize(attacker, d.start(attacker), ann)
		victim := d.browser()
		own := d.start(victim).Query().Get("state")
		q := stolen.Query()
		q.Set("state", own)
		stolen.RawQuery = q.Encode()
		d.refused(victim, d.finish(victim, stolen), "exchange_failed")
		nobody(t)
	})
	t.Run("a replayed code", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		back := d.authorize(b, d.start(b), ann)
		require.Equal(t, "/", d.finish(b, back))
		// The same callback again: the flow cookie is spent.
		again := d.browser()
		require.Equal(t, "/#sso_error=state_mismatch", d.finish(b, back))
		// The code inside a fresh sign-in: the provider refuses it the second time.
		q := back.Query()
		q.Set("state", d.start(again).Query().Get("state"))
		back.RawQuery = q.Encode()
		d.refused(again, d.finish(again, back), "exchange_failed")
	})
	t.Run("consent denied", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		state := d.start(b).Query().Get("state")
		back, _ := url.Parse(d.url + "/api/v1/auth/oidc/callback?" + url.Values{"state": {state}, "error": {"access_denied"},
			"error_description": {"The user declined"}}.Encode())
		d.refused(b, d.finish(b, back), "access_denied")
	})
	for _, tc := range []struct {
		name string
		user idpUser
		code string
	}{
		{"expired ID token", idpUser{sub: "x", email: "x@example.com", tamper: func(c *mockoidc.IDTokenClaims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}}, "token_expired"},
		{"ID token for another client", idpUser{sub: "x", email: "x@example.com", tamper: func(c *mockoidc.IDTokenClaims) {
			c.Audience = jwt.ClaimStrings{"another-client"}
		}}, "invalid_token"},
		{"ID token from another issuer", idpUser{sub: "x", email: "x@example.com", tamper: func(c *mockoidc.IDTokenClaims) {
			c.Issuer = "https://evil.example.com"
		}}, "invalid_token"},
		{"ID token of another sign-in (nonce)", idpUser{sub: "x", email: "x@example.com", tamper: func(c *mockoidc.IDTokenClaims) {
			c.Nonce = "replayed"
		}}, "invalid_token"},
		{"no email", idpUser{sub: "x"}, "no_email"},
		{"email not verified", idpUser{sub: "x", email: "x@example.com", verified: new(bool)}, "email_not_verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := d.in(t)
			b := d.browser()
			d.refused(b, d.signIn(b, tc.user), tc.code)
			_, ok := d.userByEmail("x@example.com")
			require.False(t, ok)
		})
	}
	t.Run("disabled user", func(t *testing.T) {
		d := d.in(t)
		b := d.browser()
		require.Equal(t, "/", d.signIn(b, ann))
		info, ok := d.userByEmail("ann@example.com")
		require.True(t, ok)
		disabled := true
		_, err := d.store.UpdateUser(t.Context(), info.ID, store.UserChange{Disabled: &disabled})
		require.NoError(t, err)
		_, ok = d.me(b)
		require.False(t, ok, "disabling ended the session")
		ann.groups = []string{"desk-admins"}
		b = d.browser()
		d.refused(b, d.signIn(b, ann), "user_disabled")
		info, _ = d.userByEmail("ann@example.com")
		require.True(t, info.Disabled, "the provider vouching for her does not bring her back")
		require.Equal(t, store.RoleOperator, info.Role, "nor changes her role")
	})
}

func TestSSOWithoutAMappedRole(t *testing.T) {
	t.Parallel()
	d := newSSODesk(t, func(c *api.SSOConfig) { c.DefaultRole = "" })
	b := d.browser()
	d.refused(b, d.signIn(b, idpUser{sub: "z", email: "z@example.com", groups: []string{"support"}}), "no_role")
	_, ok := d.userByEmail("z@example.com")
	require.False(t, ok)
	require.Equal(t, "/", d.signIn(b, idpUser{sub: "z", email: "z@example.com", groups: []string{"desk-leads"}}))
}

func TestSSOLastAdminKeepsTheRole(t *testing.T) {
	t.Parallel()
	d := newSSODesk(t, nil)
	// The desk's only admin signs in with the provider, in no admins' group: they stay admin
	// rather than leave the desk without one.
	b := d.browser()
	require.Equal(t, "/", d.signIn(b, idpUser{sub: "a", email: "admin@example.com", groups: []string{"support"}}))
	me, ok := d.me(b)
	require.True(t, ok)
	require.Equal(t, store.RoleAdmin, me.User.Role)
}

func TestSSOOff(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	srv := httptest.NewServer(api.New(api.Deps{Store: st, Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/api/v1/auth/config")
	require.NoError(t, err)
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	require.JSONEq(t, `{"sso":{"enabled":false,"label":""}}`, body.String())
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback?code=x&state=y"} {
		res, err := c.Get(srv.URL + p)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusFound, res.StatusCode, p)
		require.Equal(t, "/#sso_error=sso_off", res.Header.Get("Location"), p)
	}
}

func TestSSOProviderDown(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	st := storetest.NewStore(t)
	srv := httptest.NewServer(api.New(api.Deps{Store: st, Logger: slog.New(slog.DiscardHandler),
		SSO: api.SSOConfig{Issuer: down.URL, ClientID: "x", DefaultRole: store.RoleOperator}}))
	t.Cleanup(srv.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(srv.URL + "/api/v1/auth/oidc/login")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "/#sso_error=provider_unavailable", res.Header.Get("Location"))
}

func groupNamed(t *testing.T, st *store.Store, name string) store.Group {
	t.Helper()
	groups, err := st.ListGroups(t.Context())
	require.NoError(t, err)
	for _, g := range groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %q", name)
	return store.Group{}
}
