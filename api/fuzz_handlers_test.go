package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/connectors/webchat"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
	"github.com/linedesk/linedesk/workflows"
)

// The handlers' own paths fuzzed with a real store behind them and a stand-in for Temporal that
// records what each update asks and refuses it: a handler that reached the workflow let the
// request through its checks, and what it asked must keep the rules; one that stopped before
// must have answered 400.

// recordingEngine records the argument of each update and refuses it with a rule code, so the
// handler answers 409 right there.
type recordingEngine struct {
	client.Client
	asked any
}

const engineRefusal = workflows.CodeAlreadyTaken

func (e *recordingEngine) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	e.asked = o.Args[0]
	return nil, temporal.NewNonRetryableApplicationError("recorded by the fuzz test", engineRefusal, nil)
}

// fuzzDesk is a server on a database of its own with an admin, an operator who works on no line,
// a line, an open conversation on it with nothing unread, and two more with a client's message.
type fuzzDesk struct {
	s        *Server
	engine   *recordingEngine
	admin    store.User
	operator store.User
	line     int64
	number   int64
}

func newFuzzDesk(f *testing.F) *fuzzDesk {
	f.Helper()
	st := storetest.NewStore(f)
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@example.com", Name: "Admin", Password: "secret", Role: store.RoleAdmin})
	must(err)
	operator, err := st.CreateUser(ctx, store.NewUser{Email: "op@example.com", Name: "Op", Password: "secret", Role: store.RoleOperator})
	must(err)
	line, err := st.CreateLine(ctx, store.Line{Name: "Support", LineSettings: store.LineSettings{AutoOpen: true}})
	must(err)
	ch, _, err := st.CreateChannel(ctx, store.Channel{Kind: "api", Name: "API", LineID: line.ID, Settings: json.RawMessage(`{}`), Enabled: true})
	must(err)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var number int64
	for i := range 3 {
		ing, err := st.Ingest(ctx, store.InboundMessage{ChannelID: ch.ID, Key: fmt.Sprint("k", i), Text: "оплата не проходит", At: at,
			Contact: store.InboundContact{ExternalID: fmt.Sprint("c", i), Name: "Анна"}})
		must(err)
		c, err := st.CreateConversation(ctx, store.NewConversation{OpeningKey: fmt.Sprint("open", i), ChatID: ing.ChatID, LineID: line.ID,
			Kind: "request", Status: "queued", OpenedAt: at.Add(time.Duration(i) * time.Minute)})
		must(err)
		if number == 0 {
			number = c.Number // the one the actions are sent to: nothing unread
			continue
		}
		// The others hold their client's message, for the searches to find.
		must(st.LinkInbound(ctx, ing.ChatID, ing.Seq, 0, []store.InboundLink{{MessageID: ing.MessageID, Conversation: c.Number}}))
	}
	engine := &recordingEngine{}
	return &fuzzDesk{s: &Server{store: st, temporal: engine, logger: slog.New(slog.DiscardHandler)}, engine: engine,
		admin: admin, operator: operator, line: line.ID, number: number}
}

// call runs h on a request with body (JSON) and query as the admin, for the desk's conversation,
// and returns the error the client would see (nil on success), what the workflow was asked (nil
// when the handler stopped before) and the response.
func (d *fuzzDesk) call(h echo.HandlerFunc, method, query string, body []byte) (*Error, any, *httptest.ResponseRecorder) {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL.RawQuery = query
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(req, rec)
	c.SetParamNames("number")
	c.SetParamValues(strconv.FormatInt(d.number, 10))
	c.Set(userKey, d.admin)
	c.Set(lineKey, d.line)
	d.engine.asked = nil
	if err := h(c); err != nil {
		return toAPIError(err), d.engine.asked, rec
	}
	return nil, d.engine.asked, rec
}

// refusedOrAsked asserts the outcome is a 400 before the workflow, or the workflow's refusal after
// it asked; it tells whether the workflow was asked.
func refusedOrAsked(t *testing.T, e *Error, asked any, body []byte) bool {
	t.Helper()
	switch {
	case asked != nil && e != nil && e.Status == http.StatusConflict && e.Code == engineRefusal:
		return true
	case asked == nil && e != nil && e.Status == http.StatusBadRequest:
		return false
	}
	t.Fatalf("body %q: error %+v, workflow asked %+v", body, e, asked)
	return false
}

