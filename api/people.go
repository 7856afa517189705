package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// People: users, groups and what each may do (seed 002 "Группы, права доступа", seed 004 lines'
// operator and supervisor groups). Admins manage them; supervisors read them to assign work.

// Limits on people's text fields.
const (
	maxNameLen     = 200
	maxEmailLen    = 254
	minPasswordLen = 8
	maxPasswordLen = 200
)

var roles = []string{store.RoleAdmin, store.RoleSupervisor, store.RoleOperator}

// userBody is a user as clients send it; nil fields keep their value on PATCH.
type userBody struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
	// Capacity limits the user's active conversations (0: no limit); set with PATCH.
	Capacity *int `json:"capacity"`
}

// check validates the fields present in the body.
func (b userBody) check(problems *fieldErrors) {
	if b.Email != nil {
		e := strings.TrimSpace(*b.Email)
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > maxEmailLen {
			problems.add("email must be a plain address like name@example.com, at most %d characters", maxEmailLen)
		}
	}
	if b.Name != nil {
		checkText(problems, "name", *b.Name, maxNameLen)
	}
	if b.Role != nil && !slices.Contains(roles, *b.Role) {
		problems.add("role must be admin, supervisor or operator")
	}
	if b.Password != nil {
		checkPassword(problems, *b.Password)
	}
	if b.Capacity != nil && (*b.Capacity < 0 || *b.Capacity > 1000) {
		problems.add("capacity must be between 0 (no limit) and 1000")
	}
}

func checkText(problems *fieldErrors, field, v string, max int) {
	switch {
	case !utf8.ValidString(v):
		problems.add("%s is not valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		problems.add("%s is longer than %d characters", field, max)
	}
}

func checkPassword(problems *fieldErrors, p string) {
	if n := utf8.RuneCountInString(p); n < minPasswordLen || n > maxPasswordLen {
		problems.add("password must have %d to %d characters", minPasswordLen, maxPasswordLen)
	}
}

// passwordLink is a one-time link with which a user chooses their password.
type passwordLink struct {
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func newPasswordLink(token string, expires time.Time) *passwordLink {
	return &passwordLink{Token: token, URL: "/#set-password=" + token, ExpiresAt: expires}
}

type userAnswer struct {
	User store.UserInfo `json:"user"`
	// PasswordLink is given when the user was created without a password or a link was asked for.
	PasswordLink *passwordLink `json:"password_link,omitempty"`
}

func (s *Server) listUsers(c echo.Context) error {
	users, err := s.store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": users})
}

// userByID is a user as GET /users/{id} answers it.
func (s *Server) userByID(ctx context.Context, id int64) (userAnswer, error) {
	u, err := s.store.UserInfoByID(ctx, id)
	return userAnswer{User: u}, err
}

// createUser adds a user. With a password the admin tells it to them; without one the answer
// holds a one-time link with which they choose it.
func (s *Server) createUser(c echo.Context) error {
	var b userBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var problems fieldErrors
	if b.Email == nil {
		problems.add("email is required")
	}
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		problems.add("name is required")
	}
	if b.Disabled != nil {
		problems.add("disabled cannot be set on a new user")
	}
	if b.Capacity != nil {
		problems.add("capacity is set with PATCH /api/v1/users/{id}")
	}
	b.check(&problems)
	if err := problems.err(); err != nil {
		return err
	}
	nu := store.NewUser{Email: strings.TrimSpace(*b.Email), Name: strings.TrimSpace(*b.Name), Role: store.RoleOperator}
	if b.Role != nil {
		nu.Role = *b.Role
	}
	if b.Password != nil {
		nu.Password = *b.Password
	} else {
		// Nobody knows this password; the user sets theirs through the link.
		nu.Password = store.RandomSecret()
	}
	ctx := c.Request().Context()
	out := userAnswer{}
	_, err := s.withHashing(ctx, func() (store.User, error) {
		return store.User{}, s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
			u, err := tx.CreateUser(ctx, nu)
			if err != nil {
				return store.AuditChange{}, err
			}
			// The record says a password or a link was given, never which.
			after := newUserImage{Password: store.Hidden}
			if b.Password == nil {
				token, expires, err := tx.CreatePasswordLink(ctx, u.ID)
				if err != nil {
					return store.AuditChange{}, err
				}
				out.PasswordLink = newPasswordLink(token, expires)
				after = newUserImage{PasswordLink: store.Hidden}
			}
			if out.User, err = tx.UserInfoByID(ctx, u.ID); err != nil {
				return store.AuditChange{}, err
			}
			after.UserInfo = out.User
			return store.AuditChange{Entity: store.AuditUser, ID: auditID(u.ID), Action: store.AuditCreate, After: after}, nil
		})
	})
	if errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "email_taken", "a user with email %s already exists", nu.Email)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// newUserImage is a new user as the audit log records it.
