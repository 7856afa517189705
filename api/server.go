// Package api is linedesk's HTTP surface: the REST API under /api/v1, health and metrics, and
// the embedded console. Handlers turn requests into store reads and workflow updates.
package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/all"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/web"
	"github.com/linedesk/linedesk/workflows"
)

// Deps are what the API needs.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	Logger   *slog.Logger
	// Metrics serves /metrics (Prometheus text format); nil leaves the route out.
	Metrics http.Handler
	// SecureCookies marks the session cookie Secure (set it behind HTTPS).
	SecureCookies bool
	// Inbound is the inbound hand-off the channels' endpoints accept messages through; its
	// dispatcher runs beside the API (Handoff.Run).
	Inbound *inbound.Handoff
	// AllowedHosts are the host names requests may be addressed to (the Host header, without the
	// port); a request for any other host is refused, so a page on another site whose name
	// resolves to this server (DNS rebinding) cannot use it. Empty: every host. Health checks
	// are exempt: probes address the server by its IP.
	AllowedHosts []string
	// MetricsToken, when set, is the bearer token /metrics wants.
	MetricsToken string
	// AllowPrivateCallbacks lets callback and webhook URLs point at loopback, private and
	// link-local addresses (netguard.CheckURL).
	AllowPrivateCallbacks bool
	// Connectors are the messenger channel kinds (all.Connectors when nil).
	Connectors connectors.Registry
	// PublicURL is the address clients reach this server at (file links are built on it); empty:
	// the request's own scheme and host.
	PublicURL string
	// VK is the VK app for connecting communities through VK's OAuth (none: tokens are pasted).
	VK VKApp
	// TrustedProxies are the reverse proxies in front of linedesk. A request from one of them
	// is the client's its X-Forwarded-For names (the rightmost address that is not a trusted
	// proxy); without them the client is the connection's peer and the header is ignored.
	TrustedProxies []*net.IPNet
	// SSO is the OpenID Connect provider operators may sign in through (api/sso.go).
	SSO SSOConfig
}

// Server holds the handlers' dependencies.
type Server struct {
	store         *store.Store
	temporal      client.Client
	events        *eventHub
	logger        *slog.Logger
	secureCookies bool
	handoff       *inbound.Handoff
	// hashing limits concurrent password checks (argon2id takes 19 MiB each).
	hashing chan struct{}
	// lastPrune is when this process last pruned finished sign-in failure counts (UnixNano).
	lastPrune atomic.Int64
	// allowPrivateCallbacks: see Deps.AllowPrivateCallbacks.
	allowPrivateCallbacks bool
	publicURL             string
	connectors            connectors.Registry
	vkApp                 VKApp
	sso                   *sso
	// widgetLimits are the website widget's rate limits (per address, per visitor);
	// widgetStreams counts visitors' open event streams; visitorsPruned is when this process
	// last forgot silent visitors (UnixNano).
	widgetLimits   limiters
	widgetStreams  streamCounts
	visitorsPruned atomic.Int64
}

// rule is who may call a route. Every route names one, and the permission matrix test fails for
// a route without; which conversations, chats or lines a signed-in user reaches inside a route is
// the handler's check.
type rule string

