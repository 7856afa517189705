package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// timelineItem is one row of a conversation's exported history: a message or an event (an
// action, a timer that fired, a routing decision), in the order they happened.
type timelineItem struct {
	At      time.Time            `json:"at"`
	Type    string               `json:"type"` // message or event
	Message *store.Message       `json:"message,omitempty"`
	Event   *store.TimelineEntry `json:"event,omitempty"`
}

// conversationRecord is everything the desk knows of one conversation, for an export.
type conversationRecord struct {
	conv     store.Conversation
	messages []store.Message
	timeline []timelineItem
}

func (s *Server) conversationRecord(ctx context.Context, n int64) (conversationRecord, error) {
	var r conversationRecord
	var err error
	if r.conv, err = s.store.ConversationByNumber(ctx, n); err != nil {
		return r, err
	}
	if r.messages, err = s.store.ConversationMessages(ctx, n); err != nil {
		return r, err
	}
	events, err := s.store.ConversationEvents(ctx, n)
	if err != nil {
		return r, err
	}
	for i := range r.messages {
		r.timeline = append(r.timeline, timelineItem{At: r.messages[i].CreatedAt, Type: "message", Message: &r.messages[i]})
	}
	for i := range events {
		r.timeline = append(r.timeline, timelineItem{At: events[i].At, Type: "event", Event: &events[i]})
	}
	// Messages and events each come in their own order; a stable sort by time keeps it within
	// each, and a message goes before the event it caused at the same instant.
	sort.SliceStable(r.timeline, func(i, j int) bool { return r.timeline[i].At.Before(r.timeline[j].At) })
	return r, nil
}

// exportConversation serves GET /conversations/:number/export?format=json|csv: the whole
// history as a file to keep or to load into a spreadsheet.
func (s *Server) exportConversation(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return newError(http.StatusBadRequest, "invalid_fields", "format must be json or csv")
	}
	r, err := s.conversationRecord(c.Request().Context(), n)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="conversation-%d.%s"`, n, format))
	if format == "json" {
		timeline := r.timeline
		if timeline == nil {
			timeline = []timelineItem{}
		}
		return c.JSON(http.StatusOK, map[string]any{"conversation": r.conv, "timeline": timeline, "exported_at": time.Now().UTC()})
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	_, _ = res.Write([]byte("\ufeff")) // spreadsheets read the file as UTF-8 with it
	w := csv.NewWriter(res)
	_ = w.Write([]string{"at", "type", "who", "kind", "text", "details"})
	for _, it := range r.timeline {
		_ = w.Write(csvRow(r.conv, it))
	}
	w.Flush()
	return nil // a client that went away mid-file has nothing to be told
}

func csvRow(conv store.Conversation, it timelineItem) []string {
	at := it.At.UTC().Format(time.RFC3339Nano)
	if m := it.Message; m != nil {
		kind := m.Direction
		if m.Kind != "" {
			kind += "/" + m.Kind
		}
		var details []string
		for _, a := range attachmentNames(m.Attachments) {
			details = append(details, "file: "+a)
		}
		if m.Status != "" {
			details = append(details, "status: "+m.Status)
		}
		return cells(at, "message", messageAuthor(conv, *m, "client", "linedesk"), kind, m.Text, strings.Join(details, "; "))
	}
	e := it.Event
	who := "linedesk"
	if e.Actor != nil {
		who = e.Actor.Name
	}
	details := ""
	if len(e.Data) > 0 && string(e.Data) != "null" && string(e.Data) != "{}" {
		details = string(e.Data)
	}
	return cells(at, "event", who, e.Kind, "", details)
}

// cells guards a row against spreadsheet formulas: a client's "=HYPERLINK(…)" stays text.
func cells(v ...string) []string {
	for i, s := range v {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			v[i] = "'" + s
		}
	}
	return v
}

func attachmentNames(raw json.RawMessage) []string {
	var files []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	_ = json.Unmarshal(raw, &files)
	var out []string
	for _, f := range files {
		out = append(out, firstOf(f.Name, f.URL))
	}
	return out
}

// messageAuthor names who wrote a message: the operator, the client, or the desk itself.
func messageAuthor(conv store.Conversation, m store.Message, client, desk string) string {
	switch {
	case m.Author != nil:
		return m.Author.Name
	case m.Direction == workflows.DirectionIn:
		return firstOf(conv.Contact.Name, client)
	default:
		return desk
	}
}

var transcriptWords = map[string]map[string]string{
	"ru": {"conversation": "Обращение", "channel": "Канал", "opened": "Открыто", "closed": "Закрыто",
		"type": "Тип", "solution": "Решение", "client": "Клиент", "desk": "Автоматическое сообщение", "file": "Файл",
		"printed": "Распечатано", "none": "Сообщений нет"},
	"en": {"conversation": "Conversation", "channel": "Channel", "opened": "Opened", "closed": "Closed",
		"type": "Type", "solution": "Solution", "client": "Client", "desk": "Automated message", "file": "File",
		"printed": "Printed", "none": "No messages"},
}

var transcriptPage = template.Must(template.New("transcript").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.W.conversation}} #{{.Conv.Number}}{{with .Conv.Title}} — {{.}}{{end}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;max-width:46rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.3rem;margin:0 0 .75rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 1.5rem}
dt{color:#555}dd{margin:0}.m{border-top:1px solid #ddd;padding:.5rem 0;break-inside:avoid}.who{font-weight:600}
.at{color:#666;font-size:.85em;margin-left:.5rem}.t{white-space:pre-wrap;margin:.2rem 0 0}.in .who{color:#1d4ed8}
.foot{color:#666;font-size:.85em;margin-top:1.5rem;border-top:1px solid #ddd;padding-top:.5rem}
@media print{body{margin:0;max-width:none}}
</style></head><body>
<h1>{{.W.conversation}} #{{.Conv.Number}}{{with .Conv.Title}} — {{.}}{{end}}</h1>
<dl>
<dt>{{.W.client}}</dt><dd>{{.Client}}</dd>
<dt>{{.W.channel}}</dt><dd>{{.Conv.Channel.Name}}</dd>
<dt>{{.W.opened}}</dt><dd>{{.Opened}}</dd>
{{with .Closed}}<dt>{{$.W.closed}}</dt><dd>{{.}}</dd>{{end}}
{{with .Conv.Type}}<dt>{{$.W.type}}</dt><dd>{{.}}</dd>{{end}}
{{with .Conv.Solution}}<dt>{{$.W.solution}}</dt><dd>{{.}}</dd>{{end}}
</dl>
{{range .Lines}}<div class="m {{.Direction}}"><span class="who">{{.Who}}</span><span class="at">{{.At}}</span>
{{with .Text}}<p class="t">{{.}}</p>{{end}}{{range .Files}}<p class="t">{{$.W.file}}: {{.}}</p>{{end}}</div>
{{else}}<p>{{.W.none}}</p>{{end}}
<p class="foot">{{.W.printed}} {{.Printed}} · linedesk</p>
</body></html>
`))