// operatorRoutes are what FuzzOperatorBody sends its bodies to: the actions on a conversation
// (named by their updates) and the desk's settings.
var operatorRoutes = []string{workflows.UpdateReply, workflows.UpdateNote, workflows.UpdateClose, workflows.UpdateAssign,
	workflows.UpdateTransfer, workflows.UpdateEdit, dialogSettingsKey, store.StandardMessagesKey}

// FuzzOperatorBody: the JSON bodies the console and the API clients send. An action on a
// conversation — reply, note, close, assign, transfer, edit — either is a 400 before the workflow
// or reaches it keeping the action's rules, as the client sent it:
//   - reply and note: text or a file, at most 20000 bytes of text, files at http(s) URLs and
//     only on a reply;
//   - close: a type, reasons and components from the dialog settings, a client rating from 0 to
//     3, a solution of at most 20000 bytes;
//   - assign and transfer: a user who works on the line, a comment of at most maxCommentLen
//     characters;
//   - edit: a title of at most 500 bytes, a type, reasons and components from the settings,
//     participants who are users; the labels it saves are at most 20 tags, each trimmed,
//     lower-case, at most 40 characters without commas, once each, a known priority, and
//     attributes whose names and values keep their limits.
//
// The dialog settings and the standard messages are saved only when they keep their rules, and
// read back as saved (checkSettings).
func FuzzOperatorBody(f *testing.F) {
	d := newFuzzDesk(f)
	seeds := map[string][]string{
		workflows.UpdateReply: {
			`{"text":"Здравствуйте! Проверьте, пожалуйста, ещё раз."}`,
			`{"text":"","attachments":[{"url":"https://files.example/a.pdf","name":"a.pdf","content_type":"application/pdf"}]}`,
			`{"text":"see","attachments":[{"url":"javascript:alert(1)"}]}`,
			`{"text":" \t\n"}`,
			`{"text":"` + strings.Repeat("я", 10001) + `"}`,
			`{"text":"C:\\u0000"}`,
		},
		workflows.UpdateClose: {
			`{"type":"Support","solution":"Переустановили приложение","client_rating":3,"send_csat":true}`,
			`{"type":"Refund","reasons":[],"components":[]}`,
			`{"type":"support"}`,
			`{"type":"Support","reasons":["Other"]}`,
			`{"client_rating":4}`,
			`{"solution":"` + strings.Repeat("x", 20001) + `"}`,
			``,
		},
		workflows.UpdateAssign: {
			fmt.Sprintf(`{"assignee_id":%d,"comment":"Клиент просит старшего"}`, d.admin.ID),
			fmt.Sprintf(`{"assignee_id":%d}`, d.operator.ID),
			`{"assignee_id":0}`,
			`{"assignee_id":9223372036854775807}`,
			fmt.Sprintf(`{"assignee_id":%d,"comment":"%s"}`, d.admin.ID, strings.Repeat("ё", maxCommentLen+1)),
		},
		workflows.UpdateEdit: {
			`{"title":"Оплата картой","type":"Support"}`,
			`{"tags":[" VIP ","vip","оплата"],"priority":"high","attributes":{"order_id":"A-1001","plan":""}}`,
			`{"tags":["a,b"]}`,
			`{"tags":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}`,
			`{"priority":"critical"}`,
			`{"attributes":{"Order":"1"}}`,
			`{"attributes":{"k":"` + strings.Repeat("v", 501) + `"}}`,
			`{"participants":[999999]}`,
			`{}`,
		},
	}
	seeds[workflows.UpdateNote] = seeds[workflows.UpdateReply][:2]
	seeds[workflows.UpdateTransfer] = seeds[workflows.UpdateAssign][:2]
	seeds[dialogSettingsKey] = []string{
		`{"types":["Support","Refund"," Sales "],"reasons":["Bug"],"components":["App"]}`,
		`{"types":["a","a"]}`,
		`{"types":[""," "]}`,
		`{"types":["` + strings.Repeat("ы", 201) + `"]}`,
	}
	seeds[store.StandardMessagesKey] = []string{
		`{"csat_question":"Как мы справились?","csat_bad":"Плохо","csat_normal":"Нормально","csat_excellent":"Отлично"}`,
		`{"csat_bad":"` + strings.Repeat("b", 21) + `"}`,
		`{"auto_close":" "}`,
	}
	for i, route := range operatorRoutes {
		for _, s := range seeds[route] {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		switch name := operatorRoutes[int(route)%len(operatorRoutes)]; name {
		case workflows.UpdateReply, workflows.UpdateNote:
			checkReply(t, d, name == workflows.UpdateNote, body)
		case workflows.UpdateClose:
			checkClose(t, d, body)
		case workflows.UpdateAssign, workflows.UpdateTransfer:
			checkAssign(t, d, name == workflows.UpdateTransfer, body)
		case workflows.UpdateEdit:
			checkEdit(t, d, body)
		default:
			checkSettings(t, d, name == store.StandardMessagesKey, body)
		}
	})
}