const (
	// rulePublic needs no sign-in: sign-in itself, health, the API description.
	rulePublic rule = "public"
	// ruleChannelToken authenticates with a channel's own inbound token, not a user.
	ruleChannelToken rule = "channel_token"
	// ruleSignedIn is any signed-in user (session cookie or API token).
	ruleSignedIn rule = "signed_in"
	// ruleSupervisor is a supervisor or an admin.
	ruleSupervisor rule = "supervisor"
	// ruleAdmin is an admin.
	ruleAdmin rule = "admin"
	// ruleConversation is a signed-in user who may see the conversation named in the path: an
	// admin, a supervisor or operator of its line (operators see the unassigned queue only with
	// that permission), or whoever handles or takes part in it. Others get 404.
	ruleConversation rule = "conversation"
	// ruleChat is a signed-in user of the chat's line (or an admin); others get 404.
	ruleChat rule = "chat"
	// ruleLineSupervisor is an admin or a supervisor of the line in the path (seed 004:
	// supervisors change their lines' settings).
	ruleLineSupervisor rule = "line_supervisor"
	// ruleOmniSettings is who changes the module's shared settings (templates): an admin, a
	// supervisor, or a member of a group with the "omni settings" permission (seed 002).
	ruleOmniSettings rule = "omni_settings"
	// ruleChannelSupervisor is an admin or a supervisor of the line of the channel in the path.
	ruleChannelSupervisor rule = "channel_supervisor"
	// ruleFileLink is whoever holds a file's link: its id is random and unguessable, and a
	// channel or an integrator fetches a reply's attachments by it without signing in.
	ruleFileLink rule = "file_link"
	// rulePlatform is a platform's webhook: the channel's connector checks the platform's
	// signature or secret, and a signed-in session counts for nothing.
	rulePlatform rule = "platform_signature"
	// ruleCall is a user of the call's line (its operators and supervisors) or an admin; others
	// get 404.
	ruleCall rule = "call"
	// ruleVisitor is a website visitor: the widget's token of the site in the path, from a page
	// of that site's domain (api/widget.go). A signed-in session counts for nothing.
	ruleVisitor rule = "visitor_token"
	// ruleDialogSettings is an admin or a member of a group with the "can edit dialog settings"
	// permission (seed 003: request types, reasons and components).
	ruleDialogSettings rule = "dialog_settings"
)

// router registers routes with their rule and keeps the route table.
type router struct {
	s     *Server
	e     *echo.Echo
	rules map[string]rule
}

func (r *router) add(method, path string, h echo.HandlerFunc, ru rule) {
	var mw []echo.MiddlewareFunc
	switch ru {
	case rulePublic, ruleChannelToken, ruleFileLink, rulePlatform:
	case ruleVisitor:
		mw = []echo.MiddlewareFunc{r.s.visitorAuth}
	case ruleSignedIn:
		mw = []echo.MiddlewareFunc{r.s.authenticate}
	case ruleSupervisor:
		mw = []echo.MiddlewareFunc{r.s.authenticate, requireRole(store.RoleSupervisor, store.RoleAdmin)}
	case ruleAdmin:
		mw = []echo.MiddlewareFunc{r.s.authenticate, requireRole(store.RoleAdmin)}
	case ruleConversation:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.conversationAccess}
	case ruleChat:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.chatAccess}
	case ruleLineSupervisor:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.lineSupervisor}
	case ruleOmniSettings:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.omniSettings}
	case ruleChannelSupervisor:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.channelSupervisor}
	case ruleDialogSettings:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.mayEditDialogSettings}
	case ruleCall:
		mw = []echo.MiddlewareFunc{r.s.authenticate, r.s.callAccess}
	default:
		panic("api: route " + method + " " + path + " has no rule")
	}
	r.e.Add(method, path, h, mw...)
	r.rules[method+" "+path] = ru
}

// New builds the Echo instance with every route.
func New(d Deps) *echo.Echo {
	e, _ := newAPI(d)
	return e
}

