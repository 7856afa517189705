package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// SessionCookie is the console's session cookie.
const SessionCookie = "linedesk_session"

const (
	userKey = "linedesk.user"
	// viaTokenKey marks a request authenticated with an API token rather than a session.
	viaTokenKey = "linedesk.via_token"
)

// currentUser returns the signed-in user put on the context by authenticate.
func currentUser(c echo.Context) store.User {
	u, _ := c.Get(userKey).(store.User)
	return u
}

// authenticate resolves a Bearer API token or the session cookie to a user and refuses the
// request with 401 when neither is valid.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || token == "" {
				return errUnauthorized
			}
			u, err := s.store.UserByAPIToken(ctx, token)
			if err != nil {
				return unauthorizedOr(err)
			}
			c.Set(userKey, u)
			c.Set(viaTokenKey, true)
			return next(c)
		}
		cookie, err := c.Cookie(SessionCookie)
		if err != nil || cookie.Value == "" {
			return errUnauthorized
		}
		u, err := s.store.UserBySession(ctx, cookie.Value)
		if err != nil {
			return unauthorizedOr(err)
		}
		c.Set(userKey, u)
		return next(c)
	}
}

func unauthorizedOr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	return err
}

// Sign-in throttling: an account is blocked for a quarter of an hour after 10 failed sign-ins
// within a quarter of an hour, a client address after 50 (an office behind one address has many
// people who mistype).
var (
	accountLoginLimit = store.LoginLimit{Failures: 10, Window: 15 * time.Minute, Block: 15 * time.Minute}
	addressLoginLimit = store.LoginLimit{Failures: 50, Window: 15 * time.Minute, Block: 15 * time.Minute}
)

// pruneLoginFailures drops finished failure counts, at most once an hour per process.
func (s *Server) pruneLoginFailures(ctx context.Context) {
	last := s.lastPrune.Load()
	if time.Since(time.Unix(0, last)) < time.Hour || !s.lastPrune.CompareAndSwap(last, time.Now().UnixNano()) {
		return
	}
	if err := s.store.PruneLoginFailures(ctx, accountLoginLimit.Window); err != nil {
		s.logger.WarnContext(ctx, "prune login failures", "error", err)
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type userResponse struct {
	User store.User `json:"user"`
}

func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var problems fieldErrors
	if strings.TrimSpace(req.Email) == "" {
		problems.add("email is required")
	}
	if req.Password == "" {
		problems.add("password is required")
	}
	if err := problems.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Guessing is throttled per account and per client address, in PostgreSQL so every api
	// replica counts alike. Each attempt is counted before the password is checked (and given
	// back when it was right), so parallel guesses cannot slip past the limit; a blocked sign-in
	// is refused before any hashing.
	account, ip := "account:"+strings.ToLower(strings.TrimSpace(req.Email)), "ip:"+c.RealIP()
	var left time.Duration
	for _, k := range []struct {
		key   string
		limit store.LoginLimit
	}{{account, accountLoginLimit}, {ip, addressLoginLimit}} {
		d, err := s.store.LoginAttempt(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		left = max(left, d)
	}
	if left > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(left.Seconds()))))
		return newError(http.StatusTooManyRequests, "too_many_attempts",
			"too many failed sign-ins; try again in %s", left.Round(time.Second))
	}
	u, err := s.withHashing(ctx, func() (store.User, error) { return s.store.Authenticate(ctx, req.Email, req.Password) })
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
	}
	if err != nil {
		return err
	}
	if err := s.store.LoginSucceeded(ctx, account, ip); err != nil {
		return err
	}
	s.pruneLoginFailures(ctx)
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userResponse{User: u})
}