type newUserImage struct {
	store.UserInfo
	Password     string `json:"password,omitempty"`
	PasswordLink string `json:"password_link,omitempty"`
}

// updateUser edits a user's email, name, role, or disables them; a password is set apart.
func (s *Server) updateUser(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	raw, b, err := decodePatch[userBody](c)
	if err != nil {
		return err
	}
	var problems fieldErrors
	refuseNulls(&problems, raw, "", "email", "name", "role", "disabled", "password", "capacity")
	if b.Password != nil {
		problems.add("password is set with PUT /api/v1/users/{id}/password or a password link")
	}
	if b.Name != nil && strings.TrimSpace(*b.Name) == "" {
		problems.add("name must not be empty")
	}
	b.check(&problems)
	if err := problems.err(); err != nil {
		return err
	}
	if b.Name != nil {
		n := strings.TrimSpace(*b.Name)
		b.Name = &n
	}
	var u store.UserInfo
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditUser, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.UserInfoByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if u, err = tx.UpdateUser(ctx, id, store.UserChange{Email: b.Email, Name: b.Name, Role: b.Role, Disabled: b.Disabled, Capacity: b.Capacity}); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditUser, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: u}, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("user " + c.Param("id"))
	case errors.Is(err, store.ErrLastAdmin):
		return newError(http.StatusConflict, "last_admin", "%s", store.ErrLastAdmin.Error())
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "email_taken", "another user has this email")
	case err != nil:
		return err
	}
	if b.Capacity != nil {
		s.wakeRouters(c.Request().Context()) // more room may let waiting conversations through
	}
	return c.JSON(http.StatusOK, userAnswer{User: u})
}

type passwordBody struct {
	Password string `json:"password"`
}

