package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/webchat"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/web"
)

// The website widget's API (issue 11): what the widget script (web/widget) calls from a page of
// the site, cross-origin. A page first asks for the site's widget settings, then gets a visitor
// token (random, 256 bits, kept hashed; the script keeps it in the page's localStorage) and
// sends it as a bearer token with every call after. A token reads and writes only its own
// visitor's chats on its own site. Messages enter through the one inbound hand-off like every
// channel's; the widget learns of replies through a Server-Sent Events stream that passes on
// only its chats' events, and reads them from the read model.

const (
	// visitorLive is how recently a visitor must have been seen to be in the live list.
	visitorLive = 2 * time.Minute
	// widgetPage bounds one read of a visitor's messages.
	widgetPage = 200
	// maxWidgetFile bounds a visitor's file.
	maxWidgetFile = 10 << 20
	// visitorChatsRefresh is how often a visitor's stream looks for chats opened since it began.
	visitorChatsRefresh = 5 * time.Second
	maxClientIDLen      = 100
	maxPhoneLen         = 50
)

// widgetSite is a site whose widget a page may run: an enabled webchat channel and the page's
// origin its domain allows.
type widgetSite struct {
	ch     store.Channel
	set    webchat.Settings
	origin string
}

// loadSite reads the site in the path and checks the page's origin against its domain; the
// answer then carries the CORS headers for that origin.
func (s *Server) loadSite(c echo.Context) (widgetSite, error) {
	id, err := strconv.ParseInt(c.Param("site"), 10, 64)
	if err != nil || id <= 0 {
		return widgetSite{}, notFoundErr("site " + c.Param("site"))
	}
	ch, err := s.store.ChannelByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (ch.Kind != webchat.Kind || !ch.Enabled)) {
		return widgetSite{}, notFoundErr("site " + c.Param("site"))
	}
	if err != nil {
		return widgetSite{}, err
	}
	set, err := webchat.ReadSettings(ch.Settings)
	if err != nil {
		return widgetSite{}, notFoundErr("site " + c.Param("site"))
	}
	origin := c.Request().Header.Get("Origin")
	if !set.OriginAllowed(origin) {
		return widgetSite{}, newError(http.StatusForbidden, "origin_refused",
			"the widget of this site runs only on https pages of %s and its subdomains", set.Domain)
	}
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	return widgetSite{ch: ch, set: set, origin: origin}, nil
}

// widgetPreflight answers a browser's CORS preflight for the widget's calls.
func (s *Server) widgetPreflight(c echo.Context) error {
	if _, err := s.loadSite(c); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	return c.NoContent(http.StatusNoContent)
}

// widgetPreflightFirst answers OPTIONS under /widget/v1/sites/{site}/ with widgetPreflight.
func (s *Server) widgetPreflightFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		rest, ok := strings.CutPrefix(req.URL.Path, "/widget/v1/sites/")
		if req.Method != http.MethodOptions || !ok {
			return next(c)
		}
		site, _, _ := strings.Cut(rest, "/")
		c.SetParamNames("site")
		c.SetParamValues(site)
		return s.widgetPreflight(c)
	}
}

// visitorAuth lets through a call carrying a visitor token of the site in the path, within the
// visitor's rate.
func (s *Server) visitorAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || token == "" {
			return newError(http.StatusUnauthorized, "unauthorized", "send the visitor token as Authorization: Bearer <token>")
		}
		site, err := s.loadSite(c)
		if err != nil {
			return err
		}
		v, err := s.store.VisitorByToken(c.Request().Context(), site.ch.ID, token)
		if errors.Is(err, store.ErrNotFound) {
			return newError(http.StatusUnauthorized, "unauthorized", "unknown visitor token; ask for a new one")
		}
		if err != nil {
			return err
		}
		if !s.widgetLimits.allow("visitor:"+v.ID.String(), visitorRate, visitorBurst) {
			return tooMany(c)
		}
		c.Set("widget.site", site)
		c.Set("widget.visitor", v)
		return next(c)
	}
}

func siteOf(c echo.Context) widgetSite       { return c.Get("widget.site").(widgetSite) }
func visitorOf(c echo.Context) store.Visitor { return c.Get("widget.visitor").(store.Visitor) }

