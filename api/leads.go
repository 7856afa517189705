package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// maxLeadTopic bounds a lead's topic.
const maxLeadTopic = 500

func checkTopic(topic string) error {
	if utf8.RuneCountInString(topic) > maxLeadTopic {
		return newError(http.StatusBadRequest, "invalid_fields", "topic is longer than %d characters", maxLeadTopic)
	}
	return nil
}

type convertBody struct {
	Numbers []int64 `json:"numbers"`
	Topic   string  `json:"topic"`
}

// convertToLeads makes one lead per contact and line of the conversations named (seed 001).
func (s *Server) convertToLeads(c echo.Context) error {
	var body convertBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	numbers, err := checkNumbers(body.Numbers)
	if err != nil {
		return err
	}
	if err := checkTopic(body.Topic); err != nil {
		return err
	}
	leads, results, err := s.convert(c.Request().Context(), currentUser(c), numbers, body.Topic, s.baseURL(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"leads": leads, "results": results})
}

// convert turns the conversations u may see into leads and reports each number: converted
// (with its new lead), already in a lead (409 already_converted, with that lead), or not found.
// A conversation whose line links to an external app taking leads (a "lead" kind: seed 001's
// CRM) becomes a lead there instead (sent_to_app, with the linked item), once.
func (s *Server) convert(ctx context.Context, u store.User, numbers []int64, topic, base string) ([]store.Lead, []bulkResult, error) {
	results := make([]bulkResult, len(numbers))
	var seen []int64
	for i, n := range numbers {
		if _, _, err := s.conversationRole(ctx, n, u); err != nil {
			if e := toAPIError(err); e.Status >= 500 {
				return nil, nil, err
			}
			results[i] = s.bulkOutcome(ctx, n, err)
			continue
		}
		if app, _, err := s.store.ConversationApp(ctx, n); err == nil && slices.Contains(app.Kinds, "lead") {
			l, made, err := s.linkItem(ctx, n, u, "lead", topic, "", convertLeadKey, base)
			switch {
			case err != nil:
				e := toAPIError(err)
				results[i] = bulkResult{Number: n, Status: e.Status, Code: e.Code, Message: e.Message}
			case made:
				results[i] = bulkResult{Number: n, Status: http.StatusOK, Code: "sent_to_app", Message: "a lead in " + l.AppName, Link: &l}
			default:
				results[i] = bulkResult{Number: n, Status: http.StatusConflict, Code: "already_converted",
					Message: "the conversation is a lead in " + l.AppName + " already", Link: &l}
			}
			continue
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		seen = append(seen, n)
	}
	done := store.LeadConversion{Leads: []store.Lead{}}
	if len(seen) > 0 {
		var err error
		done, err = s.store.ConvertToLeads(ctx, seen, topic, u.ID)
		if errors.Is(err, store.ErrConflict) {
			return nil, nil, newError(http.StatusConflict, "conflict",
				"another conversion took some of these conversations at the same moment; send the request again")
		}
		if err != nil {
			return nil, nil, err
		}
	}
	for i, n := range numbers {
		if id, ok := done.Made[n]; ok {
			results[i] = bulkResult{Number: n, Status: http.StatusOK, Code: "ok", LeadID: &id}
		} else if id, ok := done.Before[n]; ok {
			results[i] = bulkResult{Number: n, Status: http.StatusConflict, Code: "already_converted",
				Message: "the conversation is in a lead already", LeadID: &id}
		} else if slices.Contains(done.Missing, n) {
			results[i] = s.bulkOutcome(ctx, n, notFoundErr("conversation"))
		}
	}
	return done.Leads, results, nil
}

type leadList struct {
	Items      []store.Lead `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// listLeads lists the leads of the caller's lines (and the ones they made), newest first.
func (s *Server) listLeads(c echo.Context) error {
	q := c.QueryParams()
	var problems fieldErrors
	f := store.LeadFilter{Cursor: q.Get("cursor")}
	f.LineID = queryInt(q.Get("line"), "line", &problems)
	f.Limit = int(queryInt(q.Get("limit"), "limit", &problems))
	if f.Limit > 200 {
		problems.add("limit must be at most 200")
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
	items, next, err := s.store.ListLeads(ctx, f)
	if errors.Is(err, store.ErrBadCursor) {
		return badRequest("cursor is not valid; start again without it")
	}
	if err != nil {
		return err
	}
	out := leadList{Items: items}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
