package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/cti/ctitest"
	"github.com/linedesk/linedesk/connectors/webchat"
	"github.com/linedesk/linedesk/workflows"
)

const siteOrigin = "https://shop.example.com"

// siteSetup is a line with a website channel.
type siteSetup struct {
	lineID, siteID int64
	secret         string
	api            string
}

func (a *app) newSite(lineName string, settings map[string]any) siteSetup {
	a.t.Helper()
	lineID := a.deskLine(lineName)
	if settings == nil {
		settings = map[string]any{}
	}
	if settings["site_name"] == nil {
		settings["site_name"] = "Zolotoe-Dno"
	}
	if settings["domain"] == nil {
		settings["domain"] = "shop.example.com"
	}
	res := a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "webchat", "name": "Site", "line_id": lineID, "settings": settings}, nil)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var ch struct {
		Channel struct {
			ID        int64  `json:"id"`
			EmbedCode string `json:"embed_code"`
		} `json:"channel"`
		Secret string `json:"secret"`
	}
	res.json(a.t, &ch)
	require.Equal(a.t, fmt.Sprintf(`<script src="%s/widget.js" data-site="%d" data-lang="ru" async></script>`, a.url, ch.Channel.ID), ch.Channel.EmbedCode)
	return siteSetup{lineID: lineID, siteID: ch.Channel.ID, secret: ch.Secret, api: fmt.Sprintf("/widget/v1/sites/%d", ch.Channel.ID)}
}

// visitorClient is a page of the site calling the widget API as the script does.
type visitorClient struct {
	a      *app
	site   siteSetup
	origin string
	token  string
	id     string
}

func (v *visitorClient) do(method, path string, body any) response {
	v.a.t.Helper()
	h := map[string]string{"Origin": v.origin}
	if v.token != "" {
		h["Authorization"] = "Bearer " + v.token
	}
	return v.a.do(&http.Client{}, method, v.site.api+path, body, h)
}

func (a *app) newVisitor(site siteSetup, body map[string]any) *visitorClient {
	a.t.Helper()
	v := &visitorClient{a: a, site: site, origin: siteOrigin}
	if body == nil {
		body = map[string]any{"page_url": siteOrigin + "/", "referrer": "https://search.example/?q=gold"}
	}
	res := v.do("POST", "/visitors", body)
	require.Equal(a.t, http.StatusCreated, res.status, res.text)
	var out struct {
		Token   string `json:"token"`
		Visitor struct {
			ID string `json:"id"`
		} `json:"visitor"`
	}
	res.json(a.t, &out)
	require.True(a.t, strings.HasPrefix(out.Token, "wv_"), out.Token)
	v.token, v.id = out.Token, out.Visitor.ID
	return v
}

