package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/cti"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// callKey is where callAccess leaves the call of the path.
const callKey = "call"

// callOut is a call as the API shows it: with whether it was missed and where its recording is.
type callOut struct {
	store.Call
	Missed       bool   `json:"missed"`
	RecordingURL string `json:"recording_url,omitempty"`
}

func (s *Server) callOut(c echo.Context, call store.Call) callOut {
	out := callOut{Call: call, Missed: call.Missed()}
	if call.Users == nil {
		out.Users = []string{}
	}
	if call.RecordingFile != nil {
		out.RecordingURL = s.baseURL(c) + "/api/v1/files/" + call.RecordingFile.String()
	}
	return out
}

// callEvent records a PBX's call event: the call log fills in, the matching contact is found by
// number, and a recording the PBX offers is fetched into the desk's storage (under an id derived
// from the event, so a repeated event stores it once).
func (s *Server) callEvent(ctx context.Context, conn connectors.Connector, ch connectors.Channel, e connectors.Event, base string) error {
	ev := e.Call
	// Which party is the client depends on the direction: an event without one (an answer or
	// hangup arriving before newCall) leaves the client to the event that says.
	var client string
	switch ev.Direction {
	case "in":
		client = ev.From
	case "out":
		client = ev.To
	}
	call, err := s.store.ApplyCallEvent(ctx, ch.ID, store.CallEvent{Event: ev.Event, CallID: ev.ID, Direction: ev.Direction,
		From: ev.From, To: ev.To, ClientDigits: cti.Digits(client), Queue: ev.Queue, Users: ev.Users,
		AnsweringNumber: ev.AnsweringNumber, Cause: ev.Cause, RecordingURL: ev.RecordingURL, At: e.At})
	if err != nil {
		return err
	}
	if ev.RecordingURL == "" || call.RecordingFile != nil {
		return nil
	}
	name := "call-" + strconv.FormatInt(call.ID, 10) + "-recording"
	if u, err := url.Parse(ev.RecordingURL); err == nil {
		if ext := path.Ext(u.Path); ext != "" && len(ext) <= 5 {
			name += ext
		}
	}
	files, ids, err := s.fetchFiles(ctx, conn, ch, connectors.Event{Key: "call:" + ev.ID + ":recording",
		Files: []connectors.FileRef{{Ref: ev.RecordingURL, Name: name}}}, base)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return s.store.SetCallRecording(ctx, call.ID, nil, "the recording "+strings.TrimPrefix(files[0].Name, name+" "))
	}
	return s.store.SetCallRecording(ctx, call.ID, &ids[0], "")
}

// callAccess lets through the users of the call's line: its operators and supervisors, and
// admins; others get 404.
func (s *Server) callAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "call")
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		call, err := s.store.CallByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundErr("call " + c.Param("id"))
		}
		if err != nil {
			return err
		}
		u := currentUser(c)
		role := store.LineRoleAdmin
		if u.Role != store.RoleAdmin {
			a, err := s.store.AccessOf(ctx, u.ID)
			if err != nil {
				return err
			}
			switch {
			case slices.Contains(a.SupervisorLines, call.LineID):
				role = store.LineRoleSupervisor
			case slices.Contains(a.OperatorLines, call.LineID):
				role = store.LineRoleOperator
			default:
				return notFoundErr("call " + c.Param("id"))
			}
		}
		c.Set(lineRoleKey, role)
		c.Set(callKey, call)
		return next(c)
	}
}

// callLines is which lines' calls a user sees (nil: all, for admins).
func (s *Server) callLines(ctx context.Context, u store.User) ([]int64, error) {
	if u.Role == store.RoleAdmin {
		return nil, nil
	}
	a, err := s.store.AccessOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	lines := append(append([]int64{}, a.OperatorLines...), a.SupervisorLines...)
	return lines, nil
}

// listCalls is the call log: newest first, for the lines the user works on; contact_id gives a
// contact's calls (with unlinked calls from their number), conversation the calls of a
// conversation, missed=true the unanswered ones.
func (s *Server) listCalls(c echo.Context) error {
	ctx := c.Request().Context()
	var f store.CallFilter
	var problems fieldErrors
	q := c.QueryParams()
	for name, dst := range map[string]*int64{"contact_id": &f.ContactID, "conversation": &f.Conversation, "before": &f.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				problems.add("%s must be a positive number", name)
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			problems.add("limit must be between 1 and 200")
		}
		f.Limit = n
	}
	switch q.Get("missed") {
	case "", "false":
	case "true":
		f.Missed = true
	default:
		problems.add("missed must be true or false")
	}
	if err := problems.err(); err != nil {
		return err
	}
	lines, err := s.callLines(ctx, currentUser(c))
	if err != nil {
		return err
	}
	if lines != nil && len(lines) == 0 {
		return c.JSON(http.StatusOK, map[string]any{"calls": []callOut{}})
	}
	f.Lines = lines
	calls, err := s.store.ListCalls(ctx, f)
	if err != nil {
		return err
	}
	out := make([]callOut, len(calls))
	for i, call := range calls {
		out[i] = s.callOut(c, call)
	}
	return c.JSON(http.StatusOK, map[string]any{"calls": out})
}

