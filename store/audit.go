package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The audit log (issue 7 item 11, seed 000's channel change history): every configuration or
// permission change with who made it, when, from where, and the fields it changed. The table is
// append-only in the database (migration 011).

// AuditEntity is a kind of audited thing and the table its rows live in.
type AuditEntity struct {
	Kind  string
	table string
}

// auditEntity names an audited kind whose rows live in the table named by the kind's plural
// ("line" → lines), keyed by a bigint id.
func auditEntity(kind string) AuditEntity { return AuditEntity{Kind: kind, table: kind + "s"} }

// Audited entities. Auditing another kind is one line here plus handlers that change it through
// the API's audited helper.
var (
	AuditLine       = auditEntity("line")
	AuditRegulation = auditEntity("regulation")
	AuditChannel    = auditEntity("channel")
	AuditGroup      = auditEntity("group")
	AuditUser       = auditEntity("user")
	AuditAPIToken   = auditEntity("api_token")
	AuditTemplate   = auditEntity("template")
	AuditWebhook    = auditEntity("webhook")
	// AuditSetting is a desk-wide setting, named by its key (dialog_settings, presence…).
	AuditSetting = AuditEntity{Kind: "setting"}
)

// AuditEntities lists the audited kinds (GET /audit validates its filter with it).
var AuditEntities = []AuditEntity{AuditLine, AuditRegulation, AuditChannel, AuditGroup, AuditUser, AuditAPIToken,
	AuditTemplate, AuditWebhook, AuditSetting, AuditKBFolder, AuditKBArticle, AuditLinkedApp, AuditMacro, AuditContact}

// Audit actions beyond create, update and delete name what happened when it is not an edit of
// fields the entity shows.
const (
	AuditCreate        = "create"
	AuditUpdate        = "update"
	AuditDelete        = "delete"
	AuditPasswordReset = "password_reset"
	AuditPasswordLink  = "password_link"
	AuditPasswordSet   = "password_set"
	AuditRevoke        = "revoke"
	AuditRotateToken   = "rotate_token"
	AuditRotateSecret  = "rotate_secret"
	AuditConnect       = "connect"
)

// Hidden is what the audit log shows in place of a secret's value; Changed is a new secret's.
const (
	Hidden  = "[hidden]"
	Changed = "changed"
)

// Actor is who made a change: a user (0 for the system), the API token they used (0 for a
// session) and the client address.
type Actor struct {
	UserID     int64
	TokenID    int64
	RemoteAddr string
}

// AuditChange is one change to record. Before and After are the entity's whole images (any value
// that marshals to a JSON object, nil when there is none); Audit keeps only the fields that
// differ and hides secrets.
type AuditChange struct {
	Entity AuditEntity
	ID     string
	Action string
	Before any
	After  any
}

// AuditRecord is one entry of the log.
type AuditRecord struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	ActorID      *int64          `json:"actor_id"`
	ActorName    string          `json:"actor_name"`
	ActorTokenID *int64          `json:"actor_token_id"`
	RemoteAddr   string          `json:"remote_addr"`
	EntityKind   string          `json:"entity_kind"`
	EntityID     string          `json:"entity_id"`
	Action       string          `json:"action"`
	Before       json.RawMessage `json:"before"`
	After        json.RawMessage `json:"after"`
}