type widgetMessageView struct {
	ID          string `json:"id"`
	Direction   string `json:"direction"`
	Text        string `json:"text"`
	Kind        string `json:"kind"`
	Author      string `json:"author"`
	Attachments []struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	} `json:"attachments"`
	Buttons []struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"buttons"`
}

func (v *visitorClient) messages(after string) []widgetMessageView {
	v.a.t.Helper()
	path := "/messages"
	if after != "" {
		path += "?after=" + after
	}
	res := v.do("GET", path, nil)
	require.Equal(v.a.t, http.StatusOK, res.status, res.text)
	var out struct {
		Items []widgetMessageView `json:"items"`
	}
	res.json(v.a.t, &out)
	return out.Items
}

func (v *visitorClient) send(clientID, text, page string) response {
	v.a.t.Helper()
	return v.do("POST", "/messages", map[string]any{"client_id": clientID, "text": text, "page_url": page})
}

// conversationOnLine waits for the visitor's conversation and returns its number and line.
func (a *app) visitorConversation(site siteSetup, chatExternal string) (number, line int64) {
	a.t.Helper()
	a.waitFor("the visitor's conversation", 20*time.Second, func() bool {
		err := a.store.Pool().QueryRow(a.t.Context(), `SELECT cv.number, cv.line_id FROM conversations cv JOIN chats c ON c.id = cv.chat_id
			WHERE c.channel_id = $1 AND c.external_id = $2 ORDER BY cv.number DESC LIMIT 1`, site.siteID, chatExternal).Scan(&number, &line)
		return err == nil
	})
	return number, line
}

// TestWidgetVisitorChatsWithAnOperator: a page of the site gets a visitor token, fills in the
// pre-chat form, writes; the message opens a conversation on the site's line with the page,
// referrer, address and browser in the client panel; the operator's reply (not their note)
// reaches the widget, announced on its stream; CSAT buttons come and their answer counts.
func TestWidgetVisitorChatsWithAnOperator(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", map[string]any{"widgets": []map[string]any{{"kind": "chat"}, {"kind": "form"}}})
	_, ann := a.newOperator("ann@desk.example", "Ann")

	// The widget runs only on the site's pages: no origin, another origin, plain http are refused.
	for _, origin := range []string{"", "https://evil.example", "http://shop.example.com", "https://shop.example.com.evil.example"} {
		res := a.do(&http.Client{}, "GET", site.api+"?page=x", nil, map[string]string{"Origin": origin})
		require.Equal(t, http.StatusForbidden, res.status, "origin %q: %s", origin, res.text)
		require.Equal(t, "origin_refused", res.errorCode(t))
	}
	res := a.do(&http.Client{}, "GET", site.api+"?page="+siteOrigin+"/&lang=en", nil, map[string]string{"Origin": "https://m.shop.example.com"})
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, "https://m.shop.example.com", res.header.Get("Access-Control-Allow-Origin"))
	var cfg struct {
		Site     struct{ Name string } `json:"site"`
		Language string                `json:"language"`
		Widgets  []webchat.Widget      `json:"widgets"`
		Route    struct {
			Online    bool `json:"online"`
			OfferForm bool `json:"offer_form"`
		} `json:"route"`
	}
	res.json(t, &cfg)
	require.Equal(t, "Zolotoe-Dno", cfg.Site.Name)
	require.Equal(t, "en", cfg.Language, "data-lang picks the language")
	require.False(t, cfg.Route.Online, "nobody is online yet")
	require.True(t, cfg.Route.OfferForm)
	// A browser's preflight for the widget's calls.
	res = a.do(&http.Client{}, "OPTIONS", site.api+"/messages", nil, map[string]string{"Origin": siteOrigin,
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	require.Contains(t, res.header.Get("Access-Control-Allow-Headers"), "Authorization")
	require.Equal(t, siteOrigin, res.header.Get("Access-Control-Allow-Origin"))

	// Ann comes online: the chat is offered.
	require.Equal(t, http.StatusOK, a.do(ann, "PUT", "/api/v1/me/status", map[string]string{"status": "online"}, nil).status)
	v := a.newVisitor(site, nil)
	res = v.do("POST", "/pings", map[string]any{"page_url": siteOrigin + "/catalog", "page_title": "Catalog"})
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.JSONEq(t, `{"online":true,"offer_form":true}`, res.text)
	require.Empty(t, v.messages(""))

	// The site asks for an email before the first message.
	res = v.send("m-1", "Is the ring in stock?", "")
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Equal(t, "email_required", res.errorCode(t))
	res = v.do("PUT", "/visitor", map[string]any{"name": "Vera", "email": "not-an-address"})
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	res = v.do("PUT", "/visitor", map[string]any{"name": "Vera", "email": "vera@example.com"})
	require.Equal(t, http.StatusOK, res.status, res.text)

	res = v.send("m-1", "Is the ring in stock?", "")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	var first struct {
		MessageID string `json:"message_id"`
	}
	res.json(t, &first)
	// Sent again (a retry after a lost answer): the same message, stored once.
	res = v.send("m-1", "Is the ring in stock?", "")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Contains(t, res.text, first.MessageID)
	// A retry from another page (the visitor moved on, their address changed) is the same message.
	require.Equal(t, http.StatusOK, v.do("POST", "/pings", map[string]any{"page_url": siteOrigin + "/cart"}).status)
	res = v.send("m-1", "Is the ring in stock?", siteOrigin+"/cart")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.Contains(t, res.text, first.MessageID)
	res = v.send("m-1", "another text", "")
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.text)
	require.Equal(t, http.StatusOK, v.do("POST", "/pings", map[string]any{"page_url": siteOrigin + "/catalog", "page_title": "Catalog"}).status)
	// A page address that is not the site's is not kept.
	require.Equal(t, http.StatusOK, v.do("POST", "/pings", map[string]any{"page_url": "javascript:alert(1)", "page_title": "Catalog"}).status)
	// Bad input changes nothing.
	for _, body := range []any{`{"client_id":"x"}`, `{"text":"no id"}`, `not json`, map[string]any{"client_id": "big", "text": strings.Repeat("я", webchat.MaxTextLen+1)}} {
		res = v.do("POST", "/messages", body)
		require.Equal(t, http.StatusBadRequest, res.status, "%v: %s", body, res.text)
	}

	n, line := a.visitorConversation(site, "v:"+v.id+"@"+strconv.FormatInt(site.lineID, 10))
	require.Equal(t, site.lineID, line)
	conv := a.conversation(n)
	require.Equal(t, "webchat", conv.Channel.Kind)
	require.Equal(t, "Vera", conv.Contact.Name)
	require.Equal(t, "vera@example.com", conv.Contact.Email)
	var fields map[string]string
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT ct.fields FROM contacts ct JOIN conversations cv ON cv.contact_id = ct.id
		WHERE cv.number = $1`, n).Scan(&fields))
	require.Equal(t, siteOrigin+"/cart", fields["page_url"], "the page the visitor last wrote from")
	require.Equal(t, "https://search.example/?q=gold", fields["referrer"])
	require.Equal(t, "127.0.0.1", fields["ip"])
	require.NotEmpty(t, fields["browser"])
	require.Len(t, v.messages(""), 1)

	// The widget's stream tells it of the reply; the reply (never the note) is in its history,
	// from Ann.
	stream := v.openStream(t)
	stream.next(t, "message") // the first event: read what was missed
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/take", nil, nil).status)
	require.Equal(t, http.StatusCreated, a.do(ann, "POST", path+"/notes", map[string]string{"text": "VIP, be nice"}, nil).status)
	res = a.do(ann, "POST", path+"/typing", nil, nil)
	require.Equal(t, http.StatusNoContent, res.status, res.text)
	require.Equal(t, `{"name":"Ann"}`, stream.next(t, "typing"))
	res = a.do(ann, "POST", path+"/messages", map[string]string{"text": "Yes, size 17 is here"}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	stream.next(t, "message")
	var got []widgetMessageView
	a.waitFor("the reply in the widget", 10*time.Second, func() bool {
		got = v.messages(first.MessageID)
		return len(got) == 1
	})
	require.Equal(t, "out", got[0].Direction)
	require.Equal(t, "Yes, size 17 is here", got[0].Text)
	require.Equal(t, "Ann", got[0].Author)
	for _, m := range v.messages("") {
		require.NotContains(t, m.Text, "VIP", "a note reached the visitor")
	}

	// A file from the visitor.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("client_id", "f-1"))
	fw, err := mw.CreateFormFile("file", "receipt.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("order 1042, paid"))
	require.NoError(t, mw.Close())
	res = a.do(&http.Client{}, "POST", site.api+"/messages", buf.Bytes(), map[string]string{"Origin": siteOrigin,
		"Authorization": "Bearer " + v.token, "Content-Type": mw.FormDataContentType()})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	var withFile []widgetMessageView
	a.waitFor("the file in the widget", 10*time.Second, func() bool {
		withFile = v.messages("")
		return len(withFile) == 3
	})
	require.Len(t, withFile[2].Attachments, 1)
	require.Equal(t, "receipt.txt", withFile[2].Attachments[0].Name)
	fileRes, err := http.Get(withFile[2].Attachments[0].URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(fileRes.Body)
	fileRes.Body.Close()
	require.Equal(t, http.StatusOK, fileRes.StatusCode)
	require.Equal(t, "order 1042, paid", string(body))

	// Closing with CSAT: three buttons in the widget; the visitor's answer counts.
	res = a.do(ann, "POST", path+"/close", map[string]any{"type": "Support", "solution": "Reserved", "send_csat": true, "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var csat widgetMessageView
	a.waitFor("the CSAT question", 10*time.Second, func() bool {
		for _, m := range v.messages("") {
			if len(m.Buttons) == 3 {
				csat = m
				return true
			}
		}
		return false
	})
	require.Equal(t, workflows.CSATPayload(n, 3), csat.Buttons[2].Payload)
	res = v.do("POST", "/messages", map[string]any{"client_id": "csat-1", "button": csat.Buttons[2].Payload})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	a.waitFor("the CSAT answer", 20*time.Second, func() bool {
		c := a.conversation(n)
		return c.CSAT != nil && *c.CSAT == 3
	})

	// The supervisors' live list shows the visitor where they are.
	res = a.do(a.http, "GET", "/api/v1/visitors", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var live struct {
		Items []struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			PageURL   string `json:"page_url"`
			PageTitle string `json:"page_title"`
			IP        string `json:"ip"`
			Site      string `json:"site"`
		} `json:"items"`
	}
	res.json(t, &live)
	require.Len(t, live.Items, 1)
	require.Equal(t, v.id, live.Items[0].ID)
	require.Equal(t, "Vera", live.Items[0].Name)
	require.Equal(t, siteOrigin+"/catalog", live.Items[0].PageURL)
	require.Equal(t, "Catalog", live.Items[0].PageTitle)
	require.Equal(t, "127.0.0.1", live.Items[0].IP)
	require.Equal(t, "Site", live.Items[0].Site)
	// An operator sees no live list.
	require.Equal(t, http.StatusForbidden, a.do(ann, "GET", "/api/v1/visitors", nil, nil).status)
}

// sseStream reads a widget's event stream.
type sseStream struct {
	events chan [2]string
}

func (v *visitorClient) openStream(t *testing.T) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", v.a.url+v.site.api+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", v.origin)
	req.Header.Set("Authorization", "Bearer "+v.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	s := &sseStream{events: make(chan [2]string, 100)}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev != "":
				s.events <- [2]string{ev, data}
				ev, data = "", ""
			}
		}
	}()
	return s
}