// newAPI builds the Echo instance and returns the route table: "METHOD /path" → rule.
func newAPI(d Deps) (*echo.Echo, map[string]rule) {
	s, e := newServer(d)
	r := &router{s: s, e: e, rules: map[string]rule{
		"GET /healthz": rulePublic, "GET /readyz": rulePublic,
	}}
	if d.Metrics != nil {
		r.rules["GET /metrics"] = rulePublic
	}
	const v1 = "/api/v1"
	get := func(path string, h echo.HandlerFunc, ru rule) { r.add(http.MethodGet, v1+path, h, ru) }
	post := func(path string, h echo.HandlerFunc, ru rule) { r.add(http.MethodPost, v1+path, h, ru) }
	patch := func(path string, h echo.HandlerFunc, ru rule) { r.add(http.MethodPatch, v1+path, h, ru) }
	put := func(path string, h echo.HandlerFunc, ru rule) { r.add(http.MethodPut, v1+path, h, ru) }
	del := func(path string, h echo.HandlerFunc, ru rule) { r.add(http.MethodDelete, v1+path, h, ru) }

	r.add(http.MethodGet, "/api/openapi.yaml", s.openAPI, rulePublic)
	post("/auth/login", s.login, rulePublic)
	post("/auth/logout", s.logout, rulePublic)
	post("/auth/password", s.usePasswordLink, rulePublic)
	get("/auth/config", s.authConfig, rulePublic)
	get("/auth/oidc/login", s.ssoLogin, rulePublic)
	get("/auth/oidc/callback", s.ssoCallback, rulePublic)

	// The generic API channel authenticates with the channel's own inbound token.
	post("/channels/:id/inbound", s.inbound, ruleChannelToken)
	// Messenger platforms post their webhooks here, signed their own way (GET: Meta's
	// verification handshake).
	r.add(http.MethodPost, "/hooks/:id", s.hook, rulePlatform)
	r.add(http.MethodGet, "/hooks/:id", s.hook, rulePlatform)
	// Platforms that sign nothing (OK) and telephony post to a URL holding the channel's secret.
	r.add(http.MethodPost, "/hooks/:id/:token", s.hook, rulePlatform)

	// The website widget (api/widget.go): its script, then its calls from a page of the site,
	// cross-origin, with a visitor token.
	r.add(http.MethodGet, "/widget.js", s.widgetScript, rulePublic)
	// A browser's CORS preflight for them is answered before routing (no route, no rule: it
	// reads nothing but the site's domain).
	e.Pre(s.widgetPreflightFirst)
	const w = "/widget/v1/sites/:site"
	r.add(http.MethodGet, w, s.widgetSettings, rulePublic)
	r.add(http.MethodPost, w+"/visitors", s.createVisitor, rulePublic)
	r.add(http.MethodGet, w+"/visitor", s.getVisitor, ruleVisitor)
	r.add(http.MethodPut, w+"/visitor", s.updateVisitor, ruleVisitor)
	r.add(http.MethodPost, w+"/pings", s.visitorPing, ruleVisitor)
	r.add(http.MethodGet, w+"/messages", s.visitorMessages, ruleVisitor)
	r.add(http.MethodPost, w+"/messages", s.postVisitorMessage, ruleVisitor)
	r.add(http.MethodPost, w+"/typing", s.visitorTyping, ruleVisitor)
	r.add(http.MethodGet, w+"/events", s.visitorEvents, ruleVisitor)
	r.add(http.MethodPost, w+"/requests", s.visitorRequest, ruleVisitor)
	r.add(http.MethodGet, w+"/articles", s.widgetArticles, rulePublic)
	get("/visitors", s.liveVisitors, ruleSupervisor)

	get("/me", s.me, ruleSignedIn)
	put("/me/status", s.setMyStatus, ruleSignedIn)
	get("/presence-settings", s.getPresenceSettings, ruleSignedIn)
	put("/presence-settings", s.putPresenceSettings, ruleAdmin)
	get("/tokens", s.listTokens, ruleSignedIn)
	post("/tokens", s.createToken, ruleSignedIn)
	del("/tokens/:id", s.revokeToken, ruleSignedIn)

	get("/users", s.listUsers, ruleSupervisor)
	get("/users/:id", showByID("user", s.userByID), ruleSupervisor)
	post("/users", s.createUser, ruleAdmin)
	patch("/users/:id", s.updateUser, ruleAdmin)
	put("/users/:id/password", s.setUserPassword, ruleAdmin)
	post("/users/:id/password-link", s.createPasswordLink, ruleAdmin)
	get("/groups", s.listGroups, ruleSupervisor)
	get("/groups/:id", showByID("group", s.store.GroupByID), ruleSupervisor)
	post("/groups", s.createGroup, ruleAdmin)
	patch("/groups/:id", s.updateGroup, ruleAdmin)
	del("/groups/:id", s.deleteGroup, ruleAdmin)

	get("/conversations", s.listConversations, ruleSignedIn)
	get("/conversations/counts", s.conversationCounts, ruleSignedIn)
	get("/search", s.search, ruleSignedIn)
	get("/console-settings", s.getConsoleSettings, ruleSignedIn)
	put("/console-settings", s.putConsoleSettings, ruleOmniSettings)
	post("/conversations", s.openDialog, ruleSignedIn)
	get("/conversations/:number", s.getConversation, ruleConversation)
	patch("/conversations/:number", s.editConversation, ruleConversation)
	get("/conversations/:number/messages", s.conversationMessages, ruleConversation)
	get("/conversations/:number/history", s.conversationHistory, ruleConversation)
	get("/conversations/:number/export", s.exportConversation, ruleConversation)
	get("/conversations/:number/transcript", s.conversationTranscript, ruleConversation)
	post("/conversations/:number/messages", s.reply(workflows.UpdateReply), ruleConversation)
	post("/conversations/:number/notes", s.reply(workflows.UpdateNote), ruleConversation)
	post("/conversations/:number/take", s.action(workflows.UpdateTake), ruleConversation)
	post("/conversations/:number/return", s.action(workflows.UpdateReturn), ruleConversation)
	post("/conversations/:number/pause", s.action(workflows.UpdatePause), ruleConversation)
	post("/conversations/:number/resume", s.resume, ruleConversation)
	post("/conversations/:number/assign", s.assignOrTransfer(workflows.UpdateAssign), ruleConversation)
	post("/conversations/:number/transfer", s.assignOrTransfer(workflows.UpdateTransfer), ruleConversation)
	post("/conversations/:number/close", s.closeConversation, ruleConversation)

	post("/vk/connect", s.startVKOAuth, ruleAdmin)
	get("/vk/oauth", s.vkOAuthCallback, ruleAdmin)

	get("/calls", s.listCalls, ruleSignedIn)
	get("/calls/:id", s.getCall, ruleCall)
	post("/calls/:id/contact", s.createCallContact, ruleCall)
	post("/calls/:id/conversation", s.callConversation, ruleCall)

	get("/chats/:id", s.getChat, ruleChat)
	get("/chats/:id/messages", s.chatMessages, ruleChat)
	post("/chats/:id/messages", s.writeInChat, ruleChat)
	post("/chats/:id/automated", s.automated, ruleChat)

	get("/events", s.streamEvents, ruleSignedIn)
	get("/supervisor/conversations", s.supervisorConversations, ruleSupervisor)
	get("/supervisor/operators", s.supervisorOperators, ruleSupervisor)
	get("/reports/conversations", s.conversationsReport, ruleSupervisor)
	get("/reports/dialogs", s.dialogsReport, ruleSupervisor)
	get("/tasks", s.listTasks, ruleSignedIn)
	get("/notifications", s.listNotifications, ruleSignedIn)
	post("/notifications/read", s.markNotificationsRead, ruleSignedIn)

	get("/lines", s.listLines, ruleSignedIn)
	get("/lines/:id", showByID("line", s.store.LineByID), ruleSignedIn)
	post("/lines", s.createLine, ruleAdmin)
	patch("/lines/:id", s.updateLine, ruleLineSupervisor)
	get("/regulations", s.listRegulations, ruleSignedIn)
	get("/regulations/:id", showByID("regulation", s.store.RegulationByID), ruleSignedIn)
	post("/regulations", s.createRegulation, ruleAdmin)
	patch("/regulations/:id", s.updateRegulation, ruleAdmin)
	get("/channels", s.listChannels, ruleSignedIn)
	get("/channels/:id", s.getChannel, ruleSignedIn)
	post("/channels", s.createChannel, ruleAdmin)
	patch("/channels/:id", s.updateChannel, ruleAdmin)
	get("/dialog-settings", s.getDialogSettings, ruleSignedIn)
	put("/dialog-settings", s.putDialogSettings, ruleDialogSettings)
	get("/standard-messages", s.getStandardMessages, ruleSignedIn)
	put("/standard-messages", s.putStandardMessages, ruleAdmin)

	get("/templates", s.listTemplates, ruleSignedIn)
	get("/templates/:id", showByID("template", s.store.TemplateByID), ruleSignedIn)
	post("/templates", s.createTemplate, ruleOmniSettings)
	patch("/templates/:id", s.updateTemplate, ruleOmniSettings)
	del("/templates/:id", s.deleteTemplate, ruleOmniSettings)
	post("/tasks/:id/complete", s.completeTask, ruleSignedIn)
	post("/conversations/convert-to-leads", s.convertToLeads, ruleSignedIn)
	post("/conversations/bulk", s.bulkConversations, ruleSignedIn)
	get("/leads", s.listLeads, ruleSignedIn)
	get("/audit", s.listAudit, ruleAdmin)
	get("/channels/:id/history", s.channelHistory, ruleChannelSupervisor)
	post("/channels/:id/rotate-token", s.rotateChannelToken, ruleAdmin)
	post("/channels/:id/rotate-secret", s.rotateChannelSecret, ruleAdmin)
	post("/channels/:id/test", s.testChannel, ruleChannelSupervisor)
	post("/channels/:id/connect", s.connectChannel, ruleAdmin)
	get("/webhooks", s.listWebhooks, ruleAdmin)
	post("/webhooks", s.createWebhook, ruleAdmin)
	get("/webhooks/:id", s.getWebhook, ruleAdmin)
	patch("/webhooks/:id", s.updateWebhook, ruleAdmin)
	del("/webhooks/:id", s.deleteWebhook, ruleAdmin)
	post("/webhooks/:id/rotate-secret", s.rotateWebhookSecret, ruleAdmin)
	get("/webhooks/:id/deliveries", s.webhookDeliveries, ruleAdmin)
	post("/webhooks/:id/deliveries/:delivery/retry", s.retryWebhookDelivery, ruleAdmin)
	post("/conversations/:number/messages/:id/retry", s.retryMessage, ruleConversation)
	get("/contacts/:id/conversations", s.contactConversations, ruleSignedIn)
	get("/contacts/:id", s.getContact, ruleSignedIn)
	post("/contacts/:id/merge", s.mergeContact, ruleSupervisor)
	put("/contacts/:id/block", s.blockContact, ruleSignedIn)
	patch("/contacts/:id", s.updateContact, ruleSignedIn)
	post("/conversations/:number/files", s.uploadFile, ruleConversation)
	post("/conversations/:number/typing", s.operatorTyping, ruleConversation)
	post("/conversations/:number/viewing", s.operatorViewing, ruleConversation)
	get("/conversations/:number/operators", s.conversationOperators, ruleConversation)
	get("/files/:id", s.getFile, ruleFileLink)

	get("/internal/desks", s.internalDesks, ruleSignedIn)
	get("/internal/requests", s.internalRequests, ruleSignedIn)
	post("/internal/requests", s.createInternalRequest, ruleSignedIn)
	get("/internal/requests/:chat/messages", s.internalMessages, ruleSignedIn)
	post("/internal/requests/:chat/messages", s.writeInternalMessage, ruleSignedIn)

	get("/macros", s.listMacros, ruleSignedIn)
	post("/macros", s.createMacro, ruleOmniSettings)
	get("/macros/:id", showByID("macro", s.store.MacroByID), ruleSignedIn)
	patch("/macros/:id", s.updateMacro, ruleOmniSettings)
	del("/macros/:id", s.deleteMacro, ruleOmniSettings)
	post("/conversations/:number/macros/:macro/apply", s.applyMacro, ruleConversation)

	get("/linked-apps", s.listLinkedApps, ruleAdmin)
	post("/linked-apps", s.createLinkedApp, ruleAdmin)
	get("/linked-apps/:id", showByID("linked app", s.store.LinkedAppByID), ruleAdmin)
	patch("/linked-apps/:id", s.updateLinkedApp, ruleAdmin)
	del("/linked-apps/:id", s.deleteLinkedApp, ruleAdmin)
	get("/conversations/:number/links", s.conversationLinks, ruleConversation)
	post("/conversations/:number/links", s.createConversationLink, ruleConversation)

	get("/kb/folders", s.listKBFolders, ruleSignedIn)
	post("/kb/folders", s.createKBFolder, ruleOmniSettings)
	patch("/kb/folders/:id", s.updateKBFolder, ruleOmniSettings)
	del("/kb/folders/:id", s.deleteKBFolder, ruleOmniSettings)
	get("/kb/articles", s.listKBArticles, ruleSignedIn)
	get("/kb/articles/:id", s.getKBArticle, ruleSignedIn)
	post("/kb/articles", s.createKBArticle, ruleOmniSettings)
	patch("/kb/articles/:id", s.updateKBArticle, ruleOmniSettings)
	del("/kb/articles/:id", s.deleteKBArticle, ruleOmniSettings)
	post("/kb/images", s.uploadKBImage, ruleOmniSettings)
	get("/conversations/:number/kb-suggestions", s.kbSuggestions, ruleConversation)
	// A public article as a page of its own (the link an operator sends a client).
	r.add(http.MethodGet, "/kb/:id", s.publicKBArticle, rulePublic)

	// An API path no route has is the API's 404, not the console, which answers every other path
	// so its screens open on reload.
	e.GET("/api/*", func(c echo.Context) error { return notFoundErr("route " + c.Request().URL.Path) })
	e.GET("/*", echo.WrapHandler(web.Handler()))
	return e, r.rules
}