// setUserPassword is an admin setting a user's password; the user's sessions end.
func (s *Server) setUserPassword(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	var b passwordBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var problems fieldErrors
	checkPassword(&problems, b.Password)
	if err := problems.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	_, err = s.withHashing(ctx, func() (store.User, error) {
		return store.User{}, s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
			if err := lockFor(ctx, tx, store.AuditUser, id); err != nil {
				return store.AuditChange{}, err
			}
			if err := tx.SetPassword(ctx, id, b.Password); err != nil {
				return store.AuditChange{}, err
			}
			return store.AuditChange{Entity: store.AuditUser, ID: auditID(id), Action: store.AuditPasswordReset,
				After: map[string]string{"password": store.Changed}}, nil
		})
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("user " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// createPasswordLink gives a one-time link for an enabled user to choose a new password;
// earlier links of the user stop working.
func (s *Server) createPasswordLink(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	var token string
	var expires time.Time
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := tx.LockForAudit(ctx, store.AuditUser, auditID(id)); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if token, expires, err = tx.CreatePasswordLink(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditUser, ID: auditID(id), Action: store.AuditPasswordLink,
			After: map[string]any{"password_link": store.Hidden, "expires_at": expires}}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("enabled user " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, newPasswordLink(token, expires))
}

type usePasswordLinkBody struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// usePasswordLink lets the holder of a one-time link choose a password. It needs no sign-in.
func (s *Server) usePasswordLink(c echo.Context) error {
	var b usePasswordLinkBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var problems fieldErrors
	if b.Token == "" {
		problems.add("token is required")
	}
	checkPassword(&problems, b.Password)
	if err := problems.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.withHashing(ctx, func() (u store.User, err error) {
		err = s.store.InTx(ctx, func(tx *store.Store) error {
			if u, err = tx.UsePasswordLink(ctx, b.Token, b.Password); err != nil {
				return err
			}
			// The link's holder is the user who now has a password: they are the actor.
			return tx.Audit(ctx, store.Actor{UserID: u.ID, RemoteAddr: c.RealIP()}, store.AuditChange{Entity: store.AuditUser,
				ID: auditID(u.ID), Action: store.AuditPasswordSet, After: map[string]string{"password": store.Changed}})
		})
		return u, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusBadRequest, "invalid_link", "the link is unknown, used or expired; ask an admin for a new one")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userResponse{User: u})
}

// withHashing runs fn, which hashes or checks a password (19 MiB each), when a hashing slot is free.
func (s *Server) withHashing(ctx context.Context, fn func() (store.User, error)) (store.User, error) {
	select {
	case s.hashing <- struct{}{}:
		defer func() { <-s.hashing }()
	case <-ctx.Done():
		return store.User{}, newError(http.StatusServiceUnavailable, "unavailable", "too many password operations at once; try again")
	}
	return fn()
}

// groupBody is a group as clients send it; nil fields keep their value on PATCH.
type groupBody struct {
	Name        *string   `json:"name"`
	Kind        *string   `json:"kind"`
	Permissions *[]string `json:"permissions"`
	MemberIDs   *[]int64  `json:"member_ids"`
	LineIDs     *[]int64  `json:"line_ids"`
}

// apply merges the body into g and validates the result against st (the change's
// transaction), naming unknown users and lines.
func (b groupBody) apply(ctx context.Context, st *store.Store, g *store.Group) error {
	if b.Name != nil {
		g.Name = strings.TrimSpace(*b.Name)
	}
	if b.Kind != nil {
		g.Kind = *b.Kind
	}
	if b.Permissions != nil {
		g.Permissions = dedupe(*b.Permissions)
	}
	if b.MemberIDs != nil {
		g.MemberIDs = dedupe(*b.MemberIDs)
	}
	if b.LineIDs != nil {
		g.LineIDs = dedupe(*b.LineIDs)
	}
	var problems fieldErrors
	if g.Name == "" {
		problems.add("name is required")
	}
	checkText(&problems, "name", g.Name, maxNameLen)
	if g.Kind != store.GroupOperators && g.Kind != store.GroupSupervisors {
		problems.add("kind must be operators or supervisors")
	}
	for _, p := range g.Permissions {
		if !slices.Contains(store.Permissions, p) {
			problems.add("permissions: %q is not one of %s", p, strings.Join(store.Permissions, ", "))
		}
	}
	for field, ref := range map[string]struct {
		table string
		ids   []int64
	}{"member_ids": {"users", g.MemberIDs}, "line_ids": {"lines", g.LineIDs}} {
		missing, err := st.MissingIDs(ctx, ref.table, ref.ids)
		if err != nil {
			return err
		}
		for _, id := range missing {
			problems.add("%s: %s %d does not exist", field, strings.TrimSuffix(ref.table, "s"), id)
		}
	}
	return problems.err()
}

// refuseNulls adds a problem for each of fields a PATCH body sets to null (hint follows the message).
func refuseNulls(problems *fieldErrors, raw map[string]json.RawMessage, hint string, fields ...string) {
	for _, f := range fields {
		if v, ok := raw[f]; ok && string(v) == "null" {
			problems.add("%s cannot be null%s", f, hint)
		}
	}
}

func dedupe[T comparable](v []T) []T {
	out := make([]T, 0, len(v))
	seen := make(map[T]bool, len(v))
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) listGroups(c echo.Context) error {
	groups, err := s.store.ListGroups(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": groups})
}

func (s *Server) createGroup(c echo.Context) error {
	var b groupBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	// A group made without a word on permissions works in the module (its members see their
	// lines); any list sent, even an empty one, is taken as it is.
	g := store.Group{Kind: store.GroupOperators, Permissions: []string{store.PermOmni}}
	var out store.Group
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := b.apply(ctx, tx, &g); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, err = tx.SaveGroup(ctx, g); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditGroup, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "name_taken", "a group named %q already exists", g.Name)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) updateGroup(c echo.Context) error {
	id, err := pathID(c, "group")
	if err != nil {
		return err
	}
	raw, b, err := decodePatch[groupBody](c)
	if err != nil {
		return err
	}
	var problems fieldErrors
	refuseNulls(&problems, raw, " (send [] to empty a list)", "name", "kind", "permissions", "member_ids", "line_ids")
	if err := problems.err(); err != nil {
		return err
	}
	var g, out store.Group
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditGroup, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.GroupByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		g = before
		if err := b.apply(ctx, tx, &g); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.SaveGroup(ctx, g); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditGroup, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("group " + c.Param("id"))
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "name_taken", "a group named %q already exists", g.Name)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteGroup(c echo.Context) error {
	id, err := pathID(c, "group")
	if err != nil {
		return err
	}
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditGroup, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.GroupByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditGroup, ID: auditID(id), Action: store.AuditDelete, Before: before}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("group " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
