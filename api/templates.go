package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// Template limits: a name fits a picker line, a body a long reply, tags stay shortcuts.
const (
	maxTemplateName     = 200
	maxTemplateBody     = 20000
	maxTemplateTags     = 20
	maxTemplateTag      = 50
	maxTemplateChannels = 100
)

// channelKinds are the channel kinds a template lookup may name instead of a channel id.
var channelKinds = []string{"telegram", "vk", "viber", "facebook", "instagram", "whatsapp", "ok", "email", "webchat", "phone", "api", "internal"}

// omniSettings lets through an admin, a supervisor, or a member of a group with the omni
// settings permission.
func (s *Server) omniSettings(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u.Role == store.RoleAdmin || u.Role == store.RoleSupervisor {
			return next(c)
		}
		a, err := s.store.AccessOf(c.Request().Context(), u.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(a.Permissions, store.PermOmniSettings) {
			return newError(http.StatusForbidden, "forbidden", "only an admin, a supervisor or a member of a group with the omni_settings permission may do this")
		}
		return next(c)
	}
}

// listTemplates is the template list and the composer's /tag lookup: tag matches the start of
// any tag (a leading "/" is ignored), channel keeps the templates allowed in a channel (its id)
// or in channels of a kind.
func (s *Server) listTemplates(c echo.Context) error {
	q := c.QueryParams()
	var problems fieldErrors
	var f store.TemplateFilter
	if tag := q.Get("tag"); tag != "" {
		tag = strings.ToLower(strings.TrimPrefix(tag, "/"))
		if !utf8.ValidString(tag) || utf8.RuneCountInString(tag) > maxTemplateTag {
			problems.add("tag must be valid UTF-8 of at most %d characters", maxTemplateTag)
		}
		f.TagPrefix = tag
	}
	ctx := c.Request().Context()
	if ch := q.Get("channel"); ch != "" {
		if id, err := strconv.ParseInt(ch, 10, 64); err == nil {
			if id <= 0 {
				problems.add("channel must be a channel id or a channel kind")
			} else if missing, err := s.store.MissingChannels(ctx, []int64{id}); err != nil {
				return err
			} else if len(missing) > 0 {
				problems.add("channel %d does not exist", id)
			}
			f.ChannelID = id
		} else if slices.Contains(channelKinds, ch) {
			f.ChannelKind = ch
		} else {
			problems.add("channel must be a channel id or one of %s", strings.Join(channelKinds, ", "))
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	items, err := s.store.ListTemplates(ctx, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// templateBody is a template as clients send it; nil fields keep their value on PATCH.
type templateBody struct {
	Name       *string   `json:"name"`
	Body       *string   `json:"body"`
	Tags       *[]string `json:"tags"`
	ChannelIDs *[]int64  `json:"channel_ids"`
}

// apply checks the fields sent and writes them onto t, naming every problem at once; st is
// the store the change is made in.
func (b templateBody) apply(ctx context.Context, st *store.Store, t *store.Template) error {
	var problems fieldErrors
	if b.Name != nil {
		t.Name = strings.TrimSpace(*b.Name)
		if n := utf8.RuneCountInString(t.Name); n == 0 || n > maxTemplateName {
			problems.add("name is required, at most %d characters", maxTemplateName)
		}
	}
	if b.Body != nil {
		t.Body = *b.Body
		if strings.TrimSpace(t.Body) == "" || utf8.RuneCountInString(t.Body) > maxTemplateBody {
			problems.add("body is required, at most %d characters", maxTemplateBody)
		}
	}
	if b.Tags != nil {
		tags := *b.Tags
		if len(tags) > maxTemplateTags {
			problems.add("tags: at most %d", maxTemplateTags)
			tags = nil
		}
		t.Tags = []string{}
		for i, tag := range tags {
			tag = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(tag), "/"))
			switch {
			case tag == "" || utf8.RuneCountInString(tag) > maxTemplateTag:
				problems.add("tags[%d] must be 1 to %d characters", i, maxTemplateTag)
			case strings.ContainsFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == '/' || !unicode.IsPrint(r) }):
				problems.add("tags[%d] %q must be one word: no spaces or slashes", i, tag)
			case !slices.Contains(t.Tags, tag):
				t.Tags = append(t.Tags, tag)
			}
		}
	}
	if b.ChannelIDs != nil {
		ids := slices.Clone(*b.ChannelIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) > maxTemplateChannels {
			problems.add("channel_ids: at most %d", maxTemplateChannels)
		} else if len(ids) > 0 {
			missing, err := st.MissingChannels(ctx, ids)
			if err != nil {
				return err
			}
			for _, id := range missing {
				problems.add("channel_ids: channel %d does not exist", id)
			}
		}
		t.ChannelIDs = ids
	}
	return problems.err()
}

func (s *Server) createTemplate(c echo.Context) error {
	var b templateBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Name == nil {
		b.Name = new(string)
	}
	if b.Body == nil {
		b.Body = new(string)
	}
	by := currentUser(c).ID
	var out store.Template
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		t := store.Template{CreatedBy: &by}
		if err := b.apply(ctx, tx, &t); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, err = tx.SaveTemplate(ctx, t); err != nil {
			return store.AuditChange{}, templateSaveErr(err, t)
		}
		return store.AuditChange{Entity: store.AuditTemplate, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) updateTemplate(c echo.Context) error {
	id, err := pathID(c, "template")
	if err != nil {
		return err
	}
	var b templateBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var out store.Template
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditTemplate, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.TemplateByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		t := before
		if err := b.apply(ctx, tx, &t); err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.SaveTemplate(ctx, t); err != nil {
			return store.AuditChange{}, templateSaveErr(err, t)
		}
		return store.AuditChange{Entity: store.AuditTemplate, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// templateSaveErr names why saving t failed.
func templateSaveErr(err error, t store.Template) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "name_taken", "a template named %q exists already", t.Name)
	case errors.Is(err, store.ErrNotFound):
		return notFoundErr("template " + strconv.FormatInt(t.ID, 10))
	}
	return err
}

func (s *Server) deleteTemplate(c echo.Context) error {
	id, err := pathID(c, "template")
	if err != nil {
		return err
	}
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		if err := lockFor(ctx, tx, store.AuditTemplate, id); err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.TemplateByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if err := tx.DeleteTemplate(ctx, id); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditTemplate, ID: auditID(id), Action: store.AuditDelete, Before: before}, nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