// NewOps serves only /healthz, /readyz and /metrics (the worker's HTTP address).
func NewOps(d Deps) *echo.Echo {
	_, e := newServer(d)
	return e
}

func newServer(d Deps) (*Server, *echo.Echo) {
	s := &Server{store: d.Store, temporal: d.Temporal, logger: d.Logger, secureCookies: d.SecureCookies,
		handoff: d.Inbound, hashing: make(chan struct{}, 4), allowPrivateCallbacks: d.AllowPrivateCallbacks,
		publicURL: d.PublicURL, connectors: d.Connectors, vkApp: d.VK, sso: newSSO(d.SSO)}
	if s.connectors == nil {
		s.connectors = all.Connectors(netguard.Policy{AllowPrivate: d.AllowPrivateCallbacks, Timeout: 20 * time.Second}.Client())
	}
	s.events = &eventHub{s: s}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address is the connection's: X-Forwarded-For and X-Real-IP are set by whoever
	// sends the request, so trusting them would let a client pick the address sign-in throttling
	// and the widget's limits count against. Behind configured proxies the header is read, and
	// only the hops those proxies added are believed.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range d.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.HTTPErrorHandler = errorHandler(d.Logger)
	// Outermost, so that every answer is counted and carries a request id: refusals of the host
	// check and panics that Recover turns into a 500 included.
	e.Use(requestLog(d.Logger))
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	if len(d.AllowedHosts) > 0 {
		e.Use(hostCheck(d.AllowedHosts, d.MetricsToken != ""))
	}
	e.Use(crossOriginProtection())

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if d.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(d.Metrics), metricsToken(d.MetricsToken))
	}
	return s, e
}