type transcriptLine struct {
	Who, At, Text, Direction string
	Files                    []string
}

// conversationTranscript serves GET /conversations/:number/transcript: the conversation as a
// page to print or save as PDF — what the client and the desk said to each other as the client
// saw it: no internal notes or system lines, no reply that never reached them, and the line's
// name instead of the operator's where the line hides operators' names.
func (s *Server) conversationTranscript(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	lang := c.QueryParam("lang")
	if lang == "" {
		lang = "ru"
	}
	w, ok := transcriptWords[lang]
	if !ok {
		return newError(http.StatusBadRequest, "invalid_fields", "lang must be ru or en")
	}
	loc := time.UTC
	if tz := c.QueryParam("tz"); tz != "" {
		// "Local" would be the server's zone, which means nothing to the reader.
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return newError(http.StatusBadRequest, "invalid_fields", "tz must be an IANA time zone such as Europe/Moscow")
		}
	}
	stamp := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") + zoneSuffix(loc) }
	r, err := s.conversationRecord(c.Request().Context(), n)
	if err != nil {
		return err
	}
	data := struct {
		Lang, Client, Opened, Closed, Printed string
		W                                     map[string]string
		Conv                                  store.Conversation
		Lines                                 []transcriptLine
	}{Lang: lang, W: w, Conv: r.conv, Client: firstOf(r.conv.Contact.Name, w["client"]), Opened: stamp(r.conv.CreatedAt),
		Printed: stamp(time.Now())}
	if r.conv.ClosedAt != nil {
		data.Closed = stamp(*r.conv.ClosedAt)
	}
	line, err := s.store.LineByID(c.Request().Context(), r.conv.LineID)
	if err != nil {
		return err
	}
	for _, m := range r.messages {
		if !clientSaw(m) {
			continue
		}
		who := messageAuthor(r.conv, m, w["client"], w["desk"])
		if m.Direction == workflows.DirectionOut && m.Author != nil && line.HideOperatorName {
			who = line.Name // the line shows clients its own name, not the operator's
		}
		data.Lines = append(data.Lines, transcriptLine{Who: who, At: stamp(m.CreatedAt),
			Text: m.Text, Direction: m.Direction, Files: attachmentNames(m.Attachments)})
	}
	var buf bytes.Buffer
	if err := transcriptPage.Execute(&buf, data); err != nil {
		return err
	}
	// The page has no script; its own inline style is all it needs.
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// clientSaw tells whether the client received a message: theirs, or the desk's once it was
// sent (the rule the widget reads by too) — no notes, system lines, or replies that failed or
// are still on their way.
func clientSaw(m store.Message) bool {
	switch m.Direction {
	case workflows.DirectionIn:
		return true
	case workflows.DirectionOut:
		return m.Status == workflows.MessageSent || m.Status == workflows.MessageDelivered || m.Status == workflows.MessageRead
	}
	return false
}

func zoneSuffix(loc *time.Location) string {
	if loc == time.UTC {
		return " UTC"
	}
	return " " + loc.String()
}