func checkReply(t *testing.T, d *fuzzDesk, note bool, body []byte) {
	t.Helper()
	name := workflows.UpdateReply
	if note {
		name = workflows.UpdateNote
	}
	e, asked, _ := d.call(d.s.reply(name), http.MethodPost, "", body)
	var sent messageBody
	decoded := json.Unmarshal(body, &sent) == nil && utf8.Valid(body)
	if !refusedOrAsked(t, e, asked, body) {
		if e.Code == "invalid_fields" && decoded && replyValid(sent, note) {
			t.Fatalf("a valid message %q refused: %v", body, e)
		}
		return
	}
	req, ok := asked.(workflows.ReplyRequest)
	if !ok || req.MessageID == "" {
		t.Fatalf("the workflow was asked %#v", asked)
	}
	if !replyValid(messageBody{Text: req.Text, Attachments: req.Attachments}, note) {
		t.Fatalf("an invalid message reached the workflow: %+v", req)
	}
	if req.Text != sent.Text || len(req.Attachments) != len(sent.Attachments) {
		t.Fatalf("sent %q, the workflow was asked %+v", body, req)
	}
}

func checkClose(t *testing.T, d *fuzzDesk, body []byte) {
	t.Helper()
	e, asked, _ := d.call(d.s.closeConversation, http.MethodPost, "", body)
	if !refusedOrAsked(t, e, asked, body) {
		return
	}
	req, ok := asked.(workflows.CloseRequest)
	if !ok {
		t.Fatalf("the workflow was asked %#v", asked)
	}
	ds := defaultDialogSettings()
	if (req.Type != "" && !slices.Contains(ds.Types, req.Type)) || len(req.Reasons) > 0 || len(req.Components) > 0 ||
		req.ClientRating < 0 || req.ClientRating > 3 || len(req.Solution) > 20000 {
		t.Fatalf("an invalid wrap-up reached the workflow: %+v", req)
	}
}

func checkAssign(t *testing.T, d *fuzzDesk, transfer bool, body []byte) {
	t.Helper()
	name := workflows.UpdateAssign
	if transfer {
		name = workflows.UpdateTransfer
	}
	e, asked, _ := d.call(d.s.assignOrTransfer(name), http.MethodPost, "", body)
	if !refusedOrAsked(t, e, asked, body) {
		return
	}
	var sent assignBody
	_ = json.Unmarshal(body, &sent)
	var who int64
	switch req := asked.(type) {
	case workflows.AssignRequest:
		who = req.AssigneeID
		if transfer {
			t.Fatalf("a transfer asked as an assign: %+v", req)
		}
	case workflows.TransferRequest:
		who = req.AssigneeID
		if !transfer || req.Comment != sent.Comment || utf8.RuneCountInString(req.Comment) > maxCommentLen {
			t.Fatalf("transfer %q asked %+v", body, req)
		}
	default:
		t.Fatalf("the workflow was asked %#v", asked)
	}
	if who != d.admin.ID || who != sent.AssigneeID {
		t.Fatalf("%q assigned to %d, who does not work on the line", body, who)
	}
}

