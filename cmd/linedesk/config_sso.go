package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/linedesk/linedesk/api"
)

// ssoCallbackPath is where the OpenID Connect provider sends the browser back to.
const ssoCallbackPath = "/api/v1/auth/oidc/callback"

// ssoFlags registers single sign-on's settings (LINEDESK_OIDC_*) on fs; the function it returns
// reads them after parsing, with the public URL, and says what is wrong with them.
func ssoFlags(fs *flag.FlagSet, env func(key, def string) string) func(publicURL string) (api.SSOConfig, []error) {
	var cfg api.SSOConfig
	fs.StringVar(&cfg.Issuer, "oidc-issuer", env("LINEDESK_OIDC_ISSUER", ""),
		"OpenID Connect provider's issuer URL for operators' single sign-on, e.g. https://id.example.com/realms/desk (empty: single sign-on off)")
	fs.StringVar(&cfg.ClientID, "oidc-client-id", env("LINEDESK_OIDC_CLIENT_ID", ""), "client id linedesk has at the provider")
	fs.StringVar(&cfg.ClientSecret, "oidc-client-secret", env("LINEDESK_OIDC_CLIENT_SECRET", ""), "the client's secret (empty: a public client, PKCE alone)")
	fs.StringVar(&cfg.RedirectURL, "oidc-redirect-url", env("LINEDESK_OIDC_REDIRECT_URL", ""),
		"callback URL registered at the provider (empty: LINEDESK_PUBLIC_URL + "+ssoCallbackPath+", or the request's own host)")
	scopes := fs.String("oidc-scopes", env("LINEDESK_OIDC_SCOPES", "openid email profile"),
		"scopes to ask for, separated by spaces or commas (add groups where the provider wants it for the groups claim)")
	fs.StringVar(&cfg.GroupsClaim, "oidc-groups-claim", env("LINEDESK_OIDC_GROUPS_CLAIM", "groups"),
		"the ID token (or userinfo) claim listing the user's groups; a dotted path reaches into an object (realm_access.roles)")
	roleMap := fs.String("oidc-role-map", env("LINEDESK_OIDC_ROLE_MAP", ""),
		"provider group=linedesk role pairs, comma-separated, e.g. desk-admins=admin,desk-leads=supervisor (the highest wins)")
	groupMap := fs.String("oidc-group-map", env("LINEDESK_OIDC_GROUP_MAP", ""),
		"provider group=linedesk group name pairs, comma-separated, e.g. support=Support operators,sales=Sales operators; membership of the named groups follows the provider at every sign-in")
	defaultRole := fs.String("oidc-default-role", env("LINEDESK_OIDC_DEFAULT_ROLE", "operator"),
		"role of a user in no group of the role map: operator, supervisor, or none to refuse them")
	fs.StringVar(&cfg.Label, "oidc-label", env("LINEDESK_OIDC_LABEL", ""), "sign-in button's text (empty: \"Sign in with SSO\" in the console's language)")
	given := func(name string) bool {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
		return set || env("LINEDESK_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")), "") != ""
	}

	return func(publicURL string) (api.SSOConfig, []error) {
		var problems []error
		if cfg.Issuer == "" {
			var stray []string
			for _, name := range []string{"oidc-client-id", "oidc-client-secret", "oidc-redirect-url", "oidc-role-map", "oidc-group-map", "oidc-label"} {
				if given(name) {
					stray = append(stray, "LINEDESK_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
				}
			}
			if len(stray) > 0 {
				problems = append(problems, fmt.Errorf("%s set without LINEDESK_OIDC_ISSUER: set the issuer to turn single sign-on on, or unset them",
					strings.Join(stray, ", ")))
			}
			return api.SSOConfig{}, problems
		}
		if u, err := url.Parse(cfg.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
			(u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname()))) {
			problems = append(problems, fmt.Errorf("LINEDESK_OIDC_ISSUER: %q is not an https URL like https://id.example.com/realms/desk "+
				"(http only on loopback)", cfg.Issuer))
		}
		if cfg.ClientID == "" {
			problems = append(problems, errors.New("LINEDESK_OIDC_CLIENT_ID is required with LINEDESK_OIDC_ISSUER: the client id linedesk is registered with at the provider"))
		}
		if cfg.RedirectURL == "" && publicURL != "" {
			cfg.RedirectURL = strings.TrimRight(publicURL, "/") + ssoCallbackPath
		} else if cfg.RedirectURL != "" {
			u, err := url.Parse(cfg.RedirectURL)
			switch {
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != ssoCallbackPath:
				problems = append(problems, fmt.Errorf("LINEDESK_OIDC_REDIRECT_URL: %q is not an http(s) URL ending in %s", cfg.RedirectURL, ssoCallbackPath))
			case publicURL != "":
				// The sign-in's cookie is set on the public host; a callback on another never sees it.
				if p, err := url.Parse(publicURL); err == nil && !strings.EqualFold(p.Host, u.Host) {
					problems = append(problems, fmt.Errorf("LINEDESK_OIDC_REDIRECT_URL: %q is not on LINEDESK_PUBLIC_URL's host %s", cfg.RedirectURL, p.Host))
				}
			}
		}
		cfg.Scopes = strings.FieldsFunc(*scopes, func(r rune) bool { return r == ' ' || r == ',' })
		if !slices.Contains(cfg.Scopes, "openid") {
			cfg.Scopes = append([]string{"openid"}, cfg.Scopes...)
		}
		cfg.GroupsClaim = strings.TrimSpace(cfg.GroupsClaim)
		if cfg.GroupsClaim == "" {
			problems = append(problems, errors.New("LINEDESK_OIDC_GROUPS_CLAIM must not be empty (default groups)"))
		}
		cfg.RoleMap = map[string]string{}
		for _, p := range mapPairs(*roleMap, "LINEDESK_OIDC_ROLE_MAP", &problems) {
			switch {
			case p[1] != "admin" && p[1] != "supervisor" && p[1] != "operator":
				problems = append(problems, fmt.Errorf("LINEDESK_OIDC_ROLE_MAP: %q is not admin, supervisor or operator", p[1]))
			case cfg.RoleMap[p[0]] != "" && cfg.RoleMap[p[0]] != p[1]:
				problems = append(problems, fmt.Errorf("LINEDESK_OIDC_ROLE_MAP: group %q is given two roles", p[0]))
			default:
				cfg.RoleMap[p[0]] = p[1]
			}
		}
		cfg.GroupMap = map[string][]string{}
		for _, p := range mapPairs(*groupMap, "LINEDESK_OIDC_GROUP_MAP", &problems) {
			if !slices.Contains(cfg.GroupMap[p[0]], p[1]) {
				cfg.GroupMap[p[0]] = append(cfg.GroupMap[p[0]], p[1])
			}
		}
		switch r := strings.ToLower(strings.TrimSpace(*defaultRole)); r {
		case "operator", "supervisor":
			cfg.DefaultRole = r
		case "none", "":
		case "admin":
			problems = append(problems, errors.New("LINEDESK_OIDC_DEFAULT_ROLE: admin would make everyone the provider signs in an admin; "+
				"give an admins' group the role with LINEDESK_OIDC_ROLE_MAP instead"))
		default:
			problems = append(problems, fmt.Errorf("LINEDESK_OIDC_DEFAULT_ROLE: %q is not operator, supervisor or none", *defaultRole))
		}
		return cfg, problems
	}
}

// mapPairs reads "key=value,key=value" (spaces around each part are dropped).
func mapPairs(s, name string, problems *[]error) [][2]string {
	var out [][2]string
	for _, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			*problems = append(*problems, fmt.Errorf("%s: %q is not provider-group=value", name, strings.TrimSpace(item)))
			continue
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// loopbackHost reports whether a URL's host name is this machine (a provider run for tests or
// on a laptop may use plain http there).
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
