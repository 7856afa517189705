package webchat

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadSettingsFillsDefaults(t *testing.T) {
	s, err := ReadSettings(json.RawMessage(`{"site_name":"Zolotoe-Dno","domain":" ZolotoeDno.RU. "}`))
	require.NoError(t, err)
	require.Equal(t, "zolotoedno.ru", s.Domain)
	require.Equal(t, "ru", s.Language)
	require.Equal(t, []Widget{{Kind: WidgetChat}}, s.Widgets)
	require.Equal(t, PositionRight, s.Appearance.Position)
	require.Equal(t, DefaultVisitorBack, s.Appearance.VisitorBack)
	require.NoError(t, s.Validate())

	_, err = ReadSettings(json.RawMessage(`[1]`))
	require.Error(t, err)
}

func TestValidateNamesEachWrongField(t *testing.T) {
	s, err := ReadSettings(json.RawMessage(`{"domain":"https://shop.example.com/x","language":"de",
		"logo_url":"http://insecure.example/logo.png",
		"widgets":[{"kind":"chat"},{"kind":"chat"},{"kind":"popup"}],
		"appearance":{"visitor_background":"blue","position":"top"},
		"prechat":{"email_optional":true,"hide_email":true},
		"scenarios":[{"match":"regex","urls":[]},{"match":"full","urls":[" "]}]}`))
	require.NoError(t, err)
	err = s.Validate()
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{"settings.site_name is required", "settings.domain \"https://shop.example.com/x\"",
		"settings.logo_url", "settings.language", "widgets[1]: the site already has a chat widget",
		"widgets[2].kind", "appearance.visitor_background", "appearance.position", "prechat",
		"scenarios[0].match", "scenarios[0].urls", "scenarios[1].urls[0]"} {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		require.True(t, found, "no problem mentions %q in:\n%s", want, err)
	}
}

func TestOriginAllowed(t *testing.T) {
	s := Settings{Domain: "zolotoedno.ru"}
	for origin, ok := range map[string]bool{
		"https://zolotoedno.ru":           true,
		"https://shop.zolotoedno.ru:8443": true,
		"http://zolotoedno.ru":            false, // plain http only on loopback
		"https://evilzolotoedno.ru":       false,
		"https://zolotoedno.ru.evil.com":  false,
		"null":                            false,
		"":                                false,
	} {
		require.Equal(t, ok, s.OriginAllowed(origin), origin)
	}
	local := Settings{Domain: "127.0.0.1"}
	require.True(t, local.OriginAllowed("http://127.0.0.1:41234"))
	require.False(t, local.OriginAllowed("http://127.0.0.2:41234"))
}

func TestRouteFor(t *testing.T) {
	s := Settings{Widgets: []Widget{{Kind: WidgetChat}, {Kind: WidgetForm}}, Scenarios: []Scenario{
		{Name: "off", Active: false, Match: MatchPartial, URLs: []string{"/"}, LineID: 9},
		{Name: "sales", Active: true, Match: MatchPartial, URLs: []string{"/Pricing"}, LineID: 7, GroupID: 3, OfferForm: true},
		{Name: "home", Active: true, Match: MatchFull, URLs: []string{"https://Shop.example.com/"}, GroupID: 4},
	}}
	r := s.RouteFor("https://shop.example.com/pricing?plan=pro", 1)
	require.Equal(t, Route{Scenario: 1, LineID: 7, GroupID: 3, OfferForm: true}, r)
	r = s.RouteFor("https://shop.example.com#top", 1)
	require.Equal(t, Route{Scenario: 2, LineID: 1, GroupID: 4}, r, "a full match ignores the fragment and the trailing slash; no line: the channel's")
	s.Scenarios = append(s.Scenarios, Scenario{Name: "path", Active: true, Match: MatchFull, URLs: []string{"/delivery/"}, GroupID: 9})
	require.Equal(t, 3, s.RouteFor("https://shop.example.com/delivery?city=msk", 1).Scenario, "a full match given as a path compares the path")
	require.Equal(t, -1, s.RouteFor("https://shop.example.com/delivery/moscow", 1).Scenario)
	r = s.RouteFor("https://shop.example.com/about", 1)
	require.Equal(t, Route{Scenario: -1, LineID: 1, OfferForm: true}, r, "no scenario: the channel's line, the form when the site has one")
}

func TestPageAndReferrer(t *testing.T) {
	s := Settings{Domain: "shop.example.com"}
	require.Equal(t, "https://shop.example.com/rings?x=1", s.PageURL("https://shop.example.com/rings?x=1"))
	for _, bad := range []string{"javascript:alert(1)", "https://evil.example/x", "data:text/html,x", "//shop.example.com/x", strings.Repeat("a", MaxURLLen+1)} {
		require.Empty(t, s.PageURL(bad), bad)
	}
	require.Equal(t, "https://search.example/?q=1", Referrer("https://search.example/?q=1"))
	require.Empty(t, Referrer("javascript:alert(1)"))
}

func TestIdentity(t *testing.T) {
	h := IdentityHash("site-secret", "user-42")
	require.Len(t, h, 64)
	require.True(t, VerifyIdentity("site-secret", "user-42", strings.ToUpper(h)))
	require.False(t, VerifyIdentity("site-secret", "user-43", h))
	require.False(t, VerifyIdentity("other", "user-42", h))
	require.False(t, VerifyIdentity("", "user-42", IdentityHash("", "user-42")), "a site without a secret verifies nobody")
}

func TestSnippet(t *testing.T) {
	require.Equal(t, `<script src="https://desk.example.com/widget.js" data-site="12" data-lang="ru" async></script>`,
		Snippet("https://desk.example.com/", 12, "ru"))
}

// FuzzSettings: whatever an admin saves and whatever page or origin a browser names, reading,
// checking and routing never panic, and a page is only ever routed to a line.
func FuzzSettings(f *testing.F) {
	f.Add([]byte(`{"site_name":"S","domain":"shop.example.com","scenarios":[{"active":true,"match":"partial","urls":["/pricing"],"line_id":7}]}`),
		"https://shop.example.com/pricing?x=1", "https://m.shop.example.com")
	f.Add([]byte(`{"domain":"127.0.0.1","scenarios":[{"active":true,"match":"full","urls":["%zz"]}]}`), "http://[::1", "null")
	f.Fuzz(func(t *testing.T, raw []byte, page, origin string) {
		s, err := ReadSettings(raw)
		if err != nil {
			return
		}
		_ = s.Validate()
		_ = s.OriginAllowed(origin)
		if r := s.RouteFor(page, 1); r.LineID == 0 && r.Scenario < 0 {
			t.Fatalf("page %q routed to no line", page)
		}
	})
}
