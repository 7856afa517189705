package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// widgetHelpers reach into the widget's shadow root on the site's page.
const widgetHelpers = `window.__w = {
  root() { const h = document.querySelector("#linedesk-widget"); return h && h.shadowRoot; },
  q(sel) { const r = __w.root(); return r && r.querySelector(sel); },
  text() { const r = __w.root(); const p = r && r.querySelector(".panel"); return p ? p.innerText : ""; },
  fill(form, name, value) {
    const f = __w.q(form); if (!f) return "no form " + form;
    const i = f.querySelector("[name=" + name + "]"); if (!i) return "no field " + name;
    i.value = value; return "";
  },
};`

// TestWidgetOnAnotherSiteChatsWithTheConsole: a shop's page on another origin embeds the
// widget with the tag the desk generated; a visitor fills in the pre-chat form and writes; the
// operator, online, sees it in the console, answers, and the visitor sees the answer live; the
// operator closes with CSAT and the visitor's button press counts. With nobody online the widget
// offers the request form instead, which opens a request for the operators.
func TestWidgetOnAnotherSiteChatsWithTheConsole(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	admin := adminClient(t, dev.url)
	status, line := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "Web", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)
	lineID := int64(line["id"].(float64))
	olgaID := admin.createUser(t, "olga@desk.example", "Olga", "operator")
	admin.createGroup(t, map[string]any{"name": "Web operators", "kind": "operators", "line_ids": []int64{lineID},
		"permissions": []string{"omni", "unassigned_queue"}, "member_ids": []int64{olgaID}})
	// The admin adds the site in the console (in a browser profile of its own: the operator
	// signs in elsewhere), takes the script it generates and looks at the preview.
	adminCtx, cancelAdmin := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelAdmin()
	ad := ui{t, adminCtx}
	ad.open(dev.url + "/")
	_, err := chromedp.Run(adminCtx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, adminCtx, dev.url, "admin@example.com", "admin")
	ad.open(dev.url + "/admin/channels/new")
	ad.fill("Kind", "webchat")
	ad.fill("Channel name", "Shop site")
	ad.fill("Line", fmt.Sprint(lineID))
	ad.fill("Site name", "Gold Shop")
	ad.fill("Domain name", "https://localhost/")
	ad.fill("Widget language", "en")
	ad.click("Create")
	embed := ad.value("Widget script")
	require.Contains(t, embed, dev.url+"/widget.js")
	ad.see("Site secret")
	ad.click("Open the channel settings")
	ad.do("the preview draws the widget", `(() => { const b = document.querySelector("[data-testid=widget-preview]"); const p = b && b.shadowRoot && b.shadowRoot.querySelector(".panel"); return p && p.innerText.includes("Gold Shop") && p.innerText.includes("Shall I reserve one?") ? "" : "no preview"; })()`)
	ad.do("a purple widget", `(() => { const i = [...document.querySelectorAll("input[type=color]")][3]; if (!i) return "no colour input"; const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set; set.call(i, "#7c3aed"); i.dispatchEvent(new Event("input", { bubbles: true })); return ""; })()`)
	ad.do("the preview follows", `(() => { const b = document.querySelector("[data-testid=widget-preview]"); const l = b.shadowRoot.querySelector(".launch"); return l && getComputedStyle(l).backgroundColor === "rgb(124, 58, 237)" ? "" : "not purple yet"; })()`)
	ad.click("Save site settings")
	ad.see("Saved")
	var saved struct {
		Settings struct {
			Appearance map[string]any `json:"appearance"`
		} `json:"settings"`
	}
	admin.waitForChannel(t, "Shop site", &saved, func() bool { return saved.Settings.Appearance["visitor_background"] == "#7c3aed" })
	require.Equal(t, "#7c3aed", saved.Settings.Appearance["visitor_background"], "the colour chosen on the page was not saved")
	ad.do("show the preview", `(document.querySelector("[data-testid=widget-preview]").scrollIntoView(), "")`)
	screenshot(t, adminCtx, shots, "widget-settings")

	// The shop: a page on another origin (localhost, not the desk's 127.0.0.1) with the tag.
	shop := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Gold Shop — rings</title></head><body><h1>Rings</h1><p>Gold rings, sizes 15 to 20.</p>%s</body></html>`, embed)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	shop.Listener = ln
	shop.Start()
	t.Cleanup(shop.Close)
	shopURL := strings.Replace(shop.URL, "127.0.0.1", "localhost", 1) + "/rings"

	olga := loginAs(t, dev.url, "olga@desk.example", "secret123")
	status, _ = putJSON(t, olga, dev.url+"/api/v1/me/status", map[string]string{"status": "online"})
	require.Equal(t, http.StatusOK, status)

	// The visitor opens the widget, fills in the pre-chat form and writes.
	v := ui{t, ctx}
	v.open(shopURL)
	w := func(what, js string) {
		t.Helper()
		v.do(what, `(() => { if (!window.__w) { `+widgetHelpers+` } return `+js+`; })()`)
	}
	w("the launcher", `__w.q(".launch") ? "" : "no launcher"`)
	w("open the widget", `(__w.q(".launch").click(), "")`)
	w("the pre-chat form", `__w.q("form.prechat") ? "" : "no pre-chat form: " + __w.text()`)
	w("name", `__w.fill("form.prechat", "name", "Vera")`)
	w("email", `__w.fill("form.prechat", "email", "vera@example.com")`)
	w("start", `(__w.q("form.prechat").requestSubmit(), "")`)
	w("the chat", `__w.q(".compose textarea") ? "" : "no chat: " + __w.text()`)
	w("write", `(__w.q(".compose textarea").value = "Is the size 17 ring in stock?", __w.q(".compose .send").click(), "")`)
	w("the message sent", `[...__w.root().querySelectorAll(".m.in")].some(m => m.textContent.includes("size 17") && !m.classList.contains("pending")) ? "" : "not sent"`)

	// Olga answers from the console, in a tab of her own.
	consoleCtx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	c := ui{t, consoleCtx}
	c.open(dev.url + "/")
	_, err = chromedp.Run(consoleCtx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, consoleCtx, dev.url, "olga@desk.example", "secret123")
	c.open(dev.url + "/inbox?view=unassigned")
	c.see("Is the size 17 ring in stock?")
	number, err := chromedp.Run(consoleCtx, chromedp.Evaluate[string](`document.querySelector('[data-number]').dataset.number`))
	require.NoError(t, err)
	c.do("open the conversation", `(() => { const r = document.querySelector('[data-number]'); if (!r) return "no row"; r.click(); return ""; })()`)
	c.see("localhost") // the client panel shows the page the chat came from
	c.click("Take")
	c.do("the reply box opens", `(() => { const x = __ld.control("Reply to the client"); return x && !x.disabled ? "" : "locked"; })()`)
	c.fill("Reply to the client", "Yes, we have it. Shall I reserve one?")
	c.click("Send")
	c.do("the reply in the conversation", `[...document.querySelectorAll(".conv-msg")].some(m => m.textContent.includes("Shall I reserve one?")) ? "" : "not sent"`)

	// The widget shows a reply once the desk has delivered it (status sent): wait for that on the
	// server first, so a slow delivery under load is told apart from a widget that missed it.
	var replyStatus string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var msgs struct {
			Items []struct {
				Text   string `json:"text"`
				Status string `json:"status"`
			} `json:"items"`
		}
		admin.get(t, "/api/v1/conversations/"+number+"/messages", &msgs)
		for _, m := range msgs.Items {
			if m.Text == "Yes, we have it. Shall I reserve one?" {
				replyStatus = m.Status
			}
		}
		if replyStatus == "sent" || replyStatus == "delivered" || replyStatus == "read" {
			break
		}
	}
	require.Contains(t, []string{"sent", "delivered", "read"}, replyStatus, "the reply was not delivered to the widget's channel")
	// The visitor sees the answer without reloading, with Olga's name.
	w("the answer, live", `[...__w.root().querySelectorAll(".m.out")].some(m => m.textContent.includes("Shall I reserve one?") && m.textContent.includes("Olga")) ? "" : "no answer yet: " + __w.text()`)
	screenshot(t, ctx, shots, "widget-chat")

	// Olga closes with CSAT; the visitor presses "Excellent" in the widget.
	c.click("Close…")
	c.fill("Solution", "Reserved a ring.")
	c.check("Ask the client to rate the service (CSAT)")
	c.do("confirm unread if asked", `(() => { const x = __ld.control("Close anyway"); if (x && !x.checked) x.click(); return ""; })()`)
	c.click("Close conversation")
	w("the CSAT buttons", `__w.root().querySelectorAll(".btns button").length === 3 ? "" : "no buttons: " + __w.text()`)
	screenshot(t, ctx, shots, "widget-csat")
	w("press Excellent", `(__w.root().querySelectorAll(".btns button")[2].click(), "")`)
	deadline := time.Now().Add(20 * time.Second)
	var conv struct {
		CSAT *int `json:"csat"`
	}
	for time.Now().Before(deadline) {
		admin.get(t, "/api/v1/conversations/"+number, &conv)
		if conv.CSAT != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotNil(t, conv.CSAT, "the widget's CSAT answer did not count")
	require.Equal(t, 3, *conv.CSAT)

	// Nobody online: the widget offers the request form, which opens a request.
	status, _ = putJSON(t, olga, dev.url+"/api/v1/me/status", map[string]string{"status": "offline"})
	require.Equal(t, http.StatusOK, status)
	v.open(shopURL)
	w("the launcher again", `__w.q(".launch") ? "" : "no launcher"`)
	w("open the widget", `(__w.q(".launch").click(), "")`)
	w("the offline form", `__w.q("form.request[data-kind=form]") && __w.text().includes("No operator is online") ? "" : "no form: " + __w.text()`)
	w("phone", `__w.fill("form.request", "phone", "+7 912 000-11-22")`)
	w("text", `__w.fill("form.request", "text", "Please call me about engraving.")`)
	screenshot(t, ctx, shots, "widget-offline-form")
	w("send the request", `(__w.q("form.request").requestSubmit(), "")`)
	w("sent", `__w.q(".note.sent") ? "" : "not sent: " + __w.text()`)
	request := admin.conversationWith(t, "", "Please call me about engraving.")
	var req struct {
		Title string `json:"title"`
		Kind  string `json:"kind"`
	}
	admin.get(t, fmt.Sprintf("/api/v1/conversations/%d", request), &req)
	require.Equal(t, "Request from the site", req.Title)

	// A scenario sends the /pricing pages' visitors to the sales line: the admin adds it on the
	// site's page; the visitor writes from /pricing; the conversation is the sales line's.
	status, sales := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "Sales", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", sales)
	salesID := int64(sales["id"].(float64))
	ad.open(fmt.Sprintf("%s/admin/channels/%d", dev.url, admin.channelID(t, "Shop site")))
	ad.click("Add scenario")
	ad.fill("Name", "Pricing")
	ad.fill("Site addresses, one a line", "/pricing")
	// The lines list loads apart from the page: the new line must be offered before it is chosen.
	ad.do("the sales line offered", fmt.Sprintf(`[...document.querySelectorAll("select option")].some(o => o.value === "%d") ? "" : "no Sales option yet"`, salesID))
	ad.fill("Line (department)", fmt.Sprint(salesID))
	ad.do("the chat stays offered", `__ld.check("Offer the request form when nobody is online", false)`)
	ad.click("Save site settings")
	ad.see("Saved")
	var routed struct {
		Settings struct {
			Scenarios []struct {
				Name   string   `json:"name"`
				URLs   []string `json:"urls"`
				LineID int64    `json:"line_id"`
			} `json:"scenarios"`
		} `json:"settings"`
	}
	admin.waitForChannel(t, "Shop site", &routed, func() bool { return len(routed.Settings.Scenarios) > 0 })
	require.Len(t, routed.Settings.Scenarios, 1, "the scenario added on the page was not saved")
	require.Equal(t, salesID, routed.Settings.Scenarios[0].LineID, "%+v", routed.Settings.Scenarios[0])
	require.Equal(t, []string{"/pricing"}, routed.Settings.Scenarios[0].URLs)
	v.open(strings.TrimSuffix(shopURL, "/rings") + "/pricing?plan=gold")
	w("the launcher on /pricing", `__w.q(".launch") ? "" : "no launcher"`)
	w("open the widget", `(__w.q(".launch").click(), "")`)
	w("the chat", `__w.q(".compose textarea") ? "" : "no chat: " + __w.text()`)
	w("write", `(__w.q(".compose textarea").value = "How much is engraving?", __w.q(".compose .send").click(), "")`)
	w("sent", `[...__w.root().querySelectorAll(".m.in")].some(m => m.textContent.includes("engraving?") && !m.classList.contains("pending")) ? "" : "not sent"`)
	pricing := admin.conversationWith(t, fmt.Sprintf("&line=%d", salesID), "How much is engraving?")
	var onSales struct {
		Items []struct {
			Number      int64 `json:"number"`
			LastMessage *struct {
				Text string `json:"text"`
			} `json:"last_message"`
		} `json:"items"`
	}
	admin.get(t, fmt.Sprintf("/api/v1/conversations?view=all&line=%d", salesID), &onSales)
	require.Len(t, onSales.Items, 1, "the /pricing chat is not on the sales line")
	require.Equal(t, pricing, onSales.Items[0].Number)
	require.Equal(t, "How much is engraving?", onSales.Items[0].LastMessage.Text)

	// The admin (a supervisor would too) sees the visitor on the site right now.
	ad.open(dev.url + "/supervisor/visitors")
	ad.see("Gold Shop — rings") // the page title the visitor last had when the list was read
	ad.see("Vera")
	screenshot(t, adminCtx, shots, "widget-visitors")

	// A public article of the knowledge base: the widget gets a Help tab whose search finds it,
	// and its link opens the article's page on the desk.
	status, art := postJSON(t, admin.c, dev.url+"/api/v1/kb/articles", map[string]any{"title": "Ring sizes",
		"body": "Measure the **inside diameter** of a ring that fits: 17 mm is size 17.", "status": "published", "public": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", art)
	v.open(shopURL)
	w("the launcher for help", `__w.q(".launch") ? "" : "no launcher"`)
	w("open the widget", `(__w.q(".launch").click(), "")`)
	w("the Help tab", `(() => { const b = __w.q(".tabs button[data-kind=help]"); if (!b) return "no help tab: " + __w.text(); b.click(); return ""; })()`)
	w("search help", `(() => { const i = __w.q("ul.help") && __w.q("form input[type=search]"); if (!i) return "no help search"; i.value = "diameters"; i.form.requestSubmit(); return ""; })()`)
	w("the article found", `(() => { const a = __w.q("ul.help a"); return a && a.textContent === "Ring sizes" && __w.q("ul.help div").textContent.includes("inside diameter") ? "" : "not found: " + __w.text(); })()`)
	screenshot(t, ctx, shots, "widget-help")
	var href string
	w("the article's link", `(() => { const a = __w.q("ul.help a"); window.__href = a ? a.href : ""; return window.__href ? "" : "no link"; })()`)
	href, err = chromedp.Run(ctx, chromedp.Evaluate[string](`window.__href`))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%s/kb/%d", dev.url, int64(art["id"].(float64))), href)
	v.open(href)
	v.do("the article's page", `document.querySelector("h1") && document.querySelector("h1").textContent === "Ring sizes" ? "" : "no page"`)
}

// loginAs signs a user in to the API.
func loginAs(t *testing.T, url, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, out := postJSON(t, c, url+"/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	return c
}

// putJSON sends a PUT with the session's CSRF token, as postJSON does a POST.
func putJSON(t *testing.T, c *http.Client, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// waitForChannel reads a channel into v until done says it holds what a page saved (10 s at most;
// the caller asserts on v).
func (a apiUser) waitForChannel(t *testing.T, name string, v any, done func() bool) {
	t.Helper()
	path := fmt.Sprintf("/api/v1/channels/%d", a.channelID(t, name))
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.get(t, path, v)
		if done() || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// conversationWith waits for the conversation, among those the list's filter (a query string
// to add, "" for none) gives, whose latest client message holds text.
func (a apiUser) conversationWith(t *testing.T, filter, text string) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Items []struct {
				Number      int64 `json:"number"`
				LastMessage *struct {
					Text string `json:"text"`
				} `json:"last_message"`
			} `json:"items"`
		}
		a.get(t, "/api/v1/conversations?view=all"+filter, &list)
		for _, c := range list.Items {
			if c.LastMessage != nil && strings.Contains(c.LastMessage.Text, text) {
				return c.Number
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no conversation with %q", text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
