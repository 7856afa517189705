// Package webchat is the website channel (seed 000 "Сайт", seed 002 widget settings): a site
// with its domain, the widgets it offers (online chat, feedback form, call-back request), how
// they look, the pre-chat form and the scenarios that route a page's visitors to a line and a
// group. It reads and checks those settings, matches a page to a scenario, says which origins
// may run the widget and checks a site's identity signature; it imports neither Temporal nor
// SQL. The desk's widget API (api/widget.go) and the widget script (web/widget) use it.
package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Kind is the channel kind.
const Kind = "webchat"

// Widget kinds (seed 000: "онлайн-консультант, форма обратной связи, онлайн-звонок").
const (
	WidgetChat     = "chat"
	WidgetForm     = "form"
	WidgetCallback = "callback"
)

// Scenario match modes (seed 002: "полное или частичное вхождение").
const (
	MatchFull    = "full"
	MatchPartial = "partial"
)

// Widget positions on the page.
const (
	PositionRight = "right"
	PositionLeft  = "left"
)

// Languages the widget speaks (data-lang).
var Languages = []string{"ru", "en"}

// Limits of settings and of what a visitor sends.
const (
	MaxWidgets   = 10
	MaxScenarios = 100
	MaxURLs      = 50
	MaxTextLen   = 5000
	MaxNameLen   = 200
	MaxURLLen    = 2048
)

// Settings are a site channel's settings as the admin saves them.
type Settings struct {
	// SiteName is the site's name (seed 000 "Zolotoe-Dno").
	SiteName string `json:"site_name"`
	// Domain is the site's domain name ("zolotoedno.ru"): the widget runs on its pages and its
	// subdomains' only.
	Domain string `json:"domain"`
	// LogoURL is the company logo the widget shows (an https address, or a path on the desk).
	LogoURL string `json:"logo_url,omitempty"`
	// Widgets are what the site offers; at least one.
	Widgets []Widget `json:"widgets"`
	// Language is the widget's language when the page's script names none (data-lang).
	Language   string     `json:"language,omitempty"`
	Appearance Appearance `json:"appearance"`
	PreChat    PreChat    `json:"prechat"`
	// Scenarios route a page's visitors (seed 002), tried in order; the first active one whose
	// addresses match wins. With none matching, the channel's line takes the chat.
	Scenarios []Scenario `json:"scenarios,omitempty"`
}

// Widget is one widget of a site.
type Widget struct {
	Kind string `json:"kind"`
	// Title is shown on the widget's tab; empty: the kind's own name in the visitor's language.
	Title string `json:"title,omitempty"`
}

// Appearance is how the widget looks (seed 002: colours of staff and visitor messages, the
// default position, the department's single avatar instead of each operator's, the icon).
type Appearance struct {
	OperatorText     string `json:"operator_text,omitempty"`
	OperatorBack     string `json:"operator_background,omitempty"`
	VisitorText      string `json:"visitor_text,omitempty"`
	VisitorBack      string `json:"visitor_background,omitempty"`
	Position         string `json:"position,omitempty"`
	DepartmentAvatar bool   `json:"department_avatar,omitempty"`
	// AvatarURL is the department's avatar shown with every staff message when DepartmentAvatar.
	AvatarURL string `json:"avatar_url,omitempty"`
	// LauncherIconURL replaces the launcher button's icon; a site may also hide the launcher and
	// open the widget from its own button (LinedeskWidget.open()).
	LauncherIconURL string `json:"launcher_icon_url,omitempty"`
	HideLauncher    bool   `json:"hide_launcher,omitempty"`
}

// PreChat is the form a visitor fills before the first message (seed 002).
type PreChat struct {
	// EmailOptional: the visitor may leave the address empty; one is made up for them.
	EmailOptional bool `json:"email_optional,omitempty"`
	// HideEmail: the form does not ask for an address at all.
	HideEmail bool `json:"hide_email,omitempty"`
	// HideName: the form does not ask for a name; operators see "Visitor".
	HideName bool `json:"hide_name,omitempty"`
}

