package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// Macros (issue 12, X15): one click applies several actions to a conversation, in order. Each
// step is the action an operator would take by hand — with the same checks, through the
// conversation's workflow where the action needs it — so a macro may do only what its user may.

var macroActionTypes = []string{"take", "pause", "tags", "priority", "reply", "note", "close"}

func checkMacro(m *store.Macro) error {
	var problems fieldErrors
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" || utf8.RuneCountInString(m.Name) > 100 {
		problems.add("name is required, at most 100 characters")
	}
	if len(m.Actions) == 0 || len(m.Actions) > 10 {
		problems.add("actions must hold 1 to 10 steps")
	}
	for i := range m.Actions {
		a := &m.Actions[i]
		switch a.Type {
		case "tags":
			a.Add, a.Remove = cleanTags(a.Add, &problems), cleanTags(a.Remove, &problems)
			if len(a.Add)+len(a.Remove) == 0 {
				problems.add("actions[%d]: tags adds or removes at least one tag", i)
			}
		case "priority":
			if !slices.Contains(priorities, a.Value) {
				problems.add("actions[%d]: priority must be low, normal, high or urgent", i)
			}
		case "reply", "note":
			if strings.TrimSpace(a.Text) == "" || utf8.RuneCountInString(a.Text) > 4096 {
				problems.add("actions[%d]: %s needs a text of at most 4096 characters", i, a.Type)
			}
		case "close":
			if utf8.RuneCountInString(a.Text) > 4096 {
				problems.add("actions[%d]: the solution is at most 4096 characters", i)
			}
		case "take", "pause":
		default:
			problems.add("actions[%d]: type must be one of %s", i, strings.Join(macroActionTypes, ", "))
		}
		if a.Type == "close" && i != len(m.Actions)-1 {
			problems.add("actions[%d]: close must be the last step", i)
		}
	}
	return problems.err()
}

type macroBody struct {
	Name    *string              `json:"name"`
	Actions *[]store.MacroAction `json:"actions"`
}

func (b macroBody) apply(m *store.Macro) error {
	if b.Name != nil {
		m.Name = *b.Name
	}
	if b.Actions != nil {
		m.Actions = *b.Actions
	}
	return checkMacro(m)
}

func macroSaveErr(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "name_taken", "a macro named %q exists already", name)
	}
	return err
}

func (s *Server) listMacros(c echo.Context) error {
	ms, err := s.store.Macros(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": ms})
}

func (s *Server) createMacro(c echo.Context) error {
	var b macroBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	by := currentUser(c).ID
	var out store.Macro
	err := s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		m := store.Macro{CreatedBy: &by}
		if err := b.apply(&m); err != nil {
			return store.AuditChange{}, err
		}
		var err error
		if out, err = tx.SaveMacro(ctx, m); err != nil {
			return store.AuditChange{}, macroSaveErr(err, m.Name)
		}
		return store.AuditChange{Entity: store.AuditMacro, ID: auditID(out.ID), Action: store.AuditCreate, After: out}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) updateMacro(c echo.Context) error {
	id, err := pathID(c, "macro")
	if err != nil {
		return err
	}
	var b macroBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	out, err := auditedUpdate(s, c, id, store.AuditMacro, (*store.Store).MacroByID,
		func(ctx context.Context, tx *store.Store, m store.Macro) (store.Macro, error) {
			m.Actions = slices.Clone(m.Actions) // the log keeps the steps as they were
			if err := b.apply(&m); err != nil {
				return m, err
			}
			saved, err := tx.SaveMacro(ctx, m)
			return saved, macroSaveErr(err, m.Name)
		})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteMacro(c echo.Context) error {
	return auditedDelete(s, c, "macro", store.AuditMacro, (*store.Store).MacroByID, (*store.Store).DeleteMacro)
}

// applyMacro runs a macro's steps on the conversation in order and answers the conversation
// after them. A step that fails stops the macro: the answer is that step's error, naming it;
// the steps before it stay done. Each step's request id comes from the Idempotency-Key, so a
// retried apply repeats none of the steps that went through.
func (s *Server) applyMacro(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("macro"), 10, 64)
	if err != nil || id <= 0 {
		return notFoundErr("macro " + c.Param("macro"))
	}
	ctx := c.Request().Context()
	m, err := s.store.MacroByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("macro " + c.Param("macro"))
	}
	if err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		key = uuid.NewString()
	}
	who := actor(c)
	for i, a := range m.Actions {
		step := uuid.NewSHA1(uuid.NameSpaceURL, []byte("linedesk:macro:"+strconv.FormatInt(n, 10)+":"+key+":"+strconv.Itoa(i))).String()
		if err := s.macroStep(ctx, n, who, a, step); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return &Error{Status: e.Status, Code: e.Code, Message: "step " + strconv.Itoa(i+1) + " (" + a.Type + ") of “" + m.Name + "”: " + e.Message,
					Conversations: e.Conversations}
			}
			return err
		}
	}
	return s.renderConversation(c, http.StatusOK, n)
}

func (s *Server) macroStep(ctx context.Context, n int64, who workflows.ActionRequest, a store.MacroAction, step string) error {
	var res workflows.ActionResult
	switch a.Type {
	case "take":
		return s.conversationUpdate(ctx, n, workflows.UpdateTake, step, workflows.TakeRequest{ActionRequest: who}, &res)
	case "pause":
		return s.conversationUpdate(ctx, n, workflows.UpdatePause, step, who, &res)
	case "reply", "note":
		name := workflows.UpdateNote
		if a.Type == "reply" {
			name = workflows.UpdateReply
			if err := s.checkReplyWindow(ctx, n); err != nil {
				return err
			}
		}
		return s.conversationUpdate(ctx, n, name, step, workflows.ReplyRequest{ActionRequest: who, MessageID: step, Text: a.Text}, &res)
	case "close":
		return s.close(ctx, n, who, closeBody{Solution: a.Text, SendCSAT: a.SendCSAT, ConfirmUnread: true}, step)
	case "priority":
		return s.store.SetConversationLabels(ctx, n, store.LabelChange{Priority: &a.Value, ActorID: who.ActorID})
	case "tags":
		conv, err := s.store.ConversationByNumber(ctx, n)
		if err != nil {
			return err
		}
		tags := slices.DeleteFunc(slices.Clone(conv.Tags), func(t string) bool { return slices.Contains(a.Remove, t) })
		for _, t := range a.Add {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		return s.store.SetConversationLabels(ctx, n, store.LabelChange{Tags: tags, ActorID: who.ActorID})
	}
	return nil
}
