package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditLinkedApp is an external app's configuration in the audit log.
var AuditLinkedApp = auditEntity("linked_app")

// LinkedApp is an external app that keeps client data (issue 12, F105, F106, F111): "+Связать"
// posts the session to CreateURL, signed with the app's secret (which never leaves the store in
// this struct), and the app answers the item's id; ItemURLTemplate makes the item's address
// from it ({id}).
type LinkedApp struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	CreateURL       string    `json:"create_url"`
	ItemURLTemplate string    `json:"item_url_template"`
	Kinds           []string  `json:"kinds"`
	LineIDs         []int64   `json:"line_ids"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

const linkedAppColumns = `a.id, a.name, a.create_url, a.item_url_template, a.kinds,
	coalesce((SELECT array_agg(l.line_id ORDER BY l.line_id) FROM linked_app_lines l WHERE l.app_id = a.id), '{}'),
	a.created_at, a.updated_at`

func scanLinkedApp(r rowScanner) (LinkedApp, error) {
	var a LinkedApp
	err := r.Scan(&a.ID, &a.Name, &a.CreateURL, &a.ItemURLTemplate, &a.Kinds, &a.LineIDs, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// LinkedApps lists the apps by name.
func (s *Store) LinkedApps(ctx context.Context) ([]LinkedApp, error) {
	return queryAll(ctx, s, "linked apps", `SELECT `+linkedAppColumns+` FROM linked_apps a ORDER BY lower(a.name), a.id LIMIT 200`, scanLinkedApp)
}

// LinkedAppByID reads an app; ErrNotFound for an unknown id.
func (s *Store) LinkedAppByID(ctx context.Context, id int64) (LinkedApp, error) {
	a, err := scanLinkedApp(s.pool.QueryRow(ctx, `SELECT `+linkedAppColumns+` FROM linked_apps a WHERE a.id = $1`, id))
	return a, translate(err, "linked app")
}

// SaveLinkedApp creates an app (ID 0; its new secret is returned this once) or changes one,
// with the lines it serves. ErrConflict: another app has the name, or a line is another app's.
func (s *Store) SaveLinkedApp(ctx context.Context, a LinkedApp) (LinkedApp, string, error) {
	if a.Kinds == nil {
		a.Kinds = []string{}
	}
	secret := ""
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if a.ID == 0 {
			secret = randomToken("ldl_")
			err = tx.pool.QueryRow(ctx, `INSERT INTO linked_apps (name, create_url, item_url_template, kinds, secret)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, a.Name, a.CreateURL, a.ItemURLTemplate, a.Kinds,
				tx.box.Seal(purposeLinkedAppSecret, []byte(secret))).Scan(&a.ID)
		} else {
			err = tx.pool.QueryRow(ctx, `UPDATE linked_apps SET name = $2, create_url = $3, item_url_template = $4, kinds = $5,
				updated_at = now() WHERE id = $1 RETURNING id`, a.ID, a.Name, a.CreateURL, a.ItemURLTemplate, a.Kinds).Scan(&a.ID)
		}
		if err != nil {
			return translate(err, "save linked app")
		}
		if a.LineIDs != nil {
			if _, err := tx.pool.Exec(ctx, `DELETE FROM linked_app_lines WHERE app_id = $1`, a.ID); err != nil {
				return translate(err, "save linked app lines")
			}
			if _, err := tx.pool.Exec(ctx, `INSERT INTO linked_app_lines (line_id, app_id) SELECT unnest($2::bigint[]), $1`, a.ID, a.LineIDs); err != nil {
				return translate(err, "save linked app lines")
			}
		}
		return nil
	})
	if err != nil {
		return LinkedApp{}, "", err
	}
	out, err := s.LinkedAppByID(ctx, a.ID)
	return out, secret, err
}

// DeleteLinkedApp deletes an app; the items conversations link to stay, with the app's name.
func (s *Store) DeleteLinkedApp(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM linked_apps WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate(err, "delete linked app")
}

// ConversationApp is the app a conversation's line links to, with its secret; ErrNotFound when
// the line links to none.
func (s *Store) ConversationApp(ctx context.Context, number int64) (LinkedApp, string, error) {
	var secret []byte
	var a LinkedApp
	err := s.pool.QueryRow(ctx, `SELECT `+linkedAppColumns+`, a.secret FROM conversations c
		JOIN linked_app_lines l ON l.line_id = c.line_id JOIN linked_apps a ON a.id = l.app_id WHERE c.number = $1`, number).
		Scan(&a.ID, &a.Name, &a.CreateURL, &a.ItemURLTemplate, &a.Kinds, &a.LineIDs, &a.CreatedAt, &a.UpdatedAt, &secret)
	if err != nil {
		return a, "", translate(err, "conversation app")
	}
	plain, err := s.box.Open(purposeLinkedAppSecret, secret)
	return a, string(plain), err
}

// ConversationLink is an item in an external app linked to a conversation.
type ConversationLink struct {
	ID         int64     `json:"id"`
	AppID      *int64    `json:"app_id"`
	AppName    string    `json:"app_name"`
	Kind       string    `json:"kind"`
	ExternalID string    `json:"external_id"`
	Title      string    `json:"title"`
	URL        string    `json:"url"`
	CreatedBy  *int64    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

const linkColumns = `id, app_id, app_name, kind, external_id, title, url, created_by, created_at`

func scanLink(r rowScanner) (ConversationLink, error) {
	var l ConversationLink
	err := r.Scan(&l.ID, &l.AppID, &l.AppName, &l.Kind, &l.ExternalID, &l.Title, &l.URL, &l.CreatedBy, &l.CreatedAt)
	return l, err
}

// ConversationLinks lists a conversation's linked items, oldest first.
func (s *Store) ConversationLinks(ctx context.Context, number int64) ([]ConversationLink, error) {
	return queryAll(ctx, s, "conversation links", `SELECT `+linkColumns+` FROM conversation_links WHERE conversation_number = $1
		ORDER BY id LIMIT 500`, scanLink, number)
}

// ConversationLinkByKey is the item an earlier request with the key linked; ErrNotFound if none.
func (s *Store) ConversationLinkByKey(ctx context.Context, number int64, key string) (ConversationLink, error) {
	l, err := scanLink(s.pool.QueryRow(ctx, `SELECT `+linkColumns+` FROM conversation_links
		WHERE conversation_number = $1 AND request_key = $2`, number, key))
	return l, translate(err, "conversation link")
}

// AddConversationLink records an item; with a key another request recorded first, that one.
func (s *Store) AddConversationLink(ctx context.Context, number int64, key *string, l ConversationLink) (ConversationLink, error) {
	out, err := scanLink(s.pool.QueryRow(ctx, `INSERT INTO conversation_links (conversation_number, app_id, app_name, kind,
			external_id, title, url, request_key, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (conversation_number, request_key) DO NOTHING RETURNING `+linkColumns,
		number, l.AppID, l.AppName, l.Kind, l.ExternalID, l.Title, l.URL, key, l.CreatedBy))
	if errors.Is(err, pgx.ErrNoRows) && key != nil {
		return s.ConversationLinkByKey(ctx, number, *key)
	}
	return out, translate(err, "add conversation link")
}