func checkEdit(t *testing.T, d *fuzzDesk, body []byte) {
	t.Helper()
	e, asked, rec := d.call(d.s.editConversation, http.MethodPatch, "", body)
	switch {
	case e == nil:
		if asked != nil || rec.Code != http.StatusOK {
			t.Fatalf("%q answered %d having asked the workflow %+v", body, rec.Code, asked)
		}
	case !refusedOrAsked(t, e, asked, body):
		return
	default:
		req, ok := asked.(workflows.EditRequest)
		if !ok {
			t.Fatalf("the workflow was asked %#v", asked)
		}
		ds := defaultDialogSettings()
		if (req.Title != nil && len(*req.Title) > 500) || (req.Type != nil && *req.Type != "" && !slices.Contains(ds.Types, *req.Type)) ||
			(req.Reasons != nil && len(*req.Reasons) > 0) || (req.Components != nil && len(*req.Components) > 0) {
			t.Fatalf("an invalid edit reached the workflow: %+v", req)
		}
		if req.Participants != nil {
			for _, id := range *req.Participants {
				if id != d.admin.ID && id != d.operator.ID {
					t.Fatalf("participant %d is not a user", id)
				}
			}
		}
	}
	conv, err := d.s.store.ConversationByNumber(context.Background(), d.number)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Tags) > 20 || (conv.Priority != "" && !slices.Contains(priorities, conv.Priority)) {
		t.Fatalf("labels saved: tags %q, priority %q", conv.Tags, conv.Priority)
	}
	for i, tag := range conv.Tags {
		if tag == "" || tag != strings.ToLower(strings.TrimSpace(tag)) || utf8.RuneCountInString(tag) > 40 ||
			strings.ContainsAny(tag, ",\x00") || slices.Contains(conv.Tags[:i], tag) {
			t.Fatalf("tag %q saved (tags %q)", tag, conv.Tags)
		}
	}
	for k, v := range conv.Attributes {
		if !attributeKey.MatchString(k) || v == "" || utf8.RuneCountInString(v) > 500 || strings.ContainsRune(v, 0) {
			t.Fatalf("attribute %q=%q saved", k, v)
		}
	}
}

// checkSettings puts body as the dialog settings or the standard messages: they are saved only
// when they keep their rules (at least one type; each entry trimmed, 1 to 200 characters, once;
// each message 1 to 4000 characters, a button at most 20), and then read back as saved; anything
// else is a 400 and leaves them as they were.
func checkSettings(t *testing.T, d *fuzzDesk, messages bool, body []byte) {
	t.Helper()
	ctx := context.Background()
	if !messages {
		before, err := d.s.dialogSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e, _, rec := d.call(d.s.putDialogSettings, http.MethodPut, "", body)
		after, err := d.s.dialogSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e != nil {
			clientError(t, e, http.StatusBadRequest)
			if !slices.Equal(before.Types, after.Types) || !slices.Equal(before.Reasons, after.Reasons) {
				t.Fatalf("refused %q, yet the settings changed", body)
			}
			return
		}
		var saved DialogSettings
		if err := json.Unmarshal(rec.Body.Bytes(), &saved); err != nil || !slices.Equal(saved.Types, after.Types) ||
			!slices.Equal(saved.Reasons, after.Reasons) || !slices.Equal(saved.Components, after.Components) {
			t.Fatalf("answered %s, read back %+v (%v)", rec.Body, after, err)
		}
		if len(after.Types) == 0 {
			t.Fatal("saved without a type")
		}
		for _, list := range [][]string{after.Types, after.Reasons, after.Components} {
			for i, v := range list {
				if v == "" || v != strings.TrimSpace(v) || utf8.RuneCountInString(v) > 200 || slices.Contains(list[:i], v) {
					t.Fatalf("entry %q saved in %q", v, list)
				}
			}
		}
		return
	}
	before, err := d.s.standardMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := d.call(d.s.putStandardMessages, http.MethodPut, "", body)
	after, err := d.s.standardMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e != nil {
		clientError(t, e, http.StatusBadRequest)
		if before != after {
			t.Fatalf("refused %q, yet the messages changed", body)
		}
		return
	}
	for _, m := range []struct {
		v      string
		button bool
	}{{after.CSATQuestion, false}, {after.CSATBad, true}, {after.CSATNormal, true}, {after.CSATExcellent, true},
		{after.CSATThanks, false}, {after.AutoClose, false}} {
		n := utf8.RuneCountInString(m.v)
		if strings.TrimSpace(m.v) == "" || n > 4000 || (m.button && n > 20) {
			t.Fatalf("message %q saved", m.v)
		}
	}
}

