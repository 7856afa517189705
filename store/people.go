package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Group permissions (seed 002, "Группы, права доступа", and seed 003's dialog settings).
const (
	// PermOmni is access to the omnichannel module at all.
	PermOmni = "omni"
	// PermUnassignedQueue lets an operator see and take conversations nobody is assigned to.
	PermUnassignedQueue = "unassigned_queue"
	// PermOmniSettings lets a member change the module's settings.
	PermOmniSettings = "omni_settings"
	// PermTelephony is access to phone conversations.
	PermTelephony = "telephony"
	// PermOmniManagement lets a member manage lines and channels of the module.
	PermOmniManagement = "omni_management"
	// PermDialogSettings lets a member edit the dialog settings (types, reasons, components).
	PermDialogSettings = "dialog_settings"
)

// Permissions lists every group permission, in the order the console shows them.
var Permissions = []string{PermOmni, PermUnassignedQueue, PermOmniSettings, PermTelephony, PermOmniManagement, PermDialogSettings}

// Group kinds: a line's operators or its supervisors (seed 004).
const (
	GroupOperators   = "operators"
	GroupSupervisors = "supervisors"
)

// ErrLastAdmin refuses a change that would leave no enabled admin.
var ErrLastAdmin = errors.New("the last enabled admin cannot be disabled or lose the admin role")

// UserInfo is a user as admins manage them: with whether they are disabled and their groups.
type UserInfo struct {
	User
	Disabled  bool      `json:"disabled"`
	GroupIDs  []int64   `json:"group_ids"`
	UpdatedAt time.Time `json:"updated_at"`
	// Capacity is how many active conversations routing and taking give the user (0: no limit).
	Capacity int `json:"capacity"`
}

const userInfoSelect = `SELECT u.id, u.email, u.name, u.role, u.presence, u.created_at, u.disabled_at IS NOT NULL, u.updated_at, u.capacity,
	coalesce((SELECT array_agg(m.group_id ORDER BY m.group_id) FROM group_members m WHERE m.user_id = u.id), '{}')
	FROM users u`

func scanUserInfo(row rowScanner) (UserInfo, error) {
	var u UserInfo
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Presence, &u.CreatedAt, &u.Disabled, &u.UpdatedAt, &u.Capacity, &u.GroupIDs)
	return u, err
}

// ListUsers returns every user, enabled or not, by id.
func (s *Store) ListUsers(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.pool.Query(ctx, userInfoSelect+` ORDER BY u.id`)
	if err != nil {
		return nil, translate(err, "list users")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserInfo, error) { return scanUserInfo(r) })
	return out, translate(err, "list users")
}

// UserInfoByID returns a user, enabled or not.
func (s *Store) UserInfoByID(ctx context.Context, id int64) (UserInfo, error) {
	u, err := scanUserInfo(s.pool.QueryRow(ctx, userInfoSelect+` WHERE u.id = $1`, id))
	return u, translate(err, "user")
}

// UserChange is an edit of a user; nil fields keep their value.
type UserChange struct {
	Email    *string
	Name     *string
	Role     *string
	Disabled *bool
	Capacity *int
}