// contentSecurityPolicy lets the console load only its own scripts, styles and data, and no page
// frame it (clickjacking).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the browser protections every response carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

// hostCheck refuses requests addressed to a host that is not this server's.
func hostCheck(allowed []string, metricsGuarded bool) echo.MiddlewareFunc {
	set := map[string]bool{}
	for _, h := range allowed {
		set[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Probes and Prometheus reach a replica by its pod address, not the public name;
			// /metrics then wants its bearer token, which a rebound page cannot know (without a
			// token it stays behind the check).
			if p := c.Request().URL.Path; p == "/healthz" || p == "/readyz" || p == "/metrics" && metricsGuarded {
				return next(c)
			}
			host := c.Request().Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			host = strings.ToLower(strings.Trim(host, "[]"))
			if !set[host] {
				return newError(http.StatusMisdirectedRequest, "misdirected_host",
					"this server does not answer for host %q; use its public address (LINEDESK_PUBLIC_URL)", host)
			}
			return next(c)
		}
	}
}

// metricsToken guards /metrics with a bearer token when one is configured.
func metricsToken(token string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if token == "" {
				return next(c)
			}
			got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				return newError(http.StatusUnauthorized, "unauthorized", "/metrics wants the metrics token (LINEDESK_METRICS_TOKEN)")
			}
			return next(c)
		}
	}
}