// LockForAudit locks the row of the entity the change is about until the transaction ends, so
// the before-image read next is exactly what the change replaces. A setting that was never saved
// has no row; its key is locked with an advisory lock instead. Call it inside InTx.
func (s *Store) LockForAudit(ctx context.Context, e AuditEntity, id string) error {
	if e.table == "" {
		_, err := s.pool.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('linedesk.audit.' || $1 || '.' || $2))`, e.Kind, id)
		return translate(err, "lock "+e.Kind)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("lock %s %q: %w", e.Kind, id, ErrNotFound)
	}
	// FOR NO KEY UPDATE, not FOR UPDATE: rows that reference this one (a new chat on a channel,
	// a delivery for a webhook, a message naming a user) take a key-share lock on it when they
	// are inserted, and live traffic must not wait for an admin's edit.
	var one int
	err = s.pool.QueryRow(ctx, `SELECT 1 FROM `+e.table+` WHERE id = $1 FOR NO KEY UPDATE`, n).Scan(&one)
	return translate(err, "lock "+e.Kind)
}

// Audit records a change. An update that changed nothing is not recorded.
func (s *Store) Audit(ctx context.Context, actor Actor, ch AuditChange) error {
	before, err := jsonImage(ch.Before)
	if err != nil {
		return fmt.Errorf("audit %s before: %w", ch.Entity.Kind, err)
	}
	after, err := jsonImage(ch.After)
	if err != nil {
		return fmt.Errorf("audit %s after: %w", ch.Entity.Kind, err)
	}
	if before != nil && after != nil {
		before, after = diffImages(before, after)
		if len(before) == 0 && len(after) == 0 {
			return nil
		}
		hideChangedSecrets(before, after)
	} else {
		hideSecrets(before)
		hideSecrets(after)
	}
	var b, a []byte
	if before != nil {
		b, _ = json.Marshal(before)
	}
	if after != nil {
		a, _ = json.Marshal(after)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO audit_log (actor_id, actor_token_id, remote_addr, entity_kind, entity_id, action, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		nullID(actor.UserID), nullID(actor.TokenID), actor.RemoteAddr, ch.Entity.Kind, ch.ID, ch.Action, b, a)
	return translate(err, "audit "+ch.Entity.Kind)
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// jsonImage turns an entity's image into a JSON object (nil for none).
func jsonImage(v any) (map[string]any, error) {
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("an audited image must be a JSON object: %w", err)
	}
	return m, nil
}

// notDiffed are fields every update moves; the record's own time says when.
var notDiffed = map[string]bool{"updated_at": true}

// diffImages returns, of two images, only the fields that differ; nested objects (a channel's
// settings) are compared field by field too.
func diffImages(before, after map[string]any) (map[string]any, map[string]any) {
	db, da := map[string]any{}, map[string]any{}
	for k, bv := range before {
		if notDiffed[k] {
			continue
		}
		av, ok := after[k]
		if !ok {
			db[k] = bv
			continue
		}
		bm, bIsMap := bv.(map[string]any)
		am, aIsMap := av.(map[string]any)
		if bIsMap && aIsMap {
			if nb, na := diffImages(bm, am); len(nb) > 0 || len(na) > 0 {
				db[k], da[k] = nb, na
			}
			continue
		}
		if !reflect.DeepEqual(bv, av) {
			db[k], da[k] = bv, av
		}
	}
	for k, av := range after {
		if _, ok := before[k]; !ok && !notDiffed[k] {
			da[k] = av
		}
	}
	return db, da
}

// isSecretField tells whether a field holds a credential: its value never reaches the log.
func isSecretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "secret", "token", "api_key", "private_key"} {
		if strings.Contains(n, s) && !strings.HasSuffix(n, "_id") && !strings.HasSuffix(n, "_ids") {
			return true
		}
	}
	return false
}

// hideSecrets replaces every secret value in an image, at any depth, with Hidden.
func hideSecrets(m map[string]any) {
	for k, v := range m {
		if isSecretField(k) {
			if v != Changed {
				m[k] = Hidden
			}
		} else if sub, ok := v.(map[string]any); ok {
			hideSecrets(sub)
		}
	}
}

// hideChangedSecrets shows a changed secret as Hidden before and Changed after.
func hideChangedSecrets(before, after map[string]any) {
	for k, v := range after {
		if isSecretField(k) {
			after[k] = Changed
			if _, ok := before[k]; ok {
				before[k] = Hidden
			}
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			bsub, _ := before[k].(map[string]any)
			if bsub == nil {
				bsub = map[string]any{}
			}
			hideChangedSecrets(bsub, sub)
		}
	}
	hideSecrets(before)
}

// AuditFilter selects audit records; zero fields select everything.
type AuditFilter struct {
	EntityKind string
	EntityID   string
	ActorID    int64
	From, To   *time.Time
	// BeforeID pages: only records older than this id (the last id of the previous page).
	BeforeID int64
	// Limit is the page size (50 when 0).
	Limit int
}

// AuditLog lists audit records newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.EntityKind != "" {
		where = append(where, "a.entity_kind = "+arg(f.EntityKind))
	}
	if f.EntityID != "" {
		where = append(where, "a.entity_id = "+arg(f.EntityID))
	}
	if f.ActorID != 0 {
		where = append(where, "a.actor_id = "+arg(f.ActorID))
	}
	if f.From != nil {
		where = append(where, "a.at >= "+arg(*f.From))
	}
	if f.To != nil {
		where = append(where, "a.at < "+arg(*f.To))
	}
	if f.BeforeID != 0 {
		where = append(where, "a.id < "+arg(f.BeforeID))
	}
	sql := `SELECT a.id, a.at, a.actor_id, coalesce(u.name, ''), a.actor_token_id, a.remote_addr, a.entity_kind, a.entity_id,
		a.action, a.before, a.after FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	sql += " ORDER BY a.id DESC LIMIT " + arg(f.Limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err, "audit log")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		var before, after []byte
		err := r.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorName, &a.ActorTokenID, &a.RemoteAddr, &a.EntityKind, &a.EntityID,
			&a.Action, &before, &after)
		if before != nil {
			a.Before = before
		}
		if after != nil {
			a.After = after
		}
		return a, err
	})
	if out == nil {
		out = []AuditRecord{}
	}
	return out, translate(err, "audit log")
}

// RotateChannelInboundToken gives a channel a new inbound token and returns it; the old one stops
// working with this commit.
func (s *Store) RotateChannelInboundToken(ctx context.Context, id int64) (string, error) {
	token := randomToken("ldi_")
	tag, err := s.pool.Exec(ctx, `UPDATE channels SET inbound_token_hash = $2, updated_at = now() WHERE id = $1`, id, tokenHash(token))
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return token, translate(err, "rotate channel inbound token")
}

// RotateChannelSecret gives a channel a new signing secret and returns it.
func (s *Store) RotateChannelSecret(ctx context.Context, id int64) (string, error) {
	secret := randomToken("ldw_")
	tag, err := s.pool.Exec(ctx, `UPDATE channels SET secret = $2, updated_at = now() WHERE id = $1`, id, s.box.Seal(purposeChannelSecret, []byte(secret)))
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return secret, translate(err, "rotate channel secret")
}