// Rates: a visitor's calls, new visitors from one address, messages from one visitor.
const (
	visitorRate     = 5
	visitorBurst    = 40
	newVisitorRate  = 0.2
	newVisitorBurst = 20
	messageRate     = 1
	messageBurst    = 20
	// A site's visitors behind one address (an office, a mobile carrier) share this.
	addressMessageRate  = 5
	addressMessageBurst = 60
)

// maxVisitorStreams bounds a visitor's open event streams (a few tabs of the site).
const maxVisitorStreams = 4

// streamCounts counts open widget streams by visitor.
type streamCounts struct {
	mu sync.Mutex
	n  map[uuid.UUID]int
}

// open takes a stream for the visitor, false when they have too many.
func (sc *streamCounts) open(id uuid.UUID) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.n == nil {
		sc.n = map[uuid.UUID]int{}
	}
	if sc.n[id] >= maxVisitorStreams {
		return false
	}
	sc.n[id]++
	return true
}

func (sc *streamCounts) close(id uuid.UUID) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.n[id]--; sc.n[id] <= 0 {
		delete(sc.n, id)
	}
}

// ipKey is the address rate limits count against: an IPv6 address by its /64 (one household
// or one host holds the whole block), an IPv4 address as it is.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// limiters are token buckets by key (an address, a visitor), forgotten after a quiet while.
type limiters struct {
	mu    sync.Mutex
	m     map[string]*limiterEntry
	swept time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	used time.Time
}

