package store

import (
	"context"
	"time"
)

// Template is a canned reply (seed 002): the composer finds it by one of its tags (/tag);
// ChannelIDs limits the channels it may be used in (empty: every channel).
type Template struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Body       string    `json:"body"`
	Tags       []string  `json:"tags"`
	ChannelIDs []int64   `json:"channel_ids"`
	CreatedBy  *int64    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// TemplateFilter narrows the template list: TagPrefix matches the start of any tag (tags are
// lower-case); ChannelID or ChannelKind keeps the templates allowed in that channel, or in any
// channel of that kind.
type TemplateFilter struct {
	TagPrefix   string
	ChannelID   int64
	ChannelKind string
}

// TemplatesLimit bounds a template list.
const TemplatesLimit = 500

const templateColumns = `id, name, body, tags, channel_ids, created_by, created_at, updated_at`

func scanTemplate(r rowScanner) (Template, error) {
	var t Template
	err := r.Scan(&t.ID, &t.Name, &t.Body, &t.Tags, &t.ChannelIDs, &t.CreatedBy, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// ListTemplates lists templates by name.
func (s *Store) ListTemplates(ctx context.Context, f TemplateFilter) ([]Template, error) {
	return queryAll(ctx, s, "templates", `SELECT `+templateColumns+` FROM templates t
		WHERE ($1 = '' OR EXISTS (SELECT 1 FROM unnest(t.tags) tag WHERE starts_with(tag, $1)))
			AND ($2::bigint = 0 OR t.channel_ids = '{}' OR $2 = ANY(t.channel_ids))
			AND ($3 = '' OR t.channel_ids = '{}' OR EXISTS (SELECT 1 FROM channels ch WHERE ch.id = ANY(t.channel_ids) AND ch.kind = $3))
		ORDER BY lower(t.name), t.id LIMIT $4`, scanTemplate, f.TagPrefix, f.ChannelID, f.ChannelKind, TemplatesLimit)
}

// TemplateByID returns one template.
func (s *Store) TemplateByID(ctx context.Context, id int64) (Template, error) {
	t, err := scanTemplate(s.pool.QueryRow(ctx, `SELECT `+templateColumns+` FROM templates WHERE id = $1`, id))
	return t, translate(err, "template")
}

// SaveTemplate creates the template (ID 0) or replaces the one with its ID. ErrConflict: another
// template has the name; ErrNotFound: no template has the ID.
func (s *Store) SaveTemplate(ctx context.Context, t Template) (Template, error) {
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if t.ChannelIDs == nil {
		t.ChannelIDs = []int64{}
	}
	if t.ID == 0 {
		out, err := scanTemplate(s.pool.QueryRow(ctx, `INSERT INTO templates (name, body, tags, channel_ids, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+templateColumns, t.Name, t.Body, t.Tags, t.ChannelIDs, t.CreatedBy))
		return out, translate(err, "create template")
	}
	out, err := scanTemplate(s.pool.QueryRow(ctx, `UPDATE templates SET name = $2, body = $3, tags = $4, channel_ids = $5,
		updated_at = now() WHERE id = $1 RETURNING `+templateColumns, t.ID, t.Name, t.Body, t.Tags, t.ChannelIDs))
	return out, translate(err, "update template")
}

// DeleteTemplate deletes a template; ErrNotFound when there is none with the id.
func (s *Store) DeleteTemplate(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM templates WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate(err, "delete template")
}

// MissingChannels returns those of ids that name no channel.
func (s *Store) MissingChannels(ctx context.Context, ids []int64) ([]int64, error) {
	return queryAll(ctx, s, "missing channels", `SELECT id FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, i)
		WHERE NOT EXISTS (SELECT 1 FROM channels ch WHERE ch.id = x.id) ORDER BY i`, func(r rowScanner) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	}, ids)
}