// Scenario routes the visitors of some pages (seed 002 "Сценарии").
type Scenario struct {
	Name   string `json:"name,omitempty"`
	Active bool   `json:"active"`
	// Match is full (the page's address equals one of URLs) or partial (contains one).
	Match string   `json:"match"`
	URLs  []string `json:"urls"`
	// LineID takes the chats (the department); 0: the channel's line.
	LineID int64 `json:"line_id,omitempty"`
	// GroupID is the group whose being online offers the chat; 0: anyone of the line.
	GroupID int64 `json:"group_id,omitempty"`
	// OfferForm: with nobody of the group online, the visitor gets the request form instead.
	OfferForm bool `json:"offer_form,omitempty"`
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Defaults of the appearance.
const (
	DefaultOperatorText = "#1f2933"
	DefaultOperatorBack = "#eef1f5"
	DefaultVisitorText  = "#ffffff"
	DefaultVisitorBack  = "#2563eb"
)

// ReadSettings reads a channel's settings with defaults filled in.
func ReadSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(raw) == 0 {
		raw = json.RawMessage(`{}`)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("settings must be an object: %v", err)
	}
	s.SiteName = strings.TrimSpace(s.SiteName)
	s.Domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s.Domain)), ".")
	if s.Language == "" {
		s.Language = "ru"
	}
	a := &s.Appearance
	for _, f := range []struct {
		v   *string
		def string
	}{{&a.OperatorText, DefaultOperatorText}, {&a.OperatorBack, DefaultOperatorBack},
		{&a.VisitorText, DefaultVisitorText}, {&a.VisitorBack, DefaultVisitorBack}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	if a.Position == "" {
		a.Position = PositionRight
	}
	if len(s.Widgets) == 0 {
		s.Widgets = []Widget{{Kind: WidgetChat}}
	}
	return s, nil
}

// Validate checks settings; each problem is one line of the error, naming its field.
func (s Settings) Validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if s.SiteName == "" {
		add("settings.site_name is required")
	} else if utf8.RuneCountInString(s.SiteName) > MaxNameLen {
		add("settings.site_name is longer than %d characters", MaxNameLen)
	}
	if s.Domain == "" {
		add("settings.domain is required: the site's domain name, like example.com")
	} else if !validDomain(s.Domain) {
		add("settings.domain %q is not a domain name (give it without https:// and path, like example.com)", s.Domain)
	}
	for _, f := range []struct{ name, v string }{{"logo_url", s.LogoURL}, {"appearance.avatar_url", s.Appearance.AvatarURL},
		{"appearance.launcher_icon_url", s.Appearance.LauncherIconURL}} {
		if f.v != "" && !imageURL(f.v) {
			add("settings.%s must be an https:// address or a path starting with /", f.name)
		}
	}
	if !langOK(s.Language) {
		add("settings.language must be one of %s", strings.Join(Languages, ", "))
	}
	if len(s.Widgets) > MaxWidgets {
		add("settings.widgets holds more than %d widgets", MaxWidgets)
	}
	seen := map[string]bool{}
	for i, w := range s.Widgets {
		switch w.Kind {
		case WidgetChat, WidgetForm, WidgetCallback:
		default:
			add("settings.widgets[%d].kind must be chat, form or callback", i)
			continue
		}
		if seen[w.Kind] {
			add("settings.widgets[%d]: the site already has a %s widget", i, w.Kind)
		}
		seen[w.Kind] = true
		if utf8.RuneCountInString(w.Title) > MaxNameLen {
			add("settings.widgets[%d].title is longer than %d characters", i, MaxNameLen)
		}
	}
	a := s.Appearance
	for _, f := range []struct{ name, v string }{{"operator_text", a.OperatorText}, {"operator_background", a.OperatorBack},
		{"visitor_text", a.VisitorText}, {"visitor_background", a.VisitorBack}} {
		if !colorRE.MatchString(f.v) {
			add("settings.appearance.%s must be a colour like #1f2933", f.name)
		}
	}
	if a.Position != PositionRight && a.Position != PositionLeft {
		add("settings.appearance.position must be right or left")
	}
	if s.PreChat.HideEmail && s.PreChat.EmailOptional {
		add("settings.prechat: choose either email_optional or hide_email")
	}
	if len(s.Scenarios) > MaxScenarios {
		add("settings.scenarios holds more than %d scenarios", MaxScenarios)
	}
	for i, sc := range s.Scenarios {
		if sc.Match != MatchFull && sc.Match != MatchPartial {
			add("settings.scenarios[%d].match must be full or partial", i)
		}
		if len(sc.URLs) == 0 {
			add("settings.scenarios[%d].urls: give at least one address or part of one", i)
		}
		if len(sc.URLs) > MaxURLs {
			add("settings.scenarios[%d].urls holds more than %d addresses", i, MaxURLs)
		}
		for j, u := range sc.URLs {
			if strings.TrimSpace(u) == "" || len(u) > MaxURLLen {
				add("settings.scenarios[%d].urls[%d] must be 1 to %d characters", i, j, MaxURLLen)
			}
		}
		if sc.LineID < 0 || sc.GroupID < 0 {
			add("settings.scenarios[%d]: line_id and group_id are ids", i)
		}
		if utf8.RuneCountInString(sc.Name) > MaxNameLen {
			add("settings.scenarios[%d].name is longer than %d characters", i, MaxNameLen)
		}
	}
	return errors.Join(problems...)
}