// UpdateUser edits a user. Disabling one ends their sessions and stops their API tokens at once
// (both are looked up only for enabled users). It refuses with ErrLastAdmin a change that would
// leave no enabled admin.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch UserChange) (UserInfo, error) {
	var out UserInfo
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Admin changes are serialised so two of them cannot each leave the other as the last admin.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('linedesk.users.admins'))`); err != nil {
			return err
		}
		email := ch.Email
		if email != nil {
			e := strings.TrimSpace(*email)
			email = &e
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET email = coalesce($2, email), name = coalesce($3, name),
			role = coalesce($4, role), capacity = coalesce($6, capacity),
			disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at WHEN $5 THEN coalesce(disabled_at, now()) ELSE NULL END,
			updated_at = now()
			WHERE id = $1`, id, email, ch.Name, ch.Role, ch.Disabled, ch.Capacity)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		var admins int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL`).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return ErrLastAdmin
		}
		if ch.Disabled != nil && *ch.Disabled {
			if err := endSessionsAndLinks(ctx, tx, id); err != nil {
				return err
			}
		}
		out, err = scanUserInfo(tx.QueryRow(ctx, userInfoSelect+` WHERE u.id = $1`, id))
		return err
	})
	if errors.Is(err, ErrLastAdmin) {
		return UserInfo{}, fmt.Errorf("update user: %w", ErrLastAdmin)
	}
	return out, translate(err, "update user")
}

// SetPassword replaces a user's password, ends their sessions and spends their password links.
func (s *Store) SetPassword(ctx context.Context, id int64, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return translate(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return setPassword(ctx, tx, id, hash)
	}), "set password")
}

func setPassword(ctx context.Context, tx pgx.Tx, id int64, hash string) error {
	tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return endSessionsAndLinks(ctx, tx, id)
}

// endSessionsAndLinks signs a user out everywhere and spends their unused password links: after
// a new password or while disabled, an old link must not set another.
func endSessionsAndLinks(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE password_links SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, id)
	return err
}

// PasswordLinkTTL is how long a one-time password link works.
const PasswordLinkTTL = 72 * time.Hour

// CreatePasswordLink makes a one-time token with which an enabled user chooses a password; the
// token is returned once and only its hash is kept. Earlier unused links of the user stop working.
func (s *Store) CreatePasswordLink(ctx context.Context, userID int64) (string, time.Time, error) {
	token := randomToken("ldp_")
	expires := time.Now().Add(PasswordLinkTTL).Truncate(time.Microsecond)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT disabled_at IS NULL FROM users WHERE id = $1`, userID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return pgx.ErrNoRows
		}
		if _, err := tx.Exec(ctx, `UPDATE password_links SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO password_links (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
			tokenHash(token), userID, expires)
		return err
	})
	return token, expires, translate(err, "create password link")
}

// UsePasswordLink sets the password of the link's user and spends the link. An unknown, used or
// expired link, or one of a disabled user, is ErrNotFound. The link is looked up (and locked)
// before the password is hashed, so made-up tokens cost no hashing.
func (s *Store) UsePasswordLink(ctx context.Context, token, password string) (User, error) {
	var u User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT l.user_id FROM password_links l JOIN users u ON u.id = l.user_id
			WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() AND u.disabled_at IS NULL
			FOR UPDATE OF l`, tokenHash(token)).Scan(&id)
		if err != nil {
			return err
		}
		hash, err := HashPassword(password)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_links SET used_at = now() WHERE token_hash = $1`, tokenHash(token)); err != nil {
			return err
		}
		if err := setPassword(ctx, tx, id, hash); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		return err
	})
	return u, translate(err, "use password link")
}

// Group is a set of users with permissions, attached to lines as their operators or supervisors.
type Group struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Permissions []string  `json:"permissions"`
	MemberIDs   []int64   `json:"member_ids"`
	LineIDs     []int64   `json:"line_ids"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const groupSelect = `SELECT g.id, g.name, g.kind, g.permissions, g.created_at, g.updated_at,
	coalesce((SELECT array_agg(m.user_id ORDER BY m.user_id) FROM group_members m WHERE m.group_id = g.id), '{}'),
	coalesce((SELECT array_agg(l.line_id ORDER BY l.line_id) FROM line_groups l WHERE l.group_id = g.id), '{}')
	FROM groups g`

func scanGroup(row rowScanner) (Group, error) {
	var g Group
	err := row.Scan(&g.ID, &g.Name, &g.Kind, &g.Permissions, &g.CreatedAt, &g.UpdatedAt, &g.MemberIDs, &g.LineIDs)
	return g, err
}

// ListGroups returns every group by name.
func (s *Store) ListGroups(ctx context.Context) ([]Group, error) {
	rows, err := s.pool.Query(ctx, groupSelect+` ORDER BY g.name, g.id`)
	if err != nil {
		return nil, translate(err, "list groups")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Group, error) { return scanGroup(r) })
	return out, translate(err, "list groups")
}

// GroupByID returns one group.
func (s *Store) GroupByID(ctx context.Context, id int64) (Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, groupSelect+` WHERE g.id = $1`, id))
	return g, translate(err, "group")
}