func (l *limiters) allow(key string, perSecond float64, burst int) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*limiterEntry{}
	}
	if now.Sub(l.swept) > time.Minute {
		for k, e := range l.m {
			if now.Sub(e.used) > 10*time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	e := l.m[key]
	if e == nil {
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
		l.m[key] = e
	}
	e.used = now
	return e.lim.AllowN(now, 1)
}

func tooMany(c echo.Context) error {
	c.Response().Header().Set("Retry-After", "5")
	return newError(http.StatusTooManyRequests, "rate_limited", "too many requests; try again in a few seconds")
}

// widgetConfig is what the script needs to draw the widget on a page.
type widgetConfig struct {
	Site struct {
		ID      int64  `json:"id"`
		Name    string `json:"name"`
		LogoURL string `json:"logo_url,omitempty"`
	} `json:"site"`
	Language   string             `json:"language"`
	Widgets    []webchat.Widget   `json:"widgets"`
	Appearance webchat.Appearance `json:"appearance"`
	PreChat    webchat.PreChat    `json:"prechat"`
	Route      widgetRoute        `json:"route"`
}

// widgetRoute is what the page's scenario decided: whether anyone is there to chat, and whether
// the request form takes the chat's place when nobody is.
type widgetRoute struct {
	Online    bool `json:"online"`
	OfferForm bool `json:"offer_form"`
}

func (s *Server) routeFor(ctx context.Context, site widgetSite, page string) (webchat.Route, widgetRoute, error) {
	r := site.set.RouteFor(page, site.ch.LineID)
	online, err := s.store.GroupOnline(ctx, r.LineID, r.GroupID)
	return r, widgetRoute{Online: online, OfferForm: r.OfferForm && site.set.Has(webchat.WidgetForm)}, err
}

// widgetSettings serves GET /widget/v1/sites/{site}?page=&lang=.
func (s *Server) widgetSettings(c echo.Context) error {
	site, err := s.loadSite(c)
	if err != nil {
		return err
	}
	var out widgetConfig
	out.Site.ID, out.Site.Name, out.Site.LogoURL = site.ch.ID, site.set.SiteName, site.set.LogoURL
	out.Language = site.set.LanguageFor(c.QueryParam("lang"))
	out.Widgets, out.Appearance, out.PreChat = site.set.Widgets, site.set.Appearance, site.set.PreChat
	if _, out.Route, err = s.routeFor(c.Request().Context(), site, c.QueryParam("page")); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// visitorBody is what a page tells of its visitor.
type visitorBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	// UserID and UserHash identify a user the site signed in: UserHash is
	// hex(HMAC-SHA256(site secret, UserID)), computed by the site's server.
	UserID    string `json:"user_id"`
	UserHash  string `json:"user_hash"`
	Language  string `json:"language"`
	PageURL   string `json:"page_url"`
	PageTitle string `json:"page_title"`
	Referrer  string `json:"referrer"`
}

func (b *visitorBody) check() error {
	b.Name, b.Email, b.Phone = strings.TrimSpace(b.Name), strings.TrimSpace(b.Email), strings.TrimSpace(b.Phone)
	var p fieldErrors
	if utf8.RuneCountInString(b.Name) > webchat.MaxNameLen {
		p.add("name is longer than %d characters", webchat.MaxNameLen)
	}
	if b.Email != "" {
		if a, err := mail.ParseAddress(b.Email); err != nil || a.Address != b.Email || len(b.Email) > 254 {
			p.add("email %q is not an email address", b.Email)
		}
	}
	if len(b.Phone) > maxPhoneLen {
		p.add("phone is longer than %d characters", maxPhoneLen)
	}
	if len(b.UserID) > 256 {
		p.add("user_id is longer than 256 characters")
	}
	for _, f := range []struct{ name, v string }{{"page_url", b.PageURL}, {"referrer", b.Referrer}, {"page_title", b.PageTitle}} {
		if len(f.v) > webchat.MaxURLLen {
			p.add("%s is longer than %d characters", f.name, webchat.MaxURLLen)
		}
	}
	return p.err()
}

type visitorOut struct {
	Token   string        `json:"token,omitempty"`
	Visitor store.Visitor `json:"visitor"`
	// Identified: the site signed this user in; their history follows them.
	Identified bool `json:"identified"`
}

// createVisitor serves POST /widget/v1/sites/{site}/visitors: a new visitor token.
func (s *Server) createVisitor(c echo.Context) error {
	site, err := s.loadSite(c)
	if err != nil {
		return err
	}
	if !s.widgetLimits.allow("ip:"+ipKey(c.RealIP()), newVisitorRate, newVisitorBurst) {
		return tooMany(c)
	}
	var b visitorBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	s.pruneVisitors(ctx)
	v := store.Visitor{ID: uuid.Must(uuid.NewV7()), ChannelID: site.ch.ID, Name: b.Name, Email: b.Email, Phone: b.Phone,
		Language: site.set.LanguageFor(b.Language), PageURL: site.set.PageURL(b.PageURL), PageTitle: b.PageTitle, Referrer: webchat.Referrer(b.Referrer),
		IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512)}
	v.ContactKey = "v:" + v.ID.String()
	if b.UserID != "" || b.UserHash != "" {
		secret, err := s.store.ChannelSecret(ctx, site.ch.ID)
		if err != nil {
			return err
		}
		if !webchat.VerifyIdentity(secret, b.UserID, b.UserHash) {
			return newError(http.StatusForbidden, "identity_refused",
				"user_hash is not the site's signature of user_id: hex(HMAC-SHA256(site secret, user_id)), computed on the site's server")
		}
		v.ContactKey = "u:" + b.UserID
	}
	token := newVisitorToken()
	out, err := s.store.CreateVisitor(ctx, v, token)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, visitorOut{Token: token, Visitor: out, Identified: strings.HasPrefix(out.ContactKey, "u:")})
}

// visitorsKept is how long a visitor who never wrote is remembered after their last visit.
const visitorsKept = 30 * 24 * time.Hour

// pruneVisitors forgets silent visitors, at most once an hour per process.
func (s *Server) pruneVisitors(ctx context.Context) {
	now := time.Now().UnixNano()
	last := s.visitorsPruned.Load()
	if now-last < int64(time.Hour) || !s.visitorsPruned.CompareAndSwap(last, now) {
		return
	}
	if n, err := s.store.PruneVisitors(ctx, time.Now().Add(-visitorsKept)); err != nil {
		s.logger.WarnContext(ctx, "prune widget visitors", "error", err)
	} else if n > 0 {
		s.logger.InfoContext(ctx, "pruned widget visitors", "visitors", n)
	}
}

func newVisitorToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on a supported platform
	return "wv_" + base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// getVisitor serves GET /widget/v1/sites/{site}/visitor.
func (s *Server) getVisitor(c echo.Context) error {
	v := visitorOf(c)
	return c.JSON(http.StatusOK, visitorOut{Visitor: v, Identified: strings.HasPrefix(v.ContactKey, "u:")})
}