// startSession signs the user in on this browser: a new session, set as the session cookie.
// Password and single sign-on start the same session.
func (s *Server) startSession(c echo.Context, userID int64) error {
	token, err := s.store.CreateSession(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name:     SessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  time.Now().Add(store.SessionTTL),
		HttpOnly: true,
		Secure:   s.secureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

func (s *Server) logout(c echo.Context) error {
	if cookie, err := c.Cookie(SessionCookie); err == nil && cookie.Value != "" {
		if err := s.store.DeleteSession(c.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
	return c.NoContent(http.StatusNoContent)
}

type meResponse struct {
	User   store.User   `json:"user"`
	Access store.Access `json:"access"`
}

func (s *Server) me(c echo.Context) error {
	u := currentUser(c)
	access, err := s.store.AccessOf(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meResponse{User: u, Access: access})
}

type createTokenRequest struct {
	Name string `json:"name"`
	// Role caps what the token may do; it may not be above the caller's role ("": the caller's).
	Role string `json:"role"`
	// ExpiresInDays makes the token stop working after that many days (0: never).
	ExpiresInDays int `json:"expires_in_days"`
}

type createTokenResponse struct {
	store.APIToken
	Token string `json:"token"`
}

// maxTokenDays bounds a token's lifetime when one is asked for (ten years).
const maxTokenDays = 3650

// createToken issues an API token for the signed-in user; the token is in this answer only.
func (s *Server) createToken(c echo.Context) error {
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u := currentUser(c)
	if via, _ := c.Get(viaTokenKey).(bool); via {
		// A token minting tokens would outlive its own expiry and revocation.
		return newError(http.StatusForbidden, "forbidden", "API tokens are made from a signed-in session, not with another token")
	}
	var problems fieldErrors
	checkText(&problems, "name", req.Name, maxNameLen)
	if req.Role != "" && store.RoleRank(req.Role) == 0 {
		problems.add("role must be admin, supervisor or operator")
	} else if store.RoleRank(req.Role) > store.RoleRank(u.Role) {
		problems.add("role %s is above your role (%s)", req.Role, u.Role)
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > maxTokenDays {
		problems.add("expires_in_days must be between 0 (never) and %d", maxTokenDays)
	}
	if err := problems.err(); err != nil {
		return err
	}
	nt := store.NewAPIToken{UserID: u.ID, Name: strings.TrimSpace(req.Name), Role: req.Role}
	if req.ExpiresInDays > 0 {
		at := time.Now().Add(time.Duration(req.ExpiresInDays) * 24 * time.Hour)
		nt.ExpiresAt = &at
	}
	var t store.APIToken
	var token string
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		var err error
		if t, token, err = tx.CreateAPIToken(ctx, nt); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditAPIToken, ID: auditID(t.ID), Action: store.AuditCreate, After: t}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createTokenResponse{APIToken: t, Token: token})
}

// listTokens lists the caller's tokens; an admin may ask for another user's (?user_id=).
func (s *Server) listTokens(c echo.Context) error {
	u := currentUser(c)
	owner := u.ID
	if v := c.QueryParam("user_id"); v != "" {
		var problems fieldErrors
		owner = queryInt(v, "user_id", &problems)
		if err := problems.err(); err != nil {
			return err
		}
		if owner != u.ID && u.Role != store.RoleAdmin {
			return newError(http.StatusForbidden, "forbidden", "only an admin may list another user's tokens")
		}
	}
	tokens, err := s.store.APITokens(c.Request().Context(), owner)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": tokens})
}

// revokeToken stops one of the caller's tokens at once (an admin may revoke anyone's).
func (s *Server) revokeToken(c echo.Context) error {
	id, err := pathID(c, "token")
	if err != nil {
		return err
	}
	u := currentUser(c)
	var t store.APIToken
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditAPIToken, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.APITokenByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if before.UserID != u.ID && u.Role != store.RoleAdmin {
			return store.AuditChange{}, notFoundErr("token " + c.Param("id"))
		}
		if t, err = tx.RevokeAPIToken(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditAPIToken, ID: auditID(id), Action: store.AuditRevoke, Before: before, After: t}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
