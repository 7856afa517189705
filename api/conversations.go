package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

type conversationList struct {
	Items      []store.Conversation `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

func (s *Server) listConversations(c echo.Context) error {
	return s.conversationPage(c, 0)
}

// contactConversations lists one contact's conversations across their chats (the console's
// client panel), with the filters, paging and visibility of the conversation list.
func (s *Server) contactConversations(c echo.Context) error {
	id, err := pathID(c, "contact")
	if err != nil {
		return err
	}
	if err := s.checkContactVisible(c, id); err != nil {
		return err
	}
	return s.conversationPage(c, id)
}

// checkContactVisible answers 404 for a contact the user may not see: one that does not exist,
// or, for a user who is not an admin, one none of whose conversations they may see — the same
// answer for both, so the route does not tell which contacts exist.
func (s *Server) checkContactVisible(c echo.Context, id int64) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	if u.Role == store.RoleAdmin {
		ok, err := s.store.ContactExists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFoundErr("contact " + c.Param("id"))
		}
		return nil
	}
	sc, err := s.store.ListScopeOf(ctx, u.ID)
	if err != nil {
		return err
	}
	items, _, err := s.store.ListConversations(ctx, store.ConversationFilter{View: "all", ContactID: id, UserID: u.ID, Scope: sc, Limit: 1})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return notFoundErr("contact " + c.Param("id"))
	}
	return nil
}

// getContact answers a client's profile (the console's client panel). A user who is not an admin
// sees only a contact one of whose conversations they may see; others get 404, the same answer
// as for a contact that does not exist.
func (s *Server) getContact(c echo.Context) error {
	id, err := pathID(c, "contact")
	if err != nil {
		return err
	}
	if err := s.checkContactVisible(c, id); err != nil {
		return err
	}
	ct, err := s.store.ContactByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("contact " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ct)
}

// conversationPage answers one page of the conversation list, of one contact when contactID is set.
func (s *Server) conversationPage(c echo.Context, contactID int64) error {
	q := c.QueryParams()
	f := store.ConversationFilter{View: q.Get("view"), Status: q.Get("status"), Sort: q.Get("sort"), Cursor: q.Get("cursor"),
		UserID: currentUser(c).ID, ContactID: contactID}
	var problems fieldErrors
	switch f.View {
	case "", "unassigned", "mine", "all", "dialogs":
	default:
		problems.add("view must be unassigned, mine, all or dialogs")
	}
	// status may list several, comma-separated (the inbox shows the statuses the admin chose).
	if f.Status != "" {
		for _, st := range strings.Split(f.Status, ",") {
			if !slices.Contains(conversationStatuses, st) {
				problems.add("status must be queued, active, paused or closed (or several of them, comma-separated)")
				break
			}
			f.Statuses = append(f.Statuses, st)
		}
		f.Status = ""
	}
	if k := q.Get("channel_kind"); k != "" {
		if !slices.Contains(channelKinds, k) {
			problems.add("channel_kind must be one of %s", strings.Join(channelKinds, ", "))
		}
		f.ChannelKind = k
	}
	switch f.Sort {
	case "", "created", "activity", "due":
	default:
		problems.add("sort must be created, activity or due")
	}
	f.ChannelID = queryInt(q.Get("channel"), "channel", &problems)
	f.LineID = queryInt(q.Get("line"), "line", &problems)
	f.Tag = strings.ToLower(strings.TrimSpace(q.Get("tag")))
	// attr.<name>=value and field.<name>=value: the conversation's attribute, the contact's field.
	for k, vs := range q {
		for prefix, dst := range map[string]*map[string]string{"attr.": &f.Attributes, "field.": &f.ContactFields} {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				if name == "" || utf8.RuneCountInString(name) > 50 {
					problems.add("%s: a name is 1 to 50 characters", k)
					continue
				}
				if *dst == nil {
					*dst = map[string]string{}
				}
				(*dst)[name] = vs[0]
			}
		}
	}
	if f.Priority = q.Get("priority"); f.Priority != "" && !slices.Contains(priorities, f.Priority) {
		problems.add("priority must be low, normal, high or urgent")
	}
	f.Limit = int(queryInt(q.Get("limit"), "limit", &problems))
	if f.Limit > 200 {
		problems.add("limit must be at most 200")
	}
	if v := q.Get("chat"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			problems.add("chat must be a chat id")
		}
		f.ChatID = &id
	}
	if err := problems.err(); err != nil {
		return err
	}
	sc, err := s.listScope(c)
	if err != nil {
		return err
	}
	f.Scope = sc
	items, next, err := s.store.ListConversations(c.Request().Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return badRequest("cursor is not valid; start again without it")
	}
	if err != nil {
		return err
	}
	out := conversationList{Items: items}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func queryInt(v, name string, problems *fieldErrors) int64 {
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		problems.add("%s must be a positive integer", name)
		return 0
	}
	return n
}

// conversationNumber parses the {number} path parameter.
func conversationNumber(c echo.Context) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(c.Param("number"), "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, notFoundErr("conversation " + c.Param("number"))
	}
	return n, nil
}

func (s *Server) getConversation(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	return s.renderConversation(c, http.StatusOK, n)
}

func (s *Server) renderConversation(c echo.Context, status int, n int64) error {
	conv, err := s.store.ConversationByNumber(c.Request().Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("conversation #" + strconv.FormatInt(n, 10))
	}
	if err != nil {
		return err
	}
	return c.JSON(status, conv)
}

func (s *Server) conversationMessages(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	// conversationAccess has answered 404 for an unknown conversation.
	msgs, err := s.store.ConversationMessages(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": msgs})
}

func (s *Server) conversationHistory(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	events, err := s.store.ConversationEvents(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": events})
}

// actor is the signed-in user as the workflows judge them: with their role on the line of the
// conversation or chat the request names.
func actor(c echo.Context) workflows.ActionRequest {
	u := currentUser(c)
	role, ok := c.Get(lineRoleKey).(string)
	if !ok {
		role = u.Role
	}
	return workflows.ActionRequest{ActorID: u.ID, ActorRole: role}
}

// action runs an operator action that takes no fields (take, return, pause, resume).
func (s *Server) action(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := conversationNumber(c)
		if err != nil {
			return err
		}
		if c.Request().ContentLength > 0 {
			var ignored map[string]any
			if err := decodeJSON(c, &ignored); err != nil {
				return err
			}
		}
		var arg any = actor(c)
		if name == workflows.UpdateTake {
			arg = workflows.TakeRequest{ActionRequest: actor(c)}
		}
		var res workflows.ActionResult
		if err := s.conversationUpdate(c.Request().Context(), n, name, requestID(c.Request().Header, name), arg, &res); err != nil {
			return err
		}
		return s.renderConversation(c, http.StatusOK, n)
	}
}

// resume resumes a paused dialog. Seed 003 allows one active conversation per chat: while
// another one of the chat is queued or active, resuming is refused. (The chat workflow enforces the
// rule for client messages; an operator's resume goes to the conversation, so it is checked here.)
func (s *Server) resume(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	sibling, err := s.store.CurrentSibling(c.Request().Context(), n)
	if err != nil {
		return err
	}
	if sibling != 0 {
		return newError(http.StatusConflict, workflows.CodeActiveDialogExists,
			"conversation #%d of the same chat is active: pause or close it before resuming #%d", sibling, n)
	}
	return s.action(workflows.UpdateResume)(c)
}

type assignBody struct {
	AssigneeID int64  `json:"assignee_id"`
	Comment    string `json:"comment"`
}

func (s *Server) assignOrTransfer(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := conversationNumber(c)
		if err != nil {
			return err
		}
		var body assignBody
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
		ctx := c.Request().Context()
		if err := s.checkAssignBody(ctx, body); err != nil {
			return err
		}
		line, _ := c.Get(lineKey).(int64)
		if err := s.assign(ctx, name, n, line, actor(c), body, requestID(c.Request().Header, name)); err != nil {
			return err
		}
		return s.renderConversation(c, http.StatusOK, n)
	}
}

// checkAssignBody checks what an assign or transfer asks for, whichever conversation it is for.
func (s *Server) checkAssignBody(ctx context.Context, body assignBody) error {
	if body.AssigneeID <= 0 {
		return newError(http.StatusBadRequest, "invalid_fields", "assignee_id is required")
	}
	if utf8.RuneCountInString(body.Comment) > maxCommentLen {
		return newError(http.StatusBadRequest, "invalid_fields", "comment is longer than %d characters", maxCommentLen)
	}
	if ok, err := s.store.UserExists(ctx, body.AssigneeID); err != nil {
		return err
	} else if !ok {
		return newError(http.StatusBadRequest, "invalid_fields", "assignee_id %d is not a user", body.AssigneeID)
	}
	return nil
}

// maxCommentLen bounds the comment a transfer carries to the next operator.
const maxCommentLen = 2000

// assign assigns (UpdateAssign) or transfers (UpdateTransfer) conversation n, of line line, as
// who asks; the single routes and the bulk action both run it.
func (s *Server) assign(ctx context.Context, name string, n, line int64, who workflows.ActionRequest, body assignBody, updateID string) error {
	if err := s.checkWorksOnLine(ctx, line, "assignee_id", body.AssigneeID); err != nil {
		return err
	}
	var arg any = workflows.AssignRequest{ActionRequest: who, AssigneeID: body.AssigneeID}
	if name == workflows.UpdateTransfer {
		arg = workflows.TransferRequest{ActionRequest: who, AssigneeID: body.AssigneeID, Comment: body.Comment}
	}
	var res workflows.ActionResult
	return s.conversationUpdate(ctx, n, name, updateID, arg, &res)
}

type messageBody struct {
	Text        string                 `json:"text"`
	Attachments []workflows.Attachment `json:"attachments"`
}

func (b messageBody) validate(allowAttachments bool) error {
	var problems fieldErrors
	if strings.TrimSpace(b.Text) == "" && len(b.Attachments) == 0 {
		problems.add("text is required")
	}
	if len(b.Text) > 20000 {
		problems.add("text is longer than 20000 characters")
	}
	if !allowAttachments && len(b.Attachments) > 0 {
		problems.add("notes take no attachments")
	}
	for i, a := range b.Attachments {
		if !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
			problems.add("attachments[%d].url must be an http or https URL", i)
		}
	}
	return problems.err()
}

// reply sends an operator's message (direction out) or an internal note.
func (s *Server) reply(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := conversationNumber(c)
		if err != nil {
			return err
		}
		var body messageBody
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
		if err := body.validate(name == workflows.UpdateReply); err != nil {
			return err
		}
		ctx := c.Request().Context()
		if name == workflows.UpdateReply {
			if err := s.checkReplyWindow(ctx, n); err != nil {
				return err
			}
		}
		// The message id is derived from the Idempotency-Key, so a retried request is one message.
		id := uuid.Must(uuid.NewV7()).String()
		updateID := id
		if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
			id = uuid.NewSHA1(uuid.NameSpaceURL, []byte("linedesk:"+strconv.FormatInt(n, 10)+":"+k)).String()
			updateID = id
		}
		var res workflows.ActionResult
		req := workflows.ReplyRequest{ActionRequest: actor(c), MessageID: id, Text: body.Text, Attachments: body.Attachments}
		if err := s.conversationUpdate(ctx, n, name, updateID, req, &res); err != nil {
			return err
		}
		return s.renderMessage(c, res.MessageID)
	}
}

// checkReplyWindow refuses an operator's reply the platform would refuse anyway: on a phone
// channel, which carries calls only; on Messenger, Instagram and WhatsApp, past their window after
// the client last wrote. The operator learns it at once (409
// outside_messaging_window) rather than from a failed message.
func (s *Server) checkReplyWindow(ctx context.Context, n int64) error {
	kind, last, err := s.store.ConversationChannelKind(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the workflow answers for an unknown conversation
	}
	if err != nil {
		return err
	}
	if nr, ok := s.connectors[kind].(connectors.NoReplies); ok {
		return newError(http.StatusConflict, "channel_takes_no_replies", "%s", nr.NoReplies())
	}
	w, ok := s.connectors[kind].(connectors.Windowed)
	if !ok {
		return nil
	}
	window := w.ReplyWindow(true)
	if !last.IsZero() && time.Since(last) <= window {
		return nil
	}
	ago := "never"
	if !last.IsZero() {
		ago = time.Since(last).Round(time.Hour).String() + " ago"
	}
	return newError(http.StatusConflict, "outside_messaging_window",
		"%s takes replies only within %s of the client's last message, and the client last wrote %s: the client must write first",
		kind, window, ago)
}

// renderMessage answers 201 with a message the workflow has just recorded.
func (s *Server) renderMessage(c echo.Context, id string) error {
	mid, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("message id %q from the workflow: %w", id, err)
	}
	m, err := s.store.MessageByID(c.Request().Context(), mid)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

type editBody struct {
	Title        *string   `json:"title"`
	Type         *string   `json:"type"`
	Reasons      *[]string `json:"reasons"`
	Components   *[]string `json:"components"`
	Participants *[]int64  `json:"participants"`
	// Tags, Priority and Attributes are the desk's labels (X01), kept in the read model only.
	Tags     *[]string `json:"tags"`
	Priority *string   `json:"priority"`
	// Attributes merge into the conversation's: a key with "" is removed.
	Attributes map[string]string `json:"attributes"`
}

// attributeKey is a custom attribute's or field's name: lower-case letters, digits, _ and -.
var attributeKey = regexp.MustCompile(`^[a-z0-9_-]{1,50}$`)

func checkAttributes(attrs map[string]string, problems *fieldErrors) {
	if len(attrs) > 30 {
		problems.add("at most 30 attributes at once")
	}
	for k, v := range attrs {
		if !attributeKey.MatchString(k) {
			problems.add("attribute %q: a name is 1 to 50 lower-case letters, digits, _ or -", k)
		}
		if utf8.RuneCountInString(v) > 500 || strings.ContainsRune(v, 0) {
			problems.add("attribute %q: a value is at most 500 characters", k)
		}
	}
}

var priorities = []string{"low", "normal", "high", "urgent"}

// cleanTags reads tags as the lists filter them: trimmed, lower-case, once each.
func cleanTags(in []string, problems *fieldErrors) []string {
	out := []string{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case t == "":
		case utf8.RuneCountInString(t) > 40 || strings.ContainsAny(t, ",\x00"):
			problems.add("tag %q must be at most 40 characters, without commas", t)
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	if len(out) > 20 {
		problems.add("a conversation has at most 20 tags")
	}
	return out
}

func (s *Server) editConversation(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	var body editBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ds, err := s.dialogSettings(ctx)
	if err != nil {
		return err
	}
	var problems fieldErrors
	if body.Title != nil && len(*body.Title) > 500 {
		problems.add("title is longer than 500 characters")
	}
	ds.check(&problems, body.Type, body.Reasons, body.Components)
	if body.Participants != nil {
		for _, id := range *body.Participants {
			if ok, err := s.store.UserExists(ctx, id); err != nil {
				return err
			} else if !ok {
				problems.add("participant %d is not a user", id)
			}
		}
	}
	var tags []string
	if body.Tags != nil {
		tags = cleanTags(*body.Tags, &problems)
	}
	if body.Priority != nil && !slices.Contains(priorities, *body.Priority) {
		problems.add("priority must be low, normal, high or urgent")
	}
	checkAttributes(body.Attributes, &problems)
	if err := problems.err(); err != nil {
		return err
	}
	if body.Title != nil || body.Type != nil || body.Reasons != nil || body.Components != nil || body.Participants != nil {
		req := workflows.EditRequest{ActionRequest: actor(c), Title: body.Title, Type: body.Type, Reasons: body.Reasons,
			Components: body.Components, Participants: body.Participants}
		var res workflows.ActionResult
		if err := s.conversationUpdate(ctx, n, workflows.UpdateEdit, requestID(c.Request().Header, workflows.UpdateEdit), req, &res); err != nil {
			return err
		}
	}
	if body.Tags != nil || body.Priority != nil || len(body.Attributes) > 0 {
		err := s.store.SetConversationLabels(ctx, n, store.LabelChange{Tags: tags, Priority: body.Priority, Attributes: body.Attributes,
			ActorID: currentUser(c).ID})
		if errors.Is(err, store.ErrNotFound) {
			return notFoundErr("conversation #" + c.Param("number"))
		} else if err != nil {
			return err
		}
	}
	return s.renderConversation(c, http.StatusOK, n)
}

type closeBody struct {
	Type          string   `json:"type"`
	Reasons       []string `json:"reasons"`
	Components    []string `json:"components"`
	Solution      string   `json:"solution"`
	ClientRating  int      `json:"client_rating"`
	SendCSAT      bool     `json:"send_csat"`
	OpenTicket    bool     `json:"open_ticket"`
	ConfirmUnread bool     `json:"confirm_unread"`
}

func (s *Server) closeConversation(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	var body closeBody
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	ctx := c.Request().Context()
	if err := s.checkCloseBody(ctx, body); err != nil {
		return err
	}
	if err := s.close(ctx, n, actor(c), body, requestID(c.Request().Header, workflows.UpdateClose)); err != nil {
		return err
	}
	return s.renderConversation(c, http.StatusOK, n)
}

// checkCloseBody checks a close's wrap-up, whichever conversation it is for.
func (s *Server) checkCloseBody(ctx context.Context, body closeBody) error {
	ds, err := s.dialogSettings(ctx)
	if err != nil {
		return err
	}
	var problems fieldErrors
	var typ *string
	if body.Type != "" {
		typ = &body.Type
	}
	var reasons, components *[]string
	if body.Reasons != nil {
		reasons = &body.Reasons
	}
	if body.Components != nil {
		components = &body.Components
	}
	ds.check(&problems, typ, reasons, components)
	if body.ClientRating < 0 || body.ClientRating > 3 {
		problems.add("client_rating must be 1, 2 or 3 (or left out for no rating)")
	}
	if len(body.Solution) > 20000 {
		problems.add("solution is longer than 20000 characters")
	}
	return problems.err()
}

// close closes conversation n as who asks; the single route and the bulk action both run it.
func (s *Server) close(ctx context.Context, n int64, who workflows.ActionRequest, body closeBody, updateID string) error {
	// The operator decides on what the console shows: the read model counts a client message as
	// unread as soon as it is accepted, a moment before the conversation's workflow does.
	if !body.ConfirmUnread {
		conv, err := s.store.ConversationByNumber(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundErr("conversation #" + strconv.FormatInt(n, 10))
		}
		if err != nil {
			return err
		}
		if conv.Unread > 0 && conv.Status != workflows.StatusClosed {
			return newError(http.StatusConflict, workflows.CodeUnreadMessages,
				"conversation #%d has %d unread client message(s); confirm to close anyway", n, conv.Unread)
		}
	}
	req := workflows.CloseRequest{ActionRequest: who, Type: body.Type, Reasons: body.Reasons, Components: body.Components,
		Solution: body.Solution, ClientRating: body.ClientRating, SendCSAT: body.SendCSAT, OpenTicket: body.OpenTicket,
		ConfirmUnread: body.ConfirmUnread}
	var res workflows.ActionResult
	return s.conversationUpdate(ctx, n, workflows.UpdateClose, updateID, req, &res)
}

type openDialogBody struct {
	ChatID       string  `json:"chat_id"`
	Title        string  `json:"title"`
	Participants []int64 `json:"participants"`
}

// openDialog opens a dialog inside a chat (seed 003); the operator who opens it handles it.
func (s *Server) openDialog(c echo.Context) error {
	var body openDialogBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	chatID, err := uuid.Parse(body.ChatID)
	if err != nil {
		return newError(http.StatusBadRequest, "invalid_fields", "chat_id must be a chat id")
	}
	if len(body.Title) > 500 {
		return newError(http.StatusBadRequest, "invalid_fields", "title is longer than 500 characters")
	}
	ctx := c.Request().Context()
	route, role, err := s.store.ChatLineRole(ctx, chatID, currentUser(c))
	if errors.Is(err, store.ErrNotFound) || (err == nil && role == store.LineRoleNone) {
		return notFoundErr("chat " + body.ChatID)
	}
	if err != nil {
		return err
	}
	c.Set(lineRoleKey, role)
	for _, id := range body.Participants {
		if ok, err := s.store.UserExists(ctx, id); err != nil {
			return err
		} else if !ok {
			return newError(http.StatusBadRequest, "invalid_fields", "participant %d is not a user", id)
		}
	}
	var res workflows.OpenDialogResult
	req := workflows.OpenDialogRequest{ActionRequest: actor(c), Title: body.Title, Participants: body.Participants}
	if err := s.chatUpdate(ctx, route, workflows.UpdateOpenDialog, requestID(c.Request().Header, workflows.UpdateOpenDialog), req, &res); err != nil {
		return err
	}
	return s.renderConversation(c, http.StatusCreated, res.Number)
}

// checkIn adds a problem for each value not in the allowed list.
func checkIn(problems *fieldErrors, field string, values, allowed []string) {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			problems.add("%s: %q is not in the list (GET /api/v1/dialog-settings)", field, v)
		}
	}
}

// mergeContact merges another client's card into this one (X02): the same person on Telegram
// and by email becomes one client with both histories. Supervisors and admins merge, and only
// cards they may see.
func (s *Server) mergeContact(c echo.Context) error {
	id, err := pathID(c, "contact")
	if err != nil {
		return err
	}
	var b struct {
		ContactID int64 `json:"contact_id"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if b.ContactID <= 0 {
		return newError(http.StatusBadRequest, "invalid_fields", "contact_id is required: the card merged into this one")
	}
	if err := s.checkContactVisible(c, id); err != nil {
		return err
	}
	if err := s.checkContactVisible(c, b.ContactID); err != nil {
		return err
	}
	var out store.Contact
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		from, err := tx.ContactByID(ctx, b.ContactID)
		if err != nil {
			return store.AuditChange{}, err
		}
		before, err := tx.ContactByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.MergeContacts(ctx, id, b.ContactID); errors.Is(err, store.ErrMergeRefused) {
			return store.AuditChange{}, newError(http.StatusConflict, "merge_refused", "%s", err.Error())
		} else if err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditContact, ID: auditID(id), Action: store.AuditUpdate,
			Before: map[string]any{"contact": before, "merged": from}, After: out}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("contact")
	}
	if err != nil {
		return err
	}
	if s.handoff != nil {
		s.handoff.ForgetBlocked() // the identities moved, with a block either card had
	}
	return c.JSON(http.StatusOK, out)
}

