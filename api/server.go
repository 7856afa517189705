// Package api is linedesk's HTTP surface: the REST API under /api/v1, health and metrics, and
// the embedded console. Handlers turn requests into store reads and workflow updates.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
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
}

// Server holds the handlers' dependencies.
type Server struct {
	store         *store.Store
	temporal      client.Client
	logger        *slog.Logger
	secureCookies bool
	handoff       *inbound.Handoff
	// hashing limits concurrent password checks (argon2id takes 19 MiB each).
	hashing chan struct{}
}

// New builds the Echo instance with every route.
func New(d Deps) *echo.Echo {
	s, e := newServer(d)

	e.GET("/api/openapi.yaml", s.openAPI)

	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/logout", s.logout)

	// The generic API channel authenticates with the channel's own inbound token.
	v1.POST("/channels/:id/inbound", s.inbound)

	authed := v1.Group("", s.authenticate)
	authed.GET("/me", s.me)
	authed.POST("/tokens", s.createToken)

	authed.GET("/conversations", s.listConversations)
	authed.POST("/conversations", s.openDialog)
	authed.GET("/conversations/:number", s.getConversation)
	authed.PATCH("/conversations/:number", s.editConversation)
	authed.GET("/conversations/:number/messages", s.conversationMessages)
	authed.GET("/conversations/:number/history", s.conversationHistory)
	authed.POST("/conversations/:number/messages", s.reply(workflows.UpdateReply))
	authed.POST("/conversations/:number/notes", s.reply(workflows.UpdateNote))
	authed.POST("/conversations/:number/take", s.action(workflows.UpdateTake))
	authed.POST("/conversations/:number/return", s.action(workflows.UpdateReturn))
	authed.POST("/conversations/:number/pause", s.action(workflows.UpdatePause))
	authed.POST("/conversations/:number/resume", s.resume)
	authed.POST("/conversations/:number/assign", s.assignOrTransfer(workflows.UpdateAssign))
	authed.POST("/conversations/:number/transfer", s.assignOrTransfer(workflows.UpdateTransfer))
	authed.POST("/conversations/:number/close", s.closeConversation)

	authed.GET("/chats/:id", s.getChat)
	authed.GET("/chats/:id/messages", s.chatMessages)
	authed.POST("/chats/:id/messages", s.writeInChat)
	authed.POST("/chats/:id/automated", s.automated)

	authed.GET("/tasks", s.listTasks)
	authed.GET("/notifications", s.listNotifications)

	authed.GET("/lines", s.listLines)
	authed.GET("/lines/:id", s.getLine)
	authed.POST("/lines", s.createLine, requireAdmin)
	authed.PATCH("/lines/:id", s.updateLine, requireAdmin)
	authed.GET("/regulations", s.listRegulations)
	authed.GET("/regulations/:id", s.getRegulation)
	authed.POST("/regulations", s.createRegulation, requireAdmin)
	authed.PATCH("/regulations/:id", s.updateRegulation, requireAdmin)
	authed.GET("/channels", s.listChannels)
	authed.GET("/channels/:id", s.getChannel)
	authed.POST("/channels", s.createChannel, requireAdmin)
	authed.PATCH("/channels/:id", s.updateChannel, requireAdmin)
	authed.GET("/dialog-settings", s.getDialogSettings)
	authed.PUT("/dialog-settings", s.putDialogSettings, requireAdmin)
	authed.GET("/standard-messages", s.getStandardMessages)
	authed.PUT("/standard-messages", s.putStandardMessages, requireAdmin)

	e.GET("/*", echo.WrapHandler(web.Handler()))
	return e
}

// NewOps serves only /healthz, /readyz and /metrics (the worker's HTTP address).
func NewOps(d Deps) *echo.Echo {
	_, e := newServer(d)
	return e
}

func newServer(d Deps) (*Server, *echo.Echo) {
	s := &Server{store: d.Store, temporal: d.Temporal, logger: d.Logger, secureCookies: d.SecureCookies,
		handoff: d.Inbound, hashing: make(chan struct{}, 4)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.Use(middleware.Recover())
	e.Use(requestLog(d.Logger))
	e.Use(crossOriginProtection())

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if d.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(d.Metrics))
	}
	return s, e
}

// crossOriginProtection refuses state-changing requests that a browser sent from another
// origin (CSRF). Requests from non-browser clients (curl, integrations with API tokens) carry no
// Sec-Fetch-Site or Origin header and pass.
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return newError(http.StatusForbidden, "cross_origin", "cross-origin request refused")
			}
			return next(c)
		}
	}
}

// requestLog writes one line per request.
func requestLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req := c.Request()
			logger.LogAttrs(req.Context(), slog.LevelDebug, "http request",
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)))
			return nil
		}
	}
}