// crossOriginProtection refuses state-changing requests that a browser sent from another
// origin (CSRF). Requests from non-browser clients (curl, integrations with API tokens) carry no
// Sec-Fetch-Site or Origin header and pass.
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	// The website widget calls from its site's pages by design, with a bearer visitor token
	// and no cookie: its origin is checked against the site's domain instead (api/widget.go).
	cop.AddInsecureBypassPattern("/widget/v1/")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return newError(http.StatusForbidden, "cross_origin", "cross-origin request refused")
			}
			return next(c)
		}
	}
}

// requestLog gives each request an id (the caller's X-Request-Id when it is a plain token, else
// a new one, echoed in the answer), puts it and the conversation the route names into the
// request's log context, counts the request in linedesk's HTTP metrics and writes one line.
func requestLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req := c.Request()
			id := req.Header.Get(echo.HeaderXRequestID)
			if !plainToken(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			attrs := []slog.Attr{slog.String("request_id", id)}
			if n := c.Param("number"); n != "" && strings.HasPrefix(c.Path(), "/api/v1/conversations/") {
				attrs = append(attrs, slog.String("conversation", n))
			}
			c.SetRequest(req.WithContext(telemetry.WithLogAttrs(req.Context(), attrs...)))
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route, status := c.Path(), c.Response().Status
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			telemetry.HTTPRequests.WithLabelValues(methodLabel(req.Method), route, strconv.Itoa(status)).Inc()
			if !strings.HasPrefix(c.Response().Header().Get(echo.HeaderContentType), "text/event-stream") {
				telemetry.HTTPDuration.WithLabelValues(route).Observe(elapsed.Seconds())
			}
			logger.LogAttrs(c.Request().Context(), slog.LevelDebug, "http request",
				slog.String("method", req.Method),
				slog.String("path", loggedPath(c)),
				slog.Int("status", status),
				slog.Duration("duration", elapsed))
			return nil
		}
	}
}

// methodLabel is the request's method for the metrics: HTTP's own, else "other" (a client may
// send any token as a method, and each would be a series of its own).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// plainToken reports whether a caller's request id can go into logs as it is: 1 to 64 letters,
// digits, '-', '_' or '.'.
func plainToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// loggedPath is the request's path for the log: a webhook URL holding a channel's secret
// (/hooks/:id/:token) is logged by its route, never with the secret.
func loggedPath(c echo.Context) string {
	if c.Param("token") != "" {
		return c.Path()
	}
	return c.Request().URL.Path
}