// blockContact blocks a client or marks them as spam (X14): the intake takes nothing more from
// any of their identities. reason "" unblocks. Whoever may see the client may do it.
func (s *Server) blockContact(c echo.Context) error {
	id, err := pathID(c, "contact")
	if err != nil {
		return err
	}
	var b struct {
		Reason *string `json:"reason"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Reason == nil || (*b.Reason != "" && *b.Reason != "spam" && *b.Reason != "blocked") {
		return newError(http.StatusBadRequest, "invalid_fields", `reason must be "spam", "blocked" or "" (unblock)`)
	}
	if err := s.checkContactVisible(c, id); err != nil {
		return err
	}
	if *b.Reason == "" && currentUser(c).Role == store.RoleOperator {
		// Any operator stops a spammer; lifting a block is a supervisor's or an admin's call.
		return newError(http.StatusForbidden, "forbidden", "only a supervisor or an admin unblocks a client")
	}
	var out store.Contact
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		before, err := tx.ContactByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.BlockContact(ctx, id, *b.Reason, currentUser(c).ID); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditContact, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("contact " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	if s.handoff != nil {
		s.handoff.ForgetBlocked()
	}
	return c.JSON(http.StatusOK, out)
}

// updateContact edits a client's card (X01: custom fields operators set too): name, address,
// phone and custom fields (merged; "" removes one). Whoever may see the client may edit it.
func (s *Server) updateContact(c echo.Context) error {
	id, err := pathID(c, "contact")
	if err != nil {
		return err
	}
	var b struct {
		Name   *string           `json:"name"`
		Email  *string           `json:"email"`
		Phone  *string           `json:"phone"`
		Fields map[string]string `json:"fields"`
	}
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	var problems fieldErrors
	for name, v := range map[string]*string{"name": b.Name, "email": b.Email, "phone": b.Phone} {
		if v != nil {
			*v = strings.TrimSpace(*v)
			if utf8.RuneCountInString(*v) > 200 || strings.ContainsRune(*v, 0) {
				problems.add("%s is at most 200 characters", name)
			}
		}
	}
	if b.Email != nil && *b.Email != "" && (!strings.Contains(*b.Email, "@") || strings.ContainsAny(*b.Email, " \t\r\n")) {
		problems.add("email is not an address")
	}
	if len(b.Fields) > 30 {
		problems.add("at most 30 fields at once")
	}
	for k, v := range b.Fields {
		if k == "" || utf8.RuneCountInString(k) > 50 || utf8.RuneCountInString(v) > 500 || strings.ContainsRune(k+v, 0) {
			problems.add("field %q: a name is 1 to 50 characters, a value at most 500", k)
		}
	}
	if err := problems.err(); err != nil {
		return err
	}
	if err := s.checkContactVisible(c, id); err != nil {
		return err
	}
	var out store.Contact
	err = s.audited(c, func(ctx context.Context, tx *store.Store) (store.AuditChange, error) {
		before, err := tx.ContactByID(ctx, id)
		if err != nil {
			return store.AuditChange{}, err
		}
		if out, err = tx.UpdateContact(ctx, id, store.ContactChange{Name: b.Name, Email: b.Email, Phone: b.Phone, Fields: b.Fields}); err != nil {
			return store.AuditChange{}, err
		}
		return store.AuditChange{Entity: store.AuditContact, ID: auditID(id), Action: store.AuditUpdate, Before: before, After: out}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("contact " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
