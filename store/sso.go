package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Single sign-on (feature X12): an OpenID Connect provider vouches for an email; the user with
// that email signs in, or is made at their first sign-in, and the provider's groups set their
// role and their membership of the groups the mapping names.

// Audit actions of single sign-on: a user made by their first sign-in, and a change of role or
// groups that the provider's groups made at a sign-in. The user is the actor of both.
const (
	AuditSSOProvision = "sso_provision"
	AuditSSOSync      = "sso_sync"
)

// ErrUserDisabled refuses the single sign-on of a user an admin disabled: the provider vouching
// for them does not bring them back.
var ErrUserDisabled = errors.New("the user is disabled")

// SSOSignIn is what a single sign-on asks of the store.
type SSOSignIn struct {
	Email string
	// Name is a new user's name.
	Name string
	Role string
	// Groups are the groups (by name) the user is to be a member of, among Managed: every group
	// the mapping names. Membership of any other group is left as an admin set it.
	Groups  []string
	Managed []string
}

// SSOImage is a user as single sign-on changes them, for the audit log: the role and every
// group they are a member of, by name.
type SSOImage struct {
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Groups []string `json:"groups"`
}

// SSOOutcome is what a single sign-on did.
type SSOOutcome struct {
	User User
	// Created tells whether this sign-in made the user.
	Created bool
	// Before (nil for a new user) and After are for the audit log.
	Before *SSOImage
	After  SSOImage
	// KeptAdmin is set when the mapping's role was not applied because the user is the last
	// enabled admin.
	KeptAdmin bool
	// UnknownGroups are the names in Managed that no group has.
	UnknownGroups []string
}

// SignInWithSSO finds the user with the email (any case), or makes them with the name, the
// role and a password nobody knows, then gives them the role and the mapped groups, in one
// transaction. A disabled user is ErrUserDisabled and nothing changes. The last enabled admin
// keeps the admin role (the outcome says so) rather than leave the desk without one.
func (s *Store) SignInWithSSO(ctx context.Context, in SSOSignIn) (SSOOutcome, error) {
	email := strings.TrimSpace(in.Email)
	if email == "" || RoleRank(in.Role) == 0 {
		return SSOOutcome{}, fmt.Errorf("sso sign-in: %w: an email and a role are needed", ErrInvalid)
	}
	// A new user gets a password nobody knows (an admin may send them a password link); it is
	// hashed before the transaction, which holds the admins' lock.
	var hash string
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))`, email).Scan(&exists); err != nil {
		return SSOOutcome{}, translate(err, "sso sign-in")
	}
	if !exists {
		var err error
		if hash, err = HashPassword(RandomSecret()); err != nil {
			return SSOOutcome{}, err
		}
	}
	var out SSOOutcome
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Role changes are serialised with the admins' edits (UpdateUser), so the last admin
		// stays one.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('linedesk.users.admins'))`); err != nil {
			return err
		}
		id, role, disabled, err := ssoUser(ctx, tx, email)
		if errors.Is(err, pgx.ErrNoRows) {
			if hash == "" {
				if hash, err = HashPassword(RandomSecret()); err != nil {
					return err
				}
			}
			// Two first sign-ins at once: one inserts, the other finds that user.
			var made int64
			ierr := tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
				ON CONFLICT (lower(email)) DO NOTHING RETURNING id`, email, in.Name, hash, in.Role).Scan(&made)
			if ierr != nil && !errors.Is(ierr, pgx.ErrNoRows) {
				return ierr
			}
			out.Created = made != 0
			id, role, disabled, err = ssoUser(ctx, tx, email)
		}
		if err != nil {
			return err
		}
		if disabled {
			return ErrUserDisabled
		}
		if !out.Created {
			before, err := ssoImage(ctx, tx, id)
			if err != nil {
				return err
			}
			out.Before = &before
		}
		if role != in.Role {
			if role == RoleAdmin {
				var others int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1`,
					id).Scan(&others); err != nil {
					return err
				}
				out.KeptAdmin = others == 0
			}
			if !out.KeptAdmin {
				if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, id, in.Role); err != nil {
					return err
				}
			}
		}
		if err := syncSSOGroups(ctx, tx, id, in, &out); err != nil {
			return err
		}
		if out.After, err = ssoImage(ctx, tx, id); err != nil {
			return err
		}
		out.User, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		return err
	})
	if errors.Is(err, ErrUserDisabled) {
		return SSOOutcome{}, fmt.Errorf("sso sign-in: %w", ErrUserDisabled)
	}
	return out, translate(err, "sso sign-in")
}

// ssoUser locks the user with the email for the sign-in.
func ssoUser(ctx context.Context, tx pgx.Tx, email string) (id int64, role string, disabled bool, err error) {
	err = tx.QueryRow(ctx, `SELECT id, role, disabled_at IS NOT NULL FROM users WHERE lower(email) = lower($1) FOR UPDATE`,
		email).Scan(&id, &role, &disabled)
	return id, role, disabled, err
}

// syncSSOGroups makes the user a member of the wanted groups among the managed ones and of no
// other managed group.
func syncSSOGroups(ctx context.Context, tx pgx.Tx, userID int64, in SSOSignIn, out *SSOOutcome) error {
	managed := append([]string{}, in.Managed...)
	if len(managed) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id, name FROM groups WHERE name = ANY($1)`, managed)
	if err != nil {
		return err
	}
	type group struct {
		ID   int64
		Name string
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[group])
	if err != nil {
		return err
	}
	managedIDs, wantIDs := []int64{}, []int64{}
	known := map[string]bool{}
	for _, g := range found {
		known[g.Name] = true
		managedIDs = append(managedIDs, g.ID)
		if slices.Contains(in.Groups, g.Name) {
			wantIDs = append(wantIDs, g.ID)
		}
	}
	for _, name := range managed {
		if !known[name] && !slices.Contains(out.UnknownGroups, name) {
			out.UnknownGroups = append(out.UnknownGroups, name)
		}
	}
	slices.Sort(out.UnknownGroups)
	if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE user_id = $1 AND group_id = ANY($2) AND NOT group_id = ANY($3)`,
		userID, managedIDs, wantIDs); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id) SELECT unnest($2::bigint[]), $1 ON CONFLICT DO NOTHING`,
		userID, wantIDs)
	return err
}

func ssoImage(ctx context.Context, tx pgx.Tx, userID int64) (SSOImage, error) {
	var im SSOImage
	err := tx.QueryRow(ctx, `SELECT u.email, u.name, u.role,
		coalesce((SELECT array_agg(g.name ORDER BY g.name) FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '{}')
		FROM users u WHERE u.id = $1`, userID).Scan(&im.Email, &im.Name, &im.Role, &im.Groups)
	return im, err
}