// updateVisitor serves PUT /widget/v1/sites/{site}/visitor: the pre-chat form.
func (s *Server) updateVisitor(c echo.Context) error {
	var b visitorBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	v := visitorOf(c)
	if err := s.store.SetVisitorContact(c.Request().Context(), v.ID, b.Name, b.Email, b.Phone); err != nil {
		return err
	}
	v.Name, v.Email, v.Phone = firstOf(b.Name, v.Name), firstOf(b.Email, v.Email), firstOf(b.Phone, v.Phone)
	return c.JSON(http.StatusOK, visitorOut{Visitor: v, Identified: strings.HasPrefix(v.ContactKey, "u:")})
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// visitorPing serves POST /widget/v1/sites/{site}/pings: the visitor is on a page now (the live
// list), and whether anyone is there for that page's scenario.
func (s *Server) visitorPing(c echo.Context) error {
	var b visitorBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	site, v := siteOf(c), visitorOf(c)
	ctx := c.Request().Context()
	b.PageURL = site.set.PageURL(b.PageURL)
	if err := s.store.TouchVisitor(ctx, v.ID, store.VisitorPage{URL: b.PageURL, Title: b.PageTitle, Referrer: webchat.Referrer(b.Referrer),
		IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512)}); err != nil {
		return err
	}
	_, route, err := s.routeFor(ctx, site, firstOf(b.PageURL, v.PageURL))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, route)
}

// widgetMessage is a visitor's message (JSON, or multipart with a file).
type widgetMessage struct {
	// ClientID is the script's id for the message: sent again, it stores nothing new.
	ClientID string `json:"client_id"`
	Text     string `json:"text"`
	// Button is the payload of a pressed button (a CSAT answer).
	Button  string `json:"button"`
	PageURL string `json:"page_url"`
}

// postVisitorMessage serves POST /widget/v1/sites/{site}/messages.
func (s *Server) postVisitorMessage(c echo.Context) error {
	site, v := siteOf(c), visitorOf(c)
	ctx := c.Request().Context()
	if !s.widgetLimits.allow("message:"+v.ID.String(), messageRate, messageBurst) ||
		!s.widgetLimits.allow("address-message:"+ipKey(c.RealIP()), addressMessageRate, addressMessageBurst) {
		return tooMany(c)
	}
	if s.handoff.IsBlocked(ctx, site.ch.ID, v.ContactKey) {
		// Checked before a file is read and stored: a blocked visitor's upload is not kept.
		return newError(http.StatusForbidden, "blocked", "you cannot write to this site's desk")
	}
	var b widgetMessage
	var file *uploadedFile
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		f, err := readVisitorFile(c, &b)
		if err != nil {
			return err
		}
		file = f
	} else if err := decodeJSON(c, &b); err != nil {
		return err
	}
	b.Text = strings.TrimSpace(b.Text)
	var p fieldErrors
	if b.ClientID == "" || len(b.ClientID) > maxClientIDLen {
		p.add("client_id is required: the widget's own id for this message, at most %d characters", maxClientIDLen)
	}
	if b.Text == "" && b.Button == "" && file == nil {
		p.add("the message is empty: send text, a file or a button")
	}
	if utf8.RuneCountInString(b.Text) > webchat.MaxTextLen {
		p.add("text is longer than %d characters", webchat.MaxTextLen)
	}
	if len(b.Button) > 1024 || len(b.PageURL) > webchat.MaxURLLen {
		p.add("button or page_url is too long")
	}
	if err := p.err(); err != nil {
		return err
	}
	pc := site.set.PreChat
	if v.Email == "" && !pc.HideEmail && !pc.EmailOptional {
		return newError(http.StatusBadRequest, "email_required", "this site asks for an email address before the first message")
	}
	page := firstOf(site.set.PageURL(b.PageURL), v.PageURL)
	route, _, err := s.routeFor(ctx, site, page)
	if err != nil {
		return err
	}
	chat := fmt.Sprintf("%s@%d", v.ContactKey, route.LineID)
	if _, err := s.store.FixChatLine(ctx, site.ch.ID, chat, route.LineID); err != nil {
		return err
	}
	key := "w:" + v.ID.String() + ":" + b.ClientID
	// The message carries only what the visitor wrote and who they said they are: where they
	// are (page, address, browser) changes between a send and its retry, and goes to the
	// contact apart (completeContact).
	in := inbound.Message{ChannelID: site.ch.ID, Kind: webchat.Kind, Key: key, Text: b.Text, Button: b.Button, At: time.Now(), Chat: chat,
		Contact: inbound.Contact{ExternalID: v.ContactKey, Name: v.Name, Email: v.Email, Phone: v.Phone}}
	if file != nil {
		secret, err := s.store.ChannelSecret(ctx, site.ch.ID)
		if err != nil {
			return err
		}
		at, _, err := s.keepChannelFile(ctx, connectors.Channel{ID: site.ch.ID, Kind: webchat.Kind, HookSecret: secret},
			key, 0, file.name, file.contentType, file.data, nil, s.baseURL(c))
		if err != nil {
			return err
		}
		if at.URL == "" {
			return newError(http.StatusUnprocessableEntity, "file_refused", "the file was not accepted: %s", at.Name)
		}
		in.Files, _ = json.Marshal([]any{at})
	}
	acc, err := s.handoff.Accept(ctx, in)
	if errors.Is(err, inbound.ErrBlocked) {
		return newError(http.StatusForbidden, "blocked", "you cannot write to this site's desk")
	}
	if errors.Is(err, inbound.ErrKeyReused) {
		return newError(http.StatusUnprocessableEntity, "client_id_reused", "client_id %q was already used for another message", b.ClientID)
	}
	if err != nil {
		return err
	}
	if err := s.completeContact(ctx, site, v, page); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"message_id": acc.MessageID.String(), "chat_id": acc.ChatID.String()})
}