// Has says whether the site offers a widget kind.
func (s Settings) Has(kind string) bool {
	for _, w := range s.Widgets {
		if w.Kind == kind {
			return true
		}
	}
	return false
}

func langOK(l string) bool {
	for _, x := range Languages {
		if l == x {
			return true
		}
	}
	return false
}

// Language picks the widget's language: the page's (data-lang) when the widget speaks it, else
// the site's.
func (s Settings) LanguageFor(page string) string {
	if langOK(page) {
		return page
	}
	return s.Language
}

func imageURL(v string) bool {
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
		return len(v) <= MaxURLLen
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "https" && u.Host != "" && len(v) <= MaxURLLen
}

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func validDomain(d string) bool {
	if net.ParseIP(d) != nil {
		return true // an address (a staging site, a test page on loopback)
	}
	if d == "localhost" {
		return true
	}
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		// Internationalised names are given in their ASCII (punycode) form.
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}

// OriginAllowed says whether a page at origin ("https://shop.example.com", as the browser's
// Origin header says) may run the site's widget: its host is the site's domain or a subdomain
// of it, on any port; http is allowed only for loopback and addresses, https always.
func (s Settings) OriginAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host != s.Domain && !strings.HasSuffix(host, "."+s.Domain) {
		return false
	}
	if u.Scheme == "http" {
		return net.ParseIP(host) != nil || host == "localhost"
	}
	return true
}

// Route is what a scenario decided for a page.
type Route struct {
	// Scenario is the index of the matching scenario, -1 when none matched.
	Scenario  int
	LineID    int64
	GroupID   int64
	OfferForm bool
}

// RouteFor finds the first active scenario matching page (the page's full address); without
// one, the channel's line (lineID) takes the chat and the form is offered when nobody is online.
// A full match compares the whole address, or only the path when the scenario gives a path
// ("/pricing"); a partial match looks for the text anywhere in the address, ignoring case.
func (s Settings) RouteFor(page string, lineID int64) Route {
	if len(page) > MaxURLLen {
		page = page[:MaxURLLen]
	}
	norm, lower, path := normalizePage(page), strings.ToLower(page), pagePath(page)
	for i, sc := range s.Scenarios {
		if !sc.Active {
			continue
		}
		for _, u := range sc.URLs {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			var hit bool
			switch {
			case sc.Match == MatchFull && strings.HasPrefix(u, "/"):
				hit = strings.TrimSuffix(u, "/") == path
			case sc.Match == MatchFull:
				hit = normalizePage(u) == norm
			default:
				hit = strings.Contains(lower, strings.ToLower(u))
			}
			if hit {
				r := Route{Scenario: i, LineID: sc.LineID, GroupID: sc.GroupID, OfferForm: sc.OfferForm}
				if r.LineID == 0 {
					r.LineID = lineID
				}
				return r
			}
		}
	}
	return Route{Scenario: -1, LineID: lineID, OfferForm: s.Has(WidgetForm)}
}

// normalizePage is an address as a full match compares it: scheme and host in lower case, no
// fragment, no trailing slash on the path.
func normalizePage(v string) string {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(strings.TrimSpace(v), "/")
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// pagePath is a page address's path without a trailing slash.
func pagePath(v string) string {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// PageURL keeps a page address a visitor's script reports only when it is an address of the
// site (http or https, on an origin the widget may run on): anything else is "" — it is shown to
// operators and picks the scenario, so it must not be a script or someone else's page.
func (s Settings) PageURL(v string) string {
	if len(v) > MaxURLLen {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || !s.OriginAllowed(u.Scheme+"://"+u.Host) {
		return ""
	}
	return v
}

// Referrer keeps a referrer address when it is an http or https address, else "".
func Referrer(v string) string {
	if len(v) > MaxURLLen {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return v
}

// IdentityHash is the signature a site's server gives its page for a signed-in user:
// hex(HMAC-SHA256(site secret, user id)). The page passes it with the user id so that user's
// history follows them across devices; nobody without the secret can claim the id.
func IdentityHash(secret, userID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyIdentity checks a page's identity hash in constant time.
func VerifyIdentity(secret, userID, hash string) bool {
	if secret == "" || userID == "" || hash == "" {
		return false
	}
	want := IdentityHash(secret, userID)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(hash))))
}

// Snippet is the embed code the admin's "generate script" gives (seed 000, seed 002).
func Snippet(base string, channelID int64, lang string) string {
	return fmt.Sprintf(`<script src="%s/widget.js" data-site="%d" data-lang="%s" async></script>`, strings.TrimSuffix(base, "/"), channelID, lang)
}