func (s *Server) getCall(c echo.Context) error {
	return c.JSON(http.StatusOK, s.callOut(c, c.Get(callKey).(store.Call)))
}

type callContactBody struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// createCallContact makes the client card an unknown caller is offered (seed 001): name and
// email from the operator, the phone from the call; the number's other calls join it.
func (s *Server) createCallContact(c echo.Context) error {
	var b callContactBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	b.Name, b.Email = strings.TrimSpace(b.Name), strings.TrimSpace(b.Email)
	var problems fieldErrors
	if b.Name == "" || utf8.RuneCountInString(b.Name) > 200 {
		problems.add("name is required (up to 200 characters)")
	}
	if b.Email != "" {
		if a, err := mail.ParseAddress(b.Email); err != nil || a.Address != b.Email || len(b.Email) > 254 {
			problems.add("email %q is not an address", b.Email)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	call := c.Get(callKey).(store.Call)
	out, err := s.store.CreateCallContact(c.Request().Context(), call.ID, b.Name, b.Email)
	switch {
	case errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "call_has_contact", "call %d is linked to a contact already", call.ID)
	case errors.Is(err, store.ErrInvalid):
		return newError(http.StatusConflict, "hidden_number", "the call came from a hidden number: there is no phone to make a card for")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusCreated, s.callOut(c, out))
}

type callConversationBody struct {
	Type       string   `json:"type"`
	Solution   string   `json:"solution"`
	Reasons    []string `json:"reasons"`
	Components []string `json:"components"`
	// Resolved closes the conversation at once (seed 001 "Решено"); otherwise the operator keeps
	// it, or hands it to AssigneeID with the solution so far as the transfer's comment.
	Resolved   bool  `json:"resolved"`
	AssigneeID int64 `json:"assignee_id"`
}

// callSummary is the call as the first message of its conversation.
func callSummary(call store.Call) string {
	var b strings.Builder
	if call.Direction == "out" {
		fmt.Fprintf(&b, "📞 Outgoing call to %s", call.To)
	} else {
		fmt.Fprintf(&b, "📞 Incoming call from %s", call.From)
	}
	switch {
	case call.Missed():
		b.WriteString(" — missed")
		if call.Cause != "" {
			fmt.Fprintf(&b, " (%s)", call.Cause)
		}
	case call.AnsweredAt != nil && call.EndedAt != nil:
		fmt.Fprintf(&b, " — %s", cti.Duration(call.EndedAt.Sub(*call.AnsweredAt)))
	case call.AnsweredAt != nil:
		b.WriteString(" — in progress")
	}
	if call.AnsweredBy != nil {
		fmt.Fprintf(&b, ", answered by %s", call.AnsweredBy.Name)
	}
	fmt.Fprintf(&b, "\n%s", call.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
	return b.String()
}

// callConversation makes a conversation from a call (seed 001): the call's log (and recording)
// is its first message, in the chat of the call's number with the matched contact; the operator
// takes it, and with resolved it is closed at once with its type and solution (the solution
// email goes as on any close).
func (s *Server) callConversation(c echo.Context) error {
	var b callConversationBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	call := c.Get(callKey).(store.Call)
	if call.Conversation != nil {
		return newError(http.StatusConflict, "call_has_conversation", "call %d has conversation #%d already", call.ID, *call.Conversation)
	}
	cb := closeBody{Type: b.Type, Solution: b.Solution, Reasons: b.Reasons, Components: b.Components, ConfirmUnread: true}
	if b.Resolved && b.AssigneeID != 0 {
		return newError(http.StatusBadRequest, "invalid_fields", "a resolved conversation is closed: it takes no assignee_id")
	}
	if b.Resolved {
		if err := s.checkCloseBody(ctx, cb); err != nil {
			return err
		}
	}
	handOver := assignBody{AssigneeID: b.AssigneeID, Comment: b.Solution}
	if b.AssigneeID != 0 {
		if err := s.checkAssignBody(ctx, handOver); err != nil {
			return err
		}
		if err := s.checkWorksOnLine(ctx, call.LineID, "assignee_id", b.AssigneeID); err != nil {
			return err
		}
	}
	if err := s.store.LinkCallIdentity(ctx, call); err != nil {
		return err
	}
	msg := inbound.Message{ChannelID: call.ChannelID, Kind: "phone", Text: callSummary(call), At: time.Now(), Contact: inbound.Contact{ExternalID: call.ClientDigits}}
	if call.ClientDigits == "" {
		msg.Contact.ExternalID = "hidden:" + call.CallID // a hidden number: a chat of its own
	} else {
		msg.Contact.Phone = "+" + call.ClientDigits
	}
	if call.Contact != nil {
		msg.Contact.Name = call.Contact.Name
	}
	var fileIDs []uuid.UUID
	if call.RecordingFile != nil {
		f, err := s.store.FileInfo(ctx, *call.RecordingFile)
		if err != nil {
			return err
		}
		fileIDs = append(fileIDs, f.ID)
		msg.Files, _ = json.Marshal([]apichannel.Attachment{{URL: s.baseURL(c) + "/api/v1/files/" + f.ID.String(), Name: f.Name, ContentType: f.ContentType}})
	}
	// The key names the call and what the message says: a retry after 503 finds the same message;
	// one after the call changed (the recording came, a card was made) writes the newer log.
	sum := sha256.Sum256(append(append([]byte(msg.Text), msg.Files...), msg.Contact.Name...))
	msg.Key = "call:" + call.CallID + ":conversation:" + hex.EncodeToString(sum[:6])
	msg.ByOperator = true // the operator writes down a call: a block stops the client, not them
	acc, err := s.handoff.Accept(ctx, msg)
	if err != nil {
		return err
	}
	if call.Contact == nil {
		// The caller's first conversation made their contact: the number's calls are theirs now.
		if err := s.store.SetCallContactFromChat(ctx, call.ID, acc.ChatID); err != nil {
			return err
		}
	}
	if len(fileIDs) > 0 {
		if err := s.store.LinkFilesToChat(ctx, fileIDs, acc.ChatID); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	acc, err = s.handoff.Wait(wctx, acc)
	cancel()
	if err != nil {
		return err
	}
	if !acc.Routed {
		c.Response().Header().Set("Retry-After", "2")
		return newError(http.StatusServiceUnavailable, "conversation_pending", "the conversation is being opened; repeat the request")
	}
	who := actor(c)
	// Each operator's steps have their own update ids: two operators racing on one call each get
	// the workflow's own answer.
	upd := func(step string) string { return fmt.Sprintf("call-%d-%s-%d", call.ID, step, who.ActorID) }
	n := acc.Conversation
	if n == 0 {
		// The log stayed in the chat (the line opens no conversation by itself): the operator
		// opens one, as from the chat.
		route, _, err := s.store.ChatLineRole(ctx, acc.ChatID, currentUser(c))
		if err != nil {
			return err
		}
		var res workflows.OpenDialogResult
		req := workflows.OpenDialogRequest{ActionRequest: who, Title: strings.SplitN(msg.Text, "\n", 2)[0]}
		if err := s.chatUpdate(ctx, route, workflows.UpdateOpenDialog, upd("open"), req, &res); err != nil {
			return err
		}
		n = res.Number
	}
	conv, err := s.store.ConversationByNumber(ctx, n)
	if err != nil {
		return err
	}
	if err := s.store.SetCallConversation(ctx, call.ID, n); errors.Is(err, store.ErrConflict) {
		return newError(http.StatusConflict, "call_has_conversation", "call %d has another conversation already", call.ID)
	} else if err != nil {
		return err
	}
	if conv.Assignee != nil && conv.Assignee.ID != who.ActorID && conv.Status != workflows.StatusClosed && conv.Status != workflows.StatusQueued {
		// The client has a conversation a colleague handles: the call's log joined it, and it
		// stays theirs.
		return newError(http.StatusConflict, "conversation_handled_by_other",
			"the call joined the client's conversation #%d, which %s handles", n, conv.Assignee.Name)
	}
	if conv.Assignee == nil || conv.Assignee.ID != who.ActorID {
		var res workflows.ActionResult
		take := workflows.TakeRequest{ActionRequest: who}
		if err := s.conversationUpdate(ctx, n, workflows.UpdateTake, upd("take"), take, &res); err != nil {
			return err
		}
	}
	switch {
	case b.Resolved:
		if err := s.close(ctx, n, who, cb, upd("close")); err != nil {
			return err
		}
	case b.AssigneeID != 0 && b.AssigneeID != who.ActorID:
		if err := s.assign(ctx, workflows.UpdateTransfer, n, call.LineID, who, handOver, upd("transfer")); err != nil {
			return err
		}
	}
	return s.renderConversation(c, http.StatusCreated, n)
}