// next waits for the next event of a kind (others are skipped) and returns its data.
func (s *sseStream) next(t *testing.T, kind string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-s.events:
			if e[0] == kind {
				return e[1]
			}
		case <-deadline:
			t.Fatalf("no %s event on the widget's stream", kind)
		}
	}
}

// TestWidgetVisitorReadsOnlyTheirOwnChat: a second visitor, with their own token, never sees
// the first one's messages (not even by naming one as the position to read after); a token is
// worth nothing on another site, a made-up one nothing anywhere; a session cookie opens nothing.
func TestWidgetVisitorReadsOnlyTheirOwnChat(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", map[string]any{"prechat": map[string]any{"hide_email": true, "hide_name": true}})
	other := a.newSite("Other web", map[string]any{"domain": "other.example.org"})
	first, second := a.newVisitor(site, nil), a.newVisitor(site, nil)
	res := first.send("a-1", "my order 777 address: Tverskaya 1", "")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	var m struct {
		MessageID string `json:"message_id"`
	}
	res.json(t, &m)
	res = second.send("b-1", "hello", "")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	own := second.messages("")
	require.Len(t, own, 1)
	require.Equal(t, "hello", own[0].Text)
	for _, msg := range second.messages("00000000-0000-0000-0000-000000000000") {
		require.NotContains(t, msg.Text, "Tverskaya")
	}
	// Reading "after" the first visitor's message lists only the second's own messages.
	for _, msg := range second.messages(m.MessageID) {
		require.NotContains(t, msg.Text, "Tverskaya")
	}
	// The first visitor's client_id, used by the second, is the second's own message.
	res = second.send("a-1", "mine", "")
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	require.NotContains(t, res.text, m.MessageID)

	// A token of this site on another site, a forged token, no token, a console session.
	stranger := &visitorClient{a: a, site: other, origin: "https://other.example.org", token: first.token}
	res = stranger.do("GET", "/messages", nil)
	require.Equal(t, http.StatusUnauthorized, res.status, res.text)
	forged := &visitorClient{a: a, site: site, origin: siteOrigin, token: "wv_" + strings.Repeat("A", 43)}
	require.Equal(t, http.StatusUnauthorized, forged.do("GET", "/messages", nil).status)
	none := &visitorClient{a: a, site: site, origin: siteOrigin}
	require.Equal(t, http.StatusUnauthorized, none.do("GET", "/messages", nil).status)
	res = a.do(a.http, "GET", site.api+"/messages", nil, map[string]string{"Origin": siteOrigin})
	require.Equal(t, http.StatusUnauthorized, res.status, "the admin's session is not a visitor token")
	// The token is good only from the site's pages.
	evil := &visitorClient{a: a, site: site, origin: "https://evil.example", token: first.token}
	require.Equal(t, http.StatusForbidden, evil.do("GET", "/messages", nil).status)

	// With the name hidden the operator sees "Посетитель"; the address is made up.
	n, _ := a.visitorConversation(site, "v:"+first.id+"@"+strconv.FormatInt(site.lineID, 10))
	c := a.conversation(n)
	require.Equal(t, "Посетитель", c.Contact.Name)
	require.True(t, strings.HasSuffix(c.Contact.Email, "@shop.example.com.invalid"), c.Contact.Email)
}