// SaveGroup creates the group (ID 0) or replaces an existing one's name, kind, permissions,
// members and lines, in one transaction.
func (s *Store) SaveGroup(ctx context.Context, g Group) (Group, error) {
	var out Group
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A nil slice would reach PostgreSQL as NULL, and "NOT x = ANY(NULL)" deletes nothing.
		perms := append([]string{}, g.Permissions...)
		members := append([]int64{}, g.MemberIDs...)
		lines := append([]int64{}, g.LineIDs...)
		id := g.ID
		if id == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO groups (name, kind, permissions) VALUES ($1, $2, $3) RETURNING id`,
				g.Name, g.Kind, perms).Scan(&id); err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `UPDATE groups SET name = $2, kind = $3, permissions = $4, updated_at = now() WHERE id = $1`,
				id, g.Name, g.Kind, perms)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return pgx.ErrNoRows
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND NOT user_id = ANY($2)`, id, members); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
			id, members); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM line_groups WHERE group_id = $1 AND NOT line_id = ANY($2)`, id, lines); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO line_groups (group_id, line_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
			id, lines); err != nil {
			return err
		}
		var err error
		out, err = scanGroup(tx.QueryRow(ctx, groupSelect+` WHERE g.id = $1`, id))
		return err
	})
	return out, translate(err, "save group")
}

// DeleteGroup removes a group; its members and lines stay.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return translate(err, "delete group")
}

// MissingIDs returns the ids among ids with no row in table ("users" or "lines"), in order.
func (s *Store) MissingIDs(ctx context.Context, table string, ids []int64) ([]int64, error) {
	if table != "users" && table != "lines" {
		return nil, fmt.Errorf("missing ids: unknown table %q", table)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT i FROM unnest($1::bigint[]) i WHERE NOT EXISTS (SELECT 1 FROM `+table+` t WHERE t.id = i) ORDER BY i`, ids)
	if err != nil {
		return nil, translate(err, "missing ids")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return out, translate(err, "missing ids")
}

// Access is what a user may reach through their groups: the lines they work on as an operator
// or supervise, the lines whose unassigned queue an operator group of theirs opens, and the
// union of their groups' permissions.
type Access struct {
	OperatorLines   []int64  `json:"operator_lines"`
	SupervisorLines []int64  `json:"supervisor_lines"`
	QueueLines      []int64  `json:"queue_lines"`
	Permissions     []string `json:"permissions"`
}

// AccessOf reads a user's access in one statement.
func (s *Store) AccessOf(ctx context.Context, userID int64) (Access, error) {
	var a Access
	err := s.pool.QueryRow(ctx, `SELECT
		coalesce(array_agg(DISTINCT lg.line_id ORDER BY lg.line_id) FILTER (WHERE `+operatorGroup+` AND lg.line_id IS NOT NULL), '{}'),
		coalesce(array_agg(DISTINCT lg.line_id ORDER BY lg.line_id) FILTER (WHERE g.kind = 'supervisors' AND lg.line_id IS NOT NULL), '{}'),
		coalesce(array_agg(DISTINCT lg.line_id ORDER BY lg.line_id) FILTER (WHERE `+operatorGroup+` AND lg.line_id IS NOT NULL
			AND 'unassigned_queue' = ANY(g.permissions)), '{}'),
		coalesce((SELECT array_agg(DISTINCT p ORDER BY p) FROM group_members m2 JOIN groups g2 ON g2.id = m2.group_id,
			unnest(g2.permissions) p WHERE m2.user_id = $1), '{}')
		FROM group_members m JOIN groups g ON g.id = m.group_id LEFT JOIN line_groups lg ON lg.group_id = g.id
		WHERE m.user_id = $1`, userID).Scan(&a.OperatorLines, &a.SupervisorLines, &a.QueueLines, &a.Permissions)
	return a, translate(err, "access")
}

// HeldConversationsLimit bounds the conversations HeldConversations returns.
const HeldConversationsLimit = 100

// HeldConversations returns the numbers of the user's own conversations in the statuses, oldest
// first (at most HeldConversationsLimit).
func (s *Store) HeldConversations(ctx context.Context, userID int64, statuses []string) ([]int64, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT number FROM conversations WHERE assignee_id = $1 AND status = ANY($2)
		ORDER BY number LIMIT $3`, userID, statuses, HeldConversationsLimit)
	if err != nil {
		return nil, translate(err, "held conversations")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return out, translate(err, "held conversations")
}

// SetPresence records a user's presence.
func (s *Store) SetPresence(ctx context.Context, userID int64, presence string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `UPDATE users SET presence = $2 WHERE id = $1 RETURNING `+userColumns, userID, presence))
	return u, translate(err, "set presence")
}