// FuzzListQuery: the conversation list's and the search's query strings (filters, attr.<name>
// and field.<name>, sort, limit, cursor) are answered with a page or a 400, never anything else;
// a page holds at most its limit, and its next_cursor, sent back, gives the next page.
func FuzzListQuery(f *testing.F) {
	d := newFuzzDesk(f)
	for _, q := range []string{
		"view=all&status=queued,active&sort=activity&limit=1",
		"view=mine&channel_kind=api&priority=high&tag=VIP",
		"attr.order_id=A-1&field.plan=gold&limit=2&sort=due",
		"attr.=x&field." + strings.Repeat("n", 51) + "=1",
		"attr.a%00=b&tag=%00&chat=not-a-uuid",
		"tag=%FF%FE&attr.k=%C0",
		"limit=201&limit=1&line=-1&channel=1e3",
		"cursor=e30&sort=created&limit=1",
		"cursor=bm90LWEtY3Vyc29y",
		"q=оплата&kind=messages&limit=1",
		"q=%230001&kind=conversations&status=queued&from=2026-01-01&to=2026-12-31",
		"q=%2B7+916&kind=contacts&from=2026-12-31T09:00:00%2B03:00",
		"q=a&from=2027-01-01&to=2026-01-01",
		"q=" + strings.Repeat("я", 201),
		"q=%00",
		"q=x&kind=files",
	} {
		f.Add(strings.HasPrefix(q, "q="), q)
	}
	type page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	f.Fuzz(func(t *testing.T, search bool, query string) {
		h := func(c echo.Context) error { return d.s.conversationPage(c, 0) }
		if search {
			h = d.s.search
		}
		e, _, rec := d.call(h, http.MethodGet, query, nil)
		if e != nil {
			clientError(t, e, http.StatusBadRequest)
			return
		}
		var p page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%q answered %d %s", query, rec.Code, rec.Body)
		}
		limit := 50
		if search {
			limit = 20
		}
		values, _ := url.ParseQuery(query)
		if n, err := strconv.Atoi(values.Get("limit")); err == nil && n > 0 {
			limit = n
		}
		if len(p.Items) > limit {
			t.Fatalf("%q: %d items on a page of %d", query, len(p.Items), limit)
		}
		if p.NextCursor == nil {
			return
		}
		values.Set("cursor", *p.NextCursor)
		if e, _, rec := d.call(h, http.MethodGet, values.Encode(), nil); e != nil || rec.Code != http.StatusOK {
			t.Fatalf("%q: next_cursor %q answered %+v", query, *p.NextCursor, e)
		}
	})
}

