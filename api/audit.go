package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// The audit log (issue 7 item 11): every configuration or permission change is made through
// audited, which commits the change and its record together.

// actorOf is who makes the request's change: the signed-in user, the API token they used and
// the client's address.
func actorOf(c echo.Context) store.Actor {
	u := currentUser(c)
	return store.Actor{UserID: u.ID, TokenID: u.TokenID, RemoteAddr: c.RealIP()}
}

// audited runs change in one transaction with its audit record: change works on the
// transaction-bound store, locks the entity's row (tx.LockForAudit) before reading the
// before-image, makes the change and says what it was. If change or the record fails, nothing
// is saved.
func (s *Server) audited(c echo.Context, change func(ctx context.Context, tx *store.Store) (store.AuditChange, error)) error {
	ctx := c.Request().Context()
	actor := actorOf(c)
	return s.store.InTx(ctx, func(tx *store.Store) error {
		ch, err := change(ctx, tx)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, actor, ch)
	})
}

// lockFor locks what id names for an audited change; an id that names nothing is 404.
func lockFor(ctx context.Context, tx *store.Store, e store.AuditEntity, id int64) error {
	err := tx.LockForAudit(ctx, e, auditID(id))
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr(e.Kind + " " + auditID(id))
	}
	return err
}

func auditID(id int64) string { return strconv.FormatInt(id, 10) }

type auditList struct {
	Items []store.AuditRecord `json:"items"`
	// NextBefore is the before= of the next (older) page; null on the last page.
	NextBefore *int64 `json:"next_before"`
}

// listAudit answers GET /audit: every audited change, newest first, filtered by entity kind and
// id, actor and time, paged with before=<id of the last record seen>.
func (s *Server) listAudit(c echo.Context) error {
	q := c.QueryParams()
	var problems fieldErrors
	f := store.AuditFilter{EntityKind: q.Get("entity"), EntityID: q.Get("entity_id")}
	if f.EntityKind != "" && !slices.ContainsFunc(store.AuditEntities, func(e store.AuditEntity) bool { return e.Kind == f.EntityKind }) {
		kinds := make([]string, len(store.AuditEntities))
		for i, e := range store.AuditEntities {
			kinds[i] = e.Kind
		}
		problems.add("entity must be one of %v", kinds)
	}
	checkText(&problems, "entity_id", f.EntityID, maxNameLen)
	f.ActorID = queryInt(q.Get("actor_id"), "actor_id", &problems)
	f.From = queryTime(q.Get("from"), "from", &problems)
	f.To = queryTime(q.Get("to"), "to", &problems)
	f.BeforeID = queryInt(q.Get("before"), "before", &problems)
	f.Limit = auditLimit(q.Get("limit"), &problems)
	if err := problems.err(); err != nil {
		return err
	}
	return s.auditPage(c, f)
}

// channelHistory answers GET /channels/{id}/history: the channel's changes, newest first (seed
// 000, "История изменений каналов связи").
func (s *Server) channelHistory(c echo.Context) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	q := c.QueryParams()
	var problems fieldErrors
	f := store.AuditFilter{EntityKind: store.AuditChannel.Kind, EntityID: auditID(id)}
	f.BeforeID = queryInt(q.Get("before"), "before", &problems)
	f.Limit = auditLimit(q.Get("limit"), &problems)
	if err := problems.err(); err != nil {
		return err
	}
	if _, err := s.store.ChannelByID(c.Request().Context(), id); errors.Is(err, store.ErrNotFound) {
		return notFoundErr("channel " + c.Param("id"))
	} else if err != nil {
		return err
	}
	return s.auditPage(c, f)
}

func (s *Server) auditPage(c echo.Context, f store.AuditFilter) error {
	items, err := s.store.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	// Where an admin signed in from and with which token is for admins: a supervisor reading a
	// channel's history sees who changed what and when.
	if currentUser(c).Role != store.RoleAdmin {
		for i := range items {
			items[i].RemoteAddr, items[i].ActorTokenID = "", nil
		}
	}
	out := auditList{Items: items}
	if len(items) == f.Limit {
		last := items[len(items)-1].ID
		out.NextBefore = &last
	}
	return c.JSON(http.StatusOK, out)
}

// auditLimit reads the page size: 50 unless asked, at most 200.
func auditLimit(v string, problems *fieldErrors) int {
	n := int(queryInt(v, "limit", problems))
	switch {
	case n == 0:
		return 50
	case n > 200:
		problems.add("limit must be at most 200")
	}
	return n
}