// TestWidgetScenarioRoutesPricingToSales: the site's scenario sends /pricing pages' visitors to
// the sales line; other pages stay with the site's line; an inactive scenario does nothing.
func TestWidgetScenarioRoutesPricingToSales(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	res := a.do(a.http, "POST", "/api/v1/lines", map[string]any{"name": "Sales", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var sales struct {
		ID int64 `json:"id"`
	}
	res.json(t, &sales)
	g := a.deskOperators()
	g.LineIDs = append(g.LineIDs, sales.ID)
	_, err := a.store.SaveGroup(t.Context(), g)
	require.NoError(t, err)
	// A scenario naming a line that does not exist is refused at save.
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "webchat", "name": "Bad", "line_id": sales.ID,
		"settings": map[string]any{"site_name": "S", "domain": "shop.example.com", "scenarios": []map[string]any{
			{"active": true, "match": "partial", "urls": []string{"/x"}, "line_id": 999999}}}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "settings.scenarios[0].line_id 999999 does not exist")

	site := a.newSite("Support", map[string]any{"prechat": map[string]any{"email_optional": true}, "scenarios": []map[string]any{
		{"name": "off", "active": false, "match": "partial", "urls": []string{"/about"}, "line_id": sales.ID},
		{"name": "Pricing", "active": true, "match": "partial", "urls": []string{"/pricing"}, "line_id": sales.ID}}})
	v := a.newVisitor(site, nil)
	require.Equal(t, http.StatusAccepted, v.send("p-1", "how much for 100 seats?", siteOrigin+"/pricing?plan=team").status)
	n, line := a.visitorConversation(site, fmt.Sprintf("v:%s@%d", v.id, sales.ID))
	require.Equal(t, sales.ID, line, "the /pricing page's chat is the sales line's")
	require.Equal(t, int(sales.ID), a.queryInt(`SELECT line_id::int FROM conversations WHERE number = $1`, n))

	w := a.newVisitor(site, nil)
	require.Equal(t, http.StatusAccepted, w.send("q-1", "my parcel?", siteOrigin+"/about").status)
	_, line = a.visitorConversation(site, fmt.Sprintf("v:%s@%d", w.id, site.lineID))
	require.Equal(t, site.lineID, line, "an inactive scenario routes nothing")
}

// TestWidgetOfflineFormAndCallBack: with nobody online the chat gives way to the request form,
// which opens a request titled as one; a call-back request's title is the number to call, and
// the operator's call to that number through the desk's PBX is the visitor's call.
func TestWidgetOfflineFormAndCallBack(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", map[string]any{"widgets": []map[string]any{{"kind": "chat"}, {"kind": "form"}, {"kind": "callback"}}})
	v := a.newVisitor(site, nil)
	res := v.do("POST", "/pings", map[string]any{"page_url": siteOrigin + "/contacts"})
	require.JSONEq(t, `{"online":false,"offer_form":true}`, res.text)

	res = v.do("POST", "/requests", map[string]any{"kind": "form", "client_id": "r-1", "text": "Please call about the order"})
	require.Equal(t, http.StatusBadRequest, res.status, "a form needs a way to answer: %s", res.text)
	res = v.do("POST", "/requests", map[string]any{"kind": "popup", "client_id": "r-1"})
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	res = v.do("POST", "/requests", map[string]any{"kind": "form", "client_id": "r-1", "name": "Oleg", "email": "oleg@example.com",
		"text": "Please call about the order"})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	n, _ := a.visitorConversation(site, fmt.Sprintf("v:%s@%d/form/r-1", v.id, site.lineID))
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil)
	var conv struct {
		Title   string `json:"title"`
		Kind    string `json:"kind"`
		Status  string `json:"status"`
		Contact struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"contact"`
	}
	res.json(t, &conv)
	require.Equal(t, "Заявка с сайта", conv.Title)
	require.Equal(t, workflows.KindRequest, conv.Kind)
	require.Equal(t, "Oleg", conv.Contact.Name)
	var msgs []messageView
	a.waitFor("the form's message", 10*time.Second, func() bool { msgs = a.messages(n); return len(msgs) == 1 })
	require.Contains(t, msgs[0].Text, "Эл. почта: oleg@example.com")
	require.Contains(t, msgs[0].Text, "Please call about the order")

	res = v.do("POST", "/requests", map[string]any{"kind": "callback", "client_id": "r-2", "name": "Oleg", "when": "после 15:00"})
	require.Equal(t, http.StatusBadRequest, res.status, "a call-back needs the number: %s", res.text)
	res = v.do("POST", "/requests", map[string]any{"kind": "callback", "client_id": "r-2", "name": "Oleg", "phone": "+7 912 000-11-22", "when": "после 15:00"})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	cb, _ := a.visitorConversation(site, fmt.Sprintf("v:%s@%d/callback/r-2", v.id, site.lineID))
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", cb), nil, nil)
	res.json(t, &conv)
	require.Equal(t, "Обратный звонок: +7 912 000-11-22", conv.Title)
	a.waitFor("the call-back's message", 10*time.Second, func() bool { msgs = a.messages(cb); return len(msgs) == 1 })
	require.Contains(t, msgs[0].Text, "Удобное время: после 15:00")
	// The operator calls the number back through the desk's PBX: the call is Oleg's, so it sits
	// with his conversations.
	_, phone := a.messengerLine("phone", map[string]any{}, nil)
	hook := a.phoneHook(phone.Channel.ID)
	_, op := a.newOperator("pavel.callback@example.com", "Pavel")
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("cb-1", "74950000000", "89120001122", "out"), false))
	calls := a.calls(op, "")
	require.Len(t, calls, 1)
	require.NotNil(t, calls[0].Contact, "the call-back's number found no contact")
	require.Equal(t, "Oleg", calls[0].Contact.Name)

	// A second call-back request is a request of its own; the first keeps its title.
	res = v.do("POST", "/requests", map[string]any{"kind": "callback", "client_id": "r-3", "phone": "+7 900 111-22-33"})
	require.Equal(t, http.StatusAccepted, res.status, res.text)
	cb2, _ := a.visitorConversation(site, fmt.Sprintf("v:%s@%d/callback/r-3", v.id, site.lineID))
	require.NotEqual(t, cb, cb2)
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", cb), nil, nil)
	res.json(t, &conv)
	require.Equal(t, "Обратный звонок: +7 912 000-11-22", conv.Title)

	// A site without the call-back widget takes no call-back requests.
	plain := a.newSite("Plain", map[string]any{"domain": "plain.example.com"})
	p := &visitorClient{a: a, site: plain, origin: "https://plain.example.com"}
	res = p.do("POST", "/visitors", map[string]any{})
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var pv struct {
		Token string `json:"token"`
	}
	res.json(t, &pv)
	p.token = pv.Token
	res = p.do("POST", "/requests", map[string]any{"kind": "callback", "client_id": "c", "phone": "+7 900"})
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
}

// TestWidgetIdentityFollowsTheUser: a page naming a signed-in user with the site's signature
// gets that user's history on any device; a wrong signature is refused.
func TestWidgetIdentityFollowsTheUser(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", map[string]any{"prechat": map[string]any{"email_optional": true}})
	res := (&visitorClient{a: a, site: site, origin: siteOrigin}).do("POST", "/visitors", map[string]any{"user_id": "42", "user_hash": webchat.IdentityHash("guess", "42")})
	require.Equal(t, http.StatusForbidden, res.status, res.text)
	require.Equal(t, "identity_refused", res.errorCode(t))

	hash := webchat.IdentityHash(site.secret, "42")
	laptop := a.newVisitor(site, map[string]any{"user_id": "42", "user_hash": hash, "name": "Lev", "email": "lev@example.com"})
	require.Equal(t, http.StatusAccepted, laptop.send("l-1", "from the laptop", "").status)
	phone := a.newVisitor(site, map[string]any{"user_id": "42", "user_hash": hash})
	a.waitFor("the laptop's message on the phone", 10*time.Second, func() bool {
		got := phone.messages("")
		return len(got) == 1 && got[0].Text == "from the laptop"
	})
	res = phone.do("GET", "/visitor", nil)
	require.Contains(t, res.text, `"identified":true`)
	// The phone names nobody: the contact keeps Lev's name and address.
	require.Equal(t, http.StatusAccepted, phone.send("p-1", "from the phone", "").status)
	n, _ := a.visitorConversation(site, fmt.Sprintf("u:42@%d", site.lineID))
	a.waitFor("the phone's message", 10*time.Second, func() bool { return len(a.messages(n)) == 2 })
	c := a.conversation(n)
	require.Equal(t, "Lev", c.Contact.Name)
	require.Equal(t, "lev@example.com", c.Contact.Email)
}

// TestWidgetSiteSettings: the admin's settings are checked field by field, kept with defaults.
func TestWidgetSiteSettings(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", nil)
	res := a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/channels/%d", site.siteID), map[string]any{"settings": map[string]any{
		"site_name": "Z", "domain": "https://zolotoedno.ru/", "appearance": map[string]any{"visitor_background": "red"}}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "settings.domain")
	require.Contains(t, res.text, "settings.appearance.visitor_background")
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d", site.siteID), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"domain":"shop.example.com"`, "a refused change changes nothing")
	require.Contains(t, res.text, `"visitor_background":"`+webchat.DefaultVisitorBack+`"`, "defaults are kept with the settings")
	res = a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "webchat", "name": "S", "line_id": site.lineID,
		"settings": map[string]any{"site_name": "S", "domain": "s.example.com"}, "credentials": map[string]string{"x": "y"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	// A disabled site's widget is gone.
	res = a.do(a.http, "PATCH", fmt.Sprintf("/api/v1/channels/%d", site.siteID), map[string]any{"enabled": false}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	res = a.do(&http.Client{}, "GET", site.api, nil, map[string]string{"Origin": siteOrigin})
	require.Equal(t, http.StatusNotFound, res.status, res.text)
}

// TestWidgetScriptIsSmall: the script is served gzipped and stays within its budget (issue 11:
// 30 KB gzipped).
func TestWidgetScriptIsSmall(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	req, err := http.NewRequest("GET", a.url+"/widget.js", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	require.Contains(t, res.Header.Get("Content-Type"), "javascript")
	gz, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	t.Logf("widget.js: %d bytes gzipped", len(gz))
	require.Less(t, len(gz), 30<<10, "the widget script is over its 30 KB gzipped budget")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Contains(t, string(plain), "LinedeskWidget")
}

// TestWidgetShowsAMessageSentLate: a desk message held back (a broadcast while an operator
// answers) is sent after the visitor's later messages; the widget's read of the latest
// messages still has it.
func TestWidgetShowsAMessageSentLate(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	site := a.newSite("Web", map[string]any{"prechat": map[string]any{"hide_email": true, "hide_name": true}})
	_, ann := a.newOperator("ann@desk.example", "Ann")
	v := a.newVisitor(site, nil)
	require.Equal(t, http.StatusAccepted, v.send("m-1", "hello", "").status)
	n, _ := a.visitorConversation(site, fmt.Sprintf("v:%s@%d", v.id, site.lineID))
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(ann, "POST", path+"/take", nil, nil).status)
	res := a.do(a.http, "POST", "/api/v1/chats/"+a.conversation(n).ChatID+"/automated", map[string]string{"kind": "broadcast", "text": "SALE -20%"}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Equal(t, http.StatusAccepted, v.send("m-2", "still there?", "").status)
	for _, m := range v.messages("") {
		require.NotEqual(t, "SALE -20%", m.Text, "a held-back message showed before it was sent")
	}
	res = a.do(ann, "POST", path+"/close", map[string]any{"type": "Support", "solution": "ok", "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	a.waitFor("the broadcast in the widget's latest read", 20*time.Second, func() bool {
		for _, m := range v.messages("") {
			if m.Text == "SALE -20%" {
				return true
			}
		}
		return false
	})
}

// TestWidgetChatLineUnderConcurrentFirstMessages: first messages racing each other agree on the
// chat's line and none fails.
func TestWidgetChatLineUnderConcurrentFirstMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{noTemporal: true})
	site := a.newSite("Web", nil)
	errs := make(chan error, 400)
	for round := range 50 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				line, err := a.store.FixChatLine(t.Context(), site.siteID, fmt.Sprintf("v:race-%d@x", round), site.lineID)
				if err == nil && line != site.lineID {
					err = fmt.Errorf("line %d, want %d", line, site.lineID)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestWidgetLimitsCountTheClientBehindAProxy: new visitors are limited per client address. A
// client naming other addresses in X-Forwarded-For gains nothing; behind a trusted reverse
// proxy each client counts alone, the address kept is the client's, and a forged hop the proxy
// passed along is not believed.
func TestWidgetLimitsCountTheClientBehindAProxy(t *testing.T) {
	t.Parallel()
	newVisitorFrom := func(a *app, site siteSetup, forwardedFor string) response {
		return a.do(&http.Client{}, "POST", site.api+"/visitors", map[string]any{"page_url": siteOrigin + "/"},
			map[string]string{"Origin": siteOrigin, "X-Forwarded-For": forwardedFor})
	}
	direct := newApp(t, appOptions{})
	site := direct.newSite("Web", nil)
	for i := range 20 {
		res := newVisitorFrom(direct, site, fmt.Sprintf("203.0.113.%d", i))
		require.Equal(t, http.StatusCreated, res.status, res.text)
	}
	res := newVisitorFrom(direct, site, "198.51.100.1")
	require.Equal(t, http.StatusTooManyRequests, res.status, "X-Forwarded-For from an untrusted peer must not pick the address: %s", res.text)

	_, loopback, err := net.ParseCIDR("127.0.0.1/32")
	require.NoError(t, err)
	proxied := newApp(t, appOptions{trustedProxies: []*net.IPNet{loopback}})
	site = proxied.newSite("Web", nil)
	for i := range 25 {
		res := newVisitorFrom(proxied, site, fmt.Sprintf("203.0.113.%d", i))
		require.Equal(t, http.StatusCreated, res.status, "client %d behind the proxy: %s", i, res.text)
	}
	for i := range 20 {
		res := newVisitorFrom(proxied, site, fmt.Sprintf("10.9.9.%d, 198.51.100.7", i))
		require.Equal(t, http.StatusCreated, res.status, res.text)
	}
	res = newVisitorFrom(proxied, site, "10.9.9.250, 198.51.100.7")
	require.Equal(t, http.StatusTooManyRequests, res.status, "a forged first hop made a new client: %s", res.text)

	res = proxied.do(proxied.http, "GET", "/api/v1/visitors", nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	var live struct {
		Items []struct {
			IP string `json:"ip"`
		} `json:"items"`
	}
	res.json(t, &live)
	ips := map[string]bool{}
	for _, v := range live.Items {
		ips[v.IP] = true
	}
	require.True(t, ips["203.0.113.24"] && ips["198.51.100.7"] && !ips["127.0.0.1"] && !ips["10.9.9.3"], "%v", ips)
}
