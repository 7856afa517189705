package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

type searchPage struct {
	Items      []store.SearchHit `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// search finds messages, conversations or contacts by their words (issue 12, X09), newest
// first, within what the user may see: the conversation list's scope.
func (s *Server) search(c echo.Context) error {
	q := c.QueryParams()
	f := store.SearchFilter{Query: strings.TrimSpace(q.Get("q")), Kind: q.Get("kind"), Cursor: q.Get("cursor")}
	var problems fieldErrors
	switch {
	case f.Query == "":
		problems.add("q is required: the words to look for")
	case utf8.RuneCountInString(f.Query) > 200:
		problems.add("q must be at most 200 characters")
	case !utf8.ValidString(f.Query) || strings.ContainsRune(f.Query, 0):
		problems.add("q must be text (UTF-8, without NUL)")
	}
	switch f.Kind {
	case "":
		f.Kind = store.SearchMessages
	case store.SearchMessages, store.SearchConversations, store.SearchContacts:
	default:
		problems.add("kind must be messages, conversations or contacts")
	}
	if v := q.Get("status"); v != "" {
		for _, st := range strings.Split(v, ",") {
			if !slices.Contains(conversationStatuses, st) {
				problems.add("status must be queued, active, paused or closed (or several of them, comma-separated)")
				break
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	f.LineID = queryInt(q.Get("line"), "line", &problems)
	f.ChannelID = queryInt(q.Get("channel"), "channel", &problems)
	f.OperatorID = queryInt(q.Get("operator"), "operator", &problems)
	f.Limit = int(queryInt(q.Get("limit"), "limit", &problems))
	if f.Limit > 100 {
		problems.add("limit must be at most 100")
	}
	f.From = searchTime(q.Get("from"), "from", false, &problems)
	f.To = searchTime(q.Get("to"), "to", true, &problems)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		problems.add("from must be before to")
	}
	if err := problems.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sc, err := s.listScope(c)
	if err != nil {
		return err
	}
	f.Scope = sc
	hits, next, err := s.store.Search(ctx, f)
	if errors.Is(err, store.ErrBadCursor) {
		return badRequest("cursor is not valid; start again without it")
	}
	if err != nil {
		return err
	}
	out := searchPage{Items: hits}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// searchTime reads a period bound: an RFC 3339 time, or a date (UTC), which as the end of a
// period includes the whole day.
func searchTime(v, name string, end bool, problems *fieldErrors) time.Time {
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		problems.add("%s must be a date (2026-12-31) or a time (2026-12-31T09:00:00+03:00)", name)
		return time.Time{}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t
}