// FuzzVKState: the state a VK sign-in carries opens only for the user who started it, before it
// expires, as it was signed; any other text, or the signed state with its payload changed, is
// refused.
func FuzzVKState(f *testing.F) {
	d := newFuzzDesk(f)
	f.Add(int64(1), int64(7), "user", "n0nce", uint8(0), "")
	f.Add(int64(1), int64(7), "groups", "", uint8(3), "x")
	f.Add(int64(-5), int64(0), "", "\u0000", uint8(200), "eyJ1IjoxfQ.AAAA")
	f.Fuzz(func(t *testing.T, user, line int64, step, nonce string, flip uint8, raw string) {
		now := time.Now()
		// The server makes the states it signs: their texts are UTF-8.
		step, nonce = strings.ToValidUTF8(step, "?"), strings.ToValidUTF8(nonce, "?")
		st := vkState{User: user, Line: line, Step: step, Expires: now.Add(15 * time.Minute).Unix(), Nonce: nonce}
		signed := d.s.signVKState(st)
		got, err := d.s.openVKState(signed, user)
		if err != nil || got != st {
			t.Fatalf("signed %+v as %q, opened %+v, %v", st, signed, got, err)
		}
		if _, err := d.s.openVKState(signed, user+1); err == nil {
			t.Fatalf("state of user %d opened for user %d", user, user+1)
		}
		expired := st
		expired.Expires = now.Add(-time.Minute).Unix()
		if _, err := d.s.openVKState(d.s.signVKState(expired), user); err == nil {
			t.Fatal("an expired state opened")
		}
		payload, sig, _ := strings.Cut(signed, ".")
		i := int(flip) % len(payload)
		changed := payload[:i] + string(rune('A'+(payload[i]-'A'+1)%26)) + payload[i+1:]
		if changed != payload {
			if _, err := d.s.openVKState(changed+"."+sig, user); err == nil {
				t.Fatalf("a changed payload %q opened", changed)
			}
		}
		if st, err := d.s.openVKState(raw, user); err == nil && (st.User != user || st.Expires < now.Unix()) {
			t.Fatalf("%q opened as %+v", raw, st)
		}
	})
}

// widgetDesk is a desk with a site (a webchat channel offering chat, the feedback form and
// call-back requests, email optional) and one of its visitors.
type widgetDesk struct {
	*fuzzDesk
	handoff *inbound.Handoff
	site    widgetSite
	visitor store.Visitor
}

func newWidgetDesk(f *testing.F) *widgetDesk {
	f.Helper()
	d := newFuzzDesk(f)
	ctx := context.Background()
	settings := json.RawMessage(`{"site_name":"Shop","domain":"shop.example.com","widgets":[{"kind":"chat"},{"kind":"form"},{"kind":"callback"}],"prechat":{"email_optional":true}}`)
	ch, _, err := d.s.store.CreateChannel(ctx, store.Channel{Kind: webchat.Kind, Name: "Shop", LineID: d.line, Settings: settings, Enabled: true})
	if err != nil {
		f.Fatal(err)
	}
	set, err := webchat.ReadSettings(ch.Settings)
	if err != nil {
		f.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7())
	v, err := d.s.store.CreateVisitor(ctx, store.Visitor{ID: id, ChannelID: ch.ID, ContactKey: "v:" + id.String(), Language: "ru",
		PageURL: "https://shop.example.com/"}, "wv_fuzz")
	if err != nil {
		f.Fatal(err)
	}
	return &widgetDesk{fuzzDesk: d, handoff: inbound.New(d.s.store, d.engine, nil),
		site: widgetSite{ch: ch, set: set, origin: "https://shop.example.com"}, visitor: v}
}

// widgetBoundary is the boundary of the multipart messages FuzzWidgetBody sends.
const widgetBoundary = "fuzz"

