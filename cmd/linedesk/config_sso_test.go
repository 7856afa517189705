package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSSOConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x/y"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}

	cfg, err := loadConfig("api", nil, envOf(base), io.Discard)
	require.NoError(t, err)
	require.False(t, cfg.SSO.Enabled(), "no issuer: single sign-on is off")

	cfg, err = loadConfig("api", nil, envOf(with(map[string]string{
		"LINEDESK_PUBLIC_URL":         "https://desk.example.com/",
		"LINEDESK_OIDC_ISSUER":        "https://id.example.com/realms/desk",
		"LINEDESK_OIDC_CLIENT_ID":     "linedesk",
		"LINEDESK_OIDC_CLIENT_SECRET": "s3cret",
		"LINEDESK_OIDC_SCOPES":        "email, profile groups",
		"LINEDESK_OIDC_ROLE_MAP":      "desk-admins=admin, desk-leads = supervisor",
		"LINEDESK_OIDC_GROUP_MAP":     "support=Support operators,support=Night shift,sales=Sales operators",
		"LINEDESK_OIDC_LABEL":         "Sign in with Example ID",
	})), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.SSO.Enabled())
	require.Equal(t, "https://desk.example.com/api/v1/auth/oidc/callback", cfg.SSO.RedirectURL, "derived from the public URL")
	require.Equal(t, []string{"openid", "email", "profile", "groups"}, cfg.SSO.Scopes)
	require.Equal(t, "groups", cfg.SSO.GroupsClaim)
	require.Equal(t, map[string]string{"desk-admins": "admin", "desk-leads": "supervisor"}, cfg.SSO.RoleMap)
	require.Equal(t, map[string][]string{"support": {"Support operators", "Night shift"}, "sales": {"Sales operators"}}, cfg.SSO.GroupMap)
	require.Equal(t, "operator", cfg.SSO.DefaultRole)
	require.Equal(t, "Sign in with Example ID", cfg.SSO.Label)

	cfg, err = loadConfig("api", []string{"--oidc-issuer", "http://127.0.0.1:5556/dex", "--oidc-client-id", "desk", "--oidc-default-role", "none"},
		envOf(base), io.Discard)
	require.NoError(t, err, "flags work too; plain http is fine on loopback; a public client has no secret")
	require.Empty(t, cfg.SSO.DefaultRole, "none: a user in no mapped group is refused")
	require.Empty(t, cfg.SSO.RedirectURL, "no public URL: the request's host")

	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LINEDESK_OIDC_CLIENT_ID": "x"}, "LINEDESK_OIDC_CLIENT_ID set without LINEDESK_OIDC_ISSUER"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com"}, "LINEDESK_OIDC_CLIENT_ID is required"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "http://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x"}, "is not an https URL"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x"}, "is not an https URL"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_REDIRECT_URL": "https://desk.example.com/callback"}, "not an http(s) URL ending in /api/v1/auth/oidc/callback"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x", "LINEDESK_PUBLIC_URL": "https://desk.example.com",
			"LINEDESK_OIDC_REDIRECT_URL": "https://other.example.com/api/v1/auth/oidc/callback"}, "is not on LINEDESK_PUBLIC_URL's host desk.example.com"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_ROLE_MAP": "desk-admins=root"}, `"root" is not admin, supervisor or operator`},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_ROLE_MAP": "a=admin,a=operator"}, `group "a" is given two roles`},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_GROUP_MAP": "support"}, `LINEDESK_OIDC_GROUP_MAP: "support" is not provider-group=value`},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_DEFAULT_ROLE": "admin"}, "admin would make everyone"},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_DEFAULT_ROLE": "guest"}, `"guest" is not operator, supervisor or none`},
		{map[string]string{"LINEDESK_OIDC_ISSUER": "https://id.example.com", "LINEDESK_OIDC_CLIENT_ID": "x",
			"LINEDESK_OIDC_GROUPS_CLAIM": " "}, "LINEDESK_OIDC_GROUPS_CLAIM must not be empty"},
	} {
		_, err := loadConfig("api", nil, envOf(with(tc.env)), io.Discard)
		require.ErrorContains(t, err, tc.want, "%v", tc.env)
	}
}