// completeContact gives a visitor's contact what operators see of it: "Посетитель"/"Visitor"
// while it has no name (seed 002), a made-up address while it has none (a site that asks for no
// email; on a domain that never takes mail, RFC 2606), and the page, referrer, address and
// browser. A real name or address is never replaced.
func (s *Server) completeContact(ctx context.Context, site widgetSite, v store.Visitor, page string) error {
	name := map[string]string{"ru": "Посетитель", "en": "Visitor"}[site.set.Language]
	email := "visitor-" + v.ID.String() + "@" + site.set.Domain + ".invalid"
	return s.store.CompleteVisitorContact(ctx, site.ch.ID, v.ContactKey, name, email, visitorFields(v, page))
}

// visitorFields are what the operator sees of the visitor in the client panel (seed 002: the
// page the chat is on, where the visitor came from, their address and browser).
func visitorFields(v store.Visitor, page string) map[string]string {
	f := map[string]string{}
	for k, val := range map[string]string{"page_url": firstOf(page, v.PageURL), "referrer": v.Referrer, "ip": v.IP, "browser": v.UserAgent} {
		if val != "" {
			f[k] = truncate(val, 1000)
		}
	}
	return f
}

type uploadedFile struct {
	name, contentType string
	data              []byte
}

func readVisitorFile(c echo.Context, b *widgetMessage) (*uploadedFile, error) {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxWidgetFile+64<<10)
	if err := req.ParseMultipartForm(maxWidgetFile + 64<<10); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, newError(http.StatusRequestEntityTooLarge, "file_too_large", "a file may be at most %d MB", maxWidgetFile>>20)
		}
		return nil, badRequest("the form could not be read: %v", err)
	}
	b.ClientID, b.Text, b.PageURL = req.FormValue("client_id"), req.FormValue("text"), req.FormValue("page_url")
	for _, v := range []string{b.ClientID, b.Text, b.PageURL} {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return nil, badRequest("form fields must be UTF-8 text without NUL characters")
		}
	}
	fh, err := c.FormFile("file")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, badRequest("the file could not be read: %v", err)
	}
	if fh.Size > maxWidgetFile {
		return nil, newError(http.StatusRequestEntityTooLarge, "file_too_large", "a file may be at most %d MB", maxWidgetFile>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, badRequest("the file could not be read: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxWidgetFile+1))
	if err != nil {
		return nil, badRequest("the file could not be read: %v", err)
	}
	return &uploadedFile{name: fh.Filename, contentType: fh.Header.Get("Content-Type"), data: data}, nil
}

// visitorMessages serves GET /widget/v1/sites/{site}/messages: the visitor's latest messages,
// oldest first, or with ?after=<message id> those after it.
func (s *Server) visitorMessages(c echo.Context) error {
	site, v := siteOf(c), visitorOf(c)
	after := uuid.Nil
	if a := c.QueryParam("after"); a != "" {
		id, err := uuid.Parse(a)
		if err != nil {
			return badRequest("after must be a message id")
		}
		after = id
	}
	list, err := s.store.VisitorMessages(c.Request().Context(), site.ch.ID, v.ContactKey, after, after == uuid.Nil, widgetPage)
	if err != nil {
		return err
	}
	base := s.baseURL(c)
	for i := range list {
		list[i].Attachments = s.visitorLinks(base, list[i].Attachments)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"items": list, "more": len(list) == widgetPage})
}

// visitorLinks gives a message's desk files signed links the visitor's browser opens without
// signing in.
func (s *Server) visitorLinks(base string, raw json.RawMessage) json.RawMessage {
	var files []map[string]any
	if json.Unmarshal(raw, &files) != nil || len(files) == 0 {
		return json.RawMessage(`[]`)
	}
	for _, f := range files {
		link, _ := f["url"].(string)
		path, _, _ := strings.Cut(link, "?")
		i := strings.LastIndex(path, "/api/v1/files/")
		if i < 0 {
			continue
		}
		id, err := uuid.Parse(path[i+len("/api/v1/files/"):])
		if err != nil {
			continue
		}
		f["url"] = s.store.FileLinks().Sign(base+"/api/v1/files/"+id.String(), id.String(), 24*time.Hour, time.Now())
	}
	out, _ := json.Marshal(files)
	return out
}

// visitorTyping serves POST /widget/v1/sites/{site}/typing.
func (s *Server) visitorTyping(c echo.Context) error {
	site, v := siteOf(c), visitorOf(c)
	if !s.widgetLimits.allow("typing:"+v.ID.String(), 0.5, 2) {
		return c.NoContent(http.StatusNoContent) // often enough already
	}
	if err := s.store.VisitorTyping(c.Request().Context(), site.ch.ID, v.ContactKey); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// operatorTyping serves POST /api/v1/conversations/{number}/typing: the client's widget shows
// that an answer is being written.
func (s *Server) operatorTyping(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("number"), 10, 64)
	if err != nil {
		return notFoundErr("conversation")
	}
	u := currentUser(c)
	if !s.widgetLimits.allow(fmt.Sprintf("operator-typing:%d:%d", u.ID, n), 0.5, 2) {
		return c.NoContent(http.StatusNoContent)
	}
	if err := s.store.OperatorTyping(c.Request().Context(), n, u.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// operatorViewing tells the other consoles that the user has the conversation open (X08); the
// console says so every 20 s while it does.
func (s *Server) operatorViewing(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("number"), 10, 64)
	if err != nil {
		return notFoundErr("conversation")
	}
	u := currentUser(c)
	if !s.widgetLimits.allow(fmt.Sprintf("operator-viewing:%d:%d", u.ID, n), 0.2, 2) {
		return c.NoContent(http.StatusNoContent)
	}
	if err := s.store.OperatorViewing(c.Request().Context(), n, u.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// visitorEvents serves GET /widget/v1/sites/{site}/events: a stream telling the widget that its
// chats have something new ("message": read GET messages after the last one shown) or that an
// operator is typing. It carries no message text: the widget reads messages through the one
// endpoint that decides what a visitor may see.
func (s *Server) visitorEvents(c echo.Context) error {
	site, v := siteOf(c), visitorOf(c)
	ctx := c.Request().Context()
	if !s.widgetStreams.open(v.ID) {
		return tooMany(c)
	}
	defer s.widgetStreams.close(v.ID)
	chats, err := s.store.VisitorChats(ctx, site.ch.ID, v.ContactKey)
	if err != nil {
		return err
	}
	sub, _, err := s.events.subscribe(ctx)
	if err != nil {
		return err
	}
	defer s.events.unsubscribe(sub)
	w := c.Response()
	startEventStream(w)
	// The first event has the widget read what it missed while it was not connected.
	if _, err := fmt.Fprint(w, "retry: 3000\n\nevent: message\ndata: {}\n\n"); err != nil {
		return nil
	}
	w.Flush()
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	refresh := time.NewTicker(visitorChatsRefresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-shutdownOf(ctx):
			return nil
		case <-sub.overflow:
			return nil
		case batch := <-sub.batches:
			news, typing := visitorNews(batch, chats)
			if news {
				fmt.Fprint(w, "event: message\ndata: {}\n\n")
			}
			if typing != "" {
				data, _ := json.Marshal(map[string]string{"name": typing})
				fmt.Fprintf(w, "event: typing\ndata: %s\n\n", data)
			}
			if news || typing != "" {
				w.Flush()
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-refresh.C:
			now, err := s.store.VisitorChats(ctx, site.ch.ID, v.ContactKey)
			if err != nil {
				continue
			}
			if len(now) != len(chats) {
				// A chat opened since (the first message on another line): read it.
				chats = now
				fmt.Fprint(w, "event: message\ndata: {}\n\n")
				w.Flush()
			}
		}
	}
}

// visitorNews reads a batch of events for a visitor's chats: whether a message of theirs (the
// visitor's own or the desk's to them; never a note) is new or changed, and the name of an
// operator typing.
func visitorNews(batch []store.Event, chats []uuid.UUID) (news bool, typing string) {
	for _, e := range batch {
		if e.Kind != "message" && e.Kind != "message.status" && e.Kind != "typing" {
			continue
		}
		var d struct {
			ChatID    uuid.UUID `json:"chat_id"`
			Direction string    `json:"direction"`
			Who       string    `json:"who"`
			Name      string    `json:"name"`
		}
		if json.Unmarshal(e.Data, &d) != nil || !slices.Contains(chats, d.ChatID) {
			continue
		}
		switch {
		case e.Kind == "typing" && d.Who == "operator":
			typing = d.Name
		case e.Kind != "typing" && (d.Direction == "in" || d.Direction == "out"):
			news = true
		}
	}
	return news, typing
}

// liveVisitors serves GET /api/v1/visitors: the visitors on the sites of the lines the user
// supervises (every site for an admin), seen in the last two minutes (seed 002).
func (s *Server) liveVisitors(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	channels, err := s.store.Channels(ctx)
	if err != nil {
		return err
	}
	var lines []int64
	if u.Role != store.RoleAdmin {
		a, err := s.store.AccessOf(ctx, u.ID)
		if err != nil {
			return err
		}
		lines = a.SupervisorLines
	}
	var sites []int64
	for _, ch := range channels {
		if ch.Kind == webchat.Kind && (u.Role == store.RoleAdmin || slices.Contains(lines, ch.LineID)) {
			sites = append(sites, ch.ID)
		}
	}
	if site := c.QueryParam("site"); site != "" {
		id, err := strconv.ParseInt(site, 10, 64)
		if err != nil || !slices.Contains(sites, id) {
			return notFoundErr("site " + site)
		}
		sites = []int64{id}
	}
	list := []store.LiveVisitor{}
	if len(sites) > 0 {
		if list, err = s.store.LiveVisitors(ctx, sites, time.Now().Add(-visitorLive), 500); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// requestBody is the feedback form or a call-back request (seed 000: "форма обратной связи",
// "онлайн-звонок").
type requestBody struct {
	Kind     string `json:"kind"`
	ClientID string `json:"client_id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Text     string `json:"text"`
	// When is the time the visitor would like the call, in their words ("today after 15:00").
	When    string `json:"when"`
	PageURL string `json:"page_url"`
}

// requestWords are the request's lines in the site's language.
var requestWords = map[string]map[string]string{
	"ru": {"form": "Заявка с сайта", "callback": "Обратный звонок", "name": "Имя", "email": "Эл. почта", "phone": "Телефон",
		"when": "Удобное время", "page": "Страница"},
	"en": {"form": "Request from the site", "callback": "Call back", "name": "Name", "email": "Email", "phone": "Phone",
		"when": "Convenient time", "page": "Page"},
}

// visitorRequest serves POST /widget/v1/sites/{site}/requests: the feedback form (offered when
// nobody is online) or a call-back request. Each becomes a request conversation of its own,
// titled with what it is (a call-back's title holds the number to call), through the one
// inbound hand-off.
func (s *Server) visitorRequest(c echo.Context) error {
	site, v := siteOf(c), visitorOf(c)
	ctx := c.Request().Context()
	if !s.widgetLimits.allow("message:"+v.ID.String(), messageRate, messageBurst) ||
		!s.widgetLimits.allow("address-message:"+ipKey(c.RealIP()), addressMessageRate, addressMessageBurst) {
		return tooMany(c)
	}
	var b requestBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	vb := visitorBody{Name: b.Name, Email: b.Email, Phone: b.Phone, PageURL: b.PageURL}
	if err := vb.check(); err != nil {
		return err
	}
	b.Name, b.Email, b.Phone, b.Text, b.When = vb.Name, vb.Email, vb.Phone, strings.TrimSpace(b.Text), strings.TrimSpace(b.When)
	var p fieldErrors
	switch b.Kind {
	case webchat.WidgetForm, webchat.WidgetCallback:
		if !site.set.Has(b.Kind) {
			p.add("this site has no %s widget", b.Kind)
		}
	default:
		p.add("kind must be form or callback")
	}
	if b.ClientID == "" || len(b.ClientID) > maxClientIDLen {
		p.add("client_id is required: the widget's own id for this request, at most %d characters", maxClientIDLen)
	}
	if b.Kind == webchat.WidgetCallback && b.Phone == "" {
		p.add("phone is required: the number to call back")
	}
	if b.Kind == webchat.WidgetForm {
		if b.Text == "" {
			p.add("text is required: what the request is about")
		}
		if b.Email == "" && b.Phone == "" {
			p.add("give an email or a phone number to answer to")
		}
	}
	if utf8.RuneCountInString(b.Text) > webchat.MaxTextLen || utf8.RuneCountInString(b.When) > webchat.MaxNameLen {
		p.add("text or when is too long")
	}
	if err := p.err(); err != nil {
		return err
	}
	if err := s.store.SetVisitorContact(ctx, v.ID, b.Name, b.Email, b.Phone); err != nil {
		return err
	}
	words := requestWords[site.set.Language]
	page := firstOf(site.set.PageURL(b.PageURL), v.PageURL)
	title := words[b.Kind]
	if b.Kind == webchat.WidgetCallback {
		title += ": " + b.Phone
	}
	lines := []string{title}
	for _, f := range [][2]string{{"name", b.Name}, {"email", b.Email}, {"phone", b.Phone}, {"when", b.When}, {"page", page}} {
		if f[1] != "" {
			lines = append(lines, words[f[0]]+": "+f[1])
		}
	}
	text := strings.Join(lines, "\n")
	if b.Text != "" {
		text += "\n\n" + b.Text
	}
	route, _, err := s.routeFor(ctx, site, page)
	if err != nil {
		return err
	}
	// Each request is a chat of its own, titled by what it asks: a second call-back request is
	// a second request, and the first keeps its number.
	chat := fmt.Sprintf("%s@%d/%s/%s", v.ContactKey, route.LineID, b.Kind, b.ClientID)
	if _, err := s.store.FixChatLine(ctx, site.ch.ID, chat, route.LineID); err != nil {
		return err
	}
	in := inbound.Message{ChannelID: site.ch.ID, Kind: webchat.Kind, Key: "w:" + v.ID.String() + ":" + b.ClientID, Text: text, At: time.Now(), Chat: chat,
		Contact: inbound.Contact{ExternalID: v.ContactKey, Name: firstOf(b.Name, v.Name), Email: firstOf(b.Email, v.Email), Phone: firstOf(b.Phone, v.Phone)}}
	acc, err := s.handoff.Accept(ctx, in)
	if errors.Is(err, inbound.ErrBlocked) {
		return newError(http.StatusForbidden, "blocked", "you cannot write to this site's desk")
	}
	if errors.Is(err, inbound.ErrKeyReused) {
		return newError(http.StatusUnprocessableEntity, "client_id_reused", "client_id %q was already used for another request", b.ClientID)
	}
	if err != nil {
		return err
	}
	if err := s.store.SetChatSubject(ctx, acc.ChatID, title); err != nil {
		return err
	}
	if err := s.completeContact(ctx, site, v, page); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"message_id": acc.MessageID.String(), "chat_id": acc.ChatID.String()})
}

// widgetScript serves GET /widget.js, gzipped to browsers that take it.
func (s *Server) widgetScript(c echo.Context) error {
	plain, gz := web.WidgetScript()
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Add("Vary", "Accept-Encoding")
	// A page of any site loads it; what it may then do is its site's domain's business.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", gz)
	}
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", plain)
}