// widgetForm is a visitor's multipart message with fields and, if name is set, a file.
func widgetForm(fields [][2]string, name string, data []byte) []byte {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.SetBoundary(widgetBoundary)
	for _, kv := range fields {
		_ = w.WriteField(kv[0], kv[1])
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	return b.Bytes()
}

// FuzzWidgetBody: what a page's widget sends — a visitor's message (JSON, or multipart with a
// file), a feedback or call-back request, the pre-chat form — is refused with a 4xx the API
// names (never a 500), or stored keeping the rules: a message's text trimmed and within
// webchat.MaxTextLen, UTF-8 without NUL, never empty without a file; a visitor's name trimmed
// and within webchat.MaxNameLen, an email address that reads back as itself, a phone within
// maxPhoneLen.
func FuzzWidgetBody(f *testing.F) {
	d := newWidgetDesk(f)
	for _, form := range [][]byte{
		widgetForm([][2]string{{"client_id", "f-1"}, {"text", "скрин"}, {"page_url", "https://shop.example.com/"}}, "a.png", []byte("\x89PNG\r\n\x1a\n")),
		widgetForm([][2]string{{"client_id", "f-2"}}, "run.exe", []byte("MZ\x90\x00")),
		widgetForm([][2]string{{"client_id", "f-3"}, {"text", "\xff\x00"}}, "", nil),
		widgetForm([][2]string{{"client_id", "f-4"}}, "../../etc/passwd", []byte("x")),
		widgetForm([][2]string{{"client_id", "f-5"}}, "empty.txt", nil),
		[]byte("--fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--fuzz"),
	} {
		f.Add(uint8(3), form)
	}
	for _, s := range []string{
		`{"client_id":"m-1","text":" Здравствуйте, где мой заказ? ","page_url":"https://shop.example.com/orders"}`,
		`{"client_id":"m-2","button":"csat:1042:3"}`,
		`{"client_id":"","text":"x"}`,
		`{"client_id":"m-3","text":" "}`,
		`{"client_id":"` + strings.Repeat("c", 101) + `","text":"x"}`,
		`{"client_id":"m-4","text":"` + strings.Repeat("я", webchat.MaxTextLen+1) + `"}`,
		`{"kind":"form","client_id":"r-1","text":"Перезвоните","email":"ann@example.com","name":"Анна"}`,
		`{"kind":"callback","client_id":"r-2","phone":"+7 999 000-11-22","when":"после 18:00"}`,
		`{"kind":"callback","client_id":"r-3"}`,
		`{"kind":"form","client_id":"r-4","text":"x"}`,
		`{"kind":"chat","client_id":"r-5"}`,
		`{"name":" Анна ","email":"ann@example.com","phone":"+79990001122"}`,
		`{"email":"not an address"}`,
	} {
		// Each to what it is meant for: a message, a request, the pre-chat form.
		kind := uint8(0)
		switch {
		case strings.Contains(s, `"kind"`):
			kind = 1
		case !strings.Contains(s, `"client_id"`):
			kind = 2
		}
		f.Add(kind, []byte(s))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		// A server of its own for each call: the widget's rate limits are not what is fuzzed.
		s := &Server{store: d.s.store, temporal: d.engine, logger: d.s.logger, handoff: d.handoff}
		handlers := []echo.HandlerFunc{s.postVisitorMessage, s.visitorRequest, s.updateVisitor, s.postVisitorMessage}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		if int(kind)%len(handlers) == 3 {
			req.Header.Set(echo.HeaderContentType, "multipart/form-data; boundary="+widgetBoundary)
		}
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(req, rec)
		c.Set("widget.site", d.site)
		c.Set("widget.visitor", d.visitor)
		err := handlers[int(kind)%len(handlers)](c)
		if err != nil {
			clientError(t, err, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
			return
		}
		if int(kind)%len(handlers) == 2 {
			var out visitorOut
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("answered %s", rec.Body)
			}
			v := out.Visitor
			if v.Name != strings.TrimSpace(v.Name) || utf8.RuneCountInString(v.Name) > webchat.MaxNameLen || len(v.Phone) > maxPhoneLen {
				t.Fatalf("visitor saved as %+v", v)
			}
			if v.Email != "" {
				if a, err := mail.ParseAddress(v.Email); err != nil || a.Address != v.Email {
					t.Fatalf("email %q saved: %v", v.Email, err)
				}
			}
			return
		}
		var out map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusAccepted {
			t.Fatalf("answered %d %s", rec.Code, rec.Body)
		}
		m, err := d.s.store.MessageByID(context.Background(), uuid.MustParse(out["message_id"]))
		if err != nil {
			t.Fatalf("message %s: %v", out["message_id"], err)
		}
		files := len(m.Attachments) > 0 && string(m.Attachments) != "[]" && string(m.Attachments) != "null"
		if (m.Text == "" && !files) || m.Text != strings.TrimSpace(m.Text) || !utf8.ValidString(m.Text) || strings.ContainsRune(m.Text, 0) {
			t.Fatalf("message stored with text %q and files %s", m.Text, m.Attachments)
		}
		if int(kind)%len(handlers) != 1 && utf8.RuneCountInString(m.Text) > max(webchat.MaxTextLen, 1024) {
			t.Fatalf("a message of %d characters stored", utf8.RuneCountInString(m.Text))
		}
	})
}
