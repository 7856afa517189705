package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
)

// TestConsoleSignsInWithSSO: with an OpenID Connect provider configured (a real one, run by the
// test), the sign-in page shows "Войти через SSO"; a sign-in that did not start in this browser
// comes back with the reason in Russian; a click on the button goes through the provider and
// lands on the inbox, as a supervisor through the provider's group, and the user signs out and in
// again the same way.
func TestConsoleSignsInWithSSO(t *testing.T) {
	ctx := browser(t)
	idp, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = idp.Shutdown() })
	vera := &mockoidc.MockUser{Subject: "vera-1", Email: "vera@example.com", EmailVerified: true, PreferredUsername: "Vera",
		Groups: []string{"desk-leads"}}

	dbURL := storetest.NewDatabase(t)
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{
		"DATABASE_URL":                dbURL,
		"LINEDESK_DATA_DIR":           filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":          "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR":   "",
		"LINEDESK_OIDC_ISSUER":        idp.Issuer(),
		"LINEDESK_OIDC_CLIENT_ID":     idp.ClientID,
		"LINEDESK_OIDC_CLIENT_SECRET": idp.ClientSecret,
		"LINEDESK_OIDC_SCOPES":        "openid email profile groups",
		"LINEDESK_OIDC_ROLE_MAP":      "desk-leads=supervisor",
	}), io.Discard)
	require.NoError(t, err)
	dev := startDev(t, cfg)
	shots := screenshots(t)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "ru")`))
	require.NoError(t, err)

	// A callback this browser did not start (a forged or stale link) signs nobody in.
	u.open(dev.url + "/api/v1/auth/oidc/callback?code=forged&state=forged")
	u.see("Единый вход начат не в этом браузере")
	u.see("Войти через SSO")
	screenshot(t, ctx, shots, "sso-sign-in")

	idp.QueueUser(vera)
	u.click("Войти через SSO")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".inbox-views"))))
	u.see("Vera")
	u.see("Супервизор") // the supervisor's board is in the menu

	pool, err := store.Open(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	users, err := store.New(pool).ListUsers(t.Context())
	require.NoError(t, err)
	var found bool
	for _, usr := range users {
		if strings.EqualFold(usr.Email, "vera@example.com") {
			found = true
			require.Equal(t, store.RoleSupervisor, usr.Role)
		}
	}
	require.True(t, found, "the first sign-in made the user")

	u.click("Выйти")
	u.see("Войти через SSO")
	idp.QueueUser(vera)
	u.click("Войти через SSO")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".inbox-views"))))
}