// queryTime reads an RFC 3339 time from the query string (nil when absent).
func queryTime(v, name string, problems *fieldErrors) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		problems.add("%s must be a time like 2026-12-05T09:00:00Z", name)
		return nil
	}
	return &t
}

// channelSupervisor lets through an admin or a supervisor of the line of the channel in the
// path. Channels are listed to every signed-in user, so refusing one names nothing secret.
func (s *Server) channelSupervisor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u.Role == store.RoleAdmin {
			return next(c)
		}
		id, err := pathID(c, "channel")
		if err != nil {
			return err
		}
		refused := newError(http.StatusForbidden, "forbidden", "only an admin or a supervisor of the channel's line may see this")
		if u.Role != store.RoleSupervisor {
			return refused
		}
		ctx := c.Request().Context()
		ch, err := s.store.ChannelByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return refused
		}
		if err != nil {
			return err
		}
		a, err := s.store.AccessOf(ctx, u.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(a.SupervisorLines, ch.LineID) {
			return refused
		}
		return next(c)
	}
}

// channelCredentials are which of its own credentials a channel kind uses: an inbound token
// (the generic API channel's callers present it) and a signing secret (webhook signatures and
// outbound callbacks, or the secret in an unsigned webhook's URL: OK's, a PBX's). Email and the
// website chat have neither: they authenticate with their mailbox or their widget's session.
var channelCredentials = map[string]struct{ inboundToken, secret bool }{
	"api":       {true, true},
	"telegram":  {false, true},
	"vk":        {false, true},
	"viber":     {false, true},
	"facebook":  {false, true},
	"instagram": {false, true},
	"whatsapp":  {false, true},
	"ok":        {false, true},
	"phone":     {false, true},
}

type rotatedToken struct {
	InboundToken string `json:"inbound_token"`
}

type rotatedSecret struct {
	Secret string `json:"secret"`
}

// rotateChannelToken gives the channel a new inbound token, shown in this answer only; the old
// one stops working when it is saved.
func (s *Server) rotateChannelToken(c echo.Context) error {
	var token string
	err := s.rotateChannelCredential(c, store.AuditRotateToken, "inbound_token", func(ctx context.Context, tx *store.Store, ch store.Channel) error {
		if !channelCredentials[ch.Kind].inboundToken {
			return newError(http.StatusConflict, "no_inbound_token", "a %s channel has no inbound token", ch.Kind)
		}
		var err error
		token, err = tx.RotateChannelInboundToken(ctx, ch.ID)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rotatedToken{InboundToken: token})
}

// rotateChannelSecret gives the channel a new signing secret, shown in this answer only.
func (s *Server) rotateChannelSecret(c echo.Context) error {
	var secret string
	err := s.rotateChannelCredential(c, store.AuditRotateSecret, "secret", func(ctx context.Context, tx *store.Store, ch store.Channel) error {
		if !channelCredentials[ch.Kind].secret {
			return newError(http.StatusConflict, "no_secret", "a %s channel has no signing secret", ch.Kind)
		}
		var err error
		secret, err = tx.RotateChannelSecret(ctx, ch.ID)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rotatedSecret{Secret: secret})
}

// rotateChannelCredential locks the channel, lets rotate replace one credential and records it
// as changed, without its value.
func (s *Server) rotateChannelCredential(c echo.Context, action, field string,
	rotate func(ctx context.Context, tx *store.Store, ch store.Channel) error) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	return s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditChannel, id); err != nil {
			return store.AuditChange{}, err
		}
		ch, err := tx.ChannelByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := rotate(ctx, tx, ch); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditChannel, ID: auditID(id), Action: action,
			After: map[string]string{field: store.Changed}}, nil
	})
}

// auditedDelete deletes the entity with the path's id in one audited transaction: locked, read
// for the log, deleted; 404 when there is none.
func auditedDelete[T any](s *Server, c echo.Context, what string, e store.AuditEntity,
	load func(*store.Store, context.Context, int64) (T, error), del func(*store.Store, context.Context, int64) error) error {
	id, err := pathID(c, what)
	if err != nil {
		return err
	}
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, e, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := load(tx, ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := del(tx, ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: e, ID: auditID(id), Action: store.AuditDelete, Before: before}, nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// auditedUpdate changes the entity id in one audited transaction: locked, read as it was,
// changed by change (which validates and saves it), recorded before and after.
func auditedUpdate[T any](s *Server, c echo.Context, id int64, e store.AuditEntity,
	load func(*store.Store, context.Context, int64) (T, error), change func(ctx context.Context, tx *store.Store, before T) (T, error)) (T, error) {
	var out T
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, e, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := load(tx, ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if out, err = change(ctx, tx, before); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: e, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	return out, err
}
