package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestConsoleSearchKnowledgeAndReports: in the browser, an admin writes a public knowledge-base
// article; an operator searches for a word in another form than the client wrote it, sees it
// marked in the hit, narrows by status, finds the client by phone, opens the conversation from
// the hit, and there the knowledge panel offers the article for the client's message, whose link
// goes into the reply and opens as a page. The supervisor's report then shows the day's two
// conversations in its chart and table, and its CSV downloads. Last, Ivan's second card (from
// another channel) is merged into his first from the conversation.
func TestConsoleSearchKnowledgeAndReports(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	ch := setUpAPIChannel(t, dev.url)
	say := func(contact map[string]string, key, text string) int64 {
		t.Helper()
		status, in := postJSON(t, ch.admin, fmt.Sprintf("%s/api/v1/channels/%d/inbound", dev.url, ch.id),
			map[string]any{"contact": contact, "text": text},
			map[string]string{"Authorization": "Bearer " + ch.token, "Idempotency-Key": key, "Prefer": "wait=20"})
		require.Equal(t, http.StatusAccepted, status, "%v", in)
		return int64(in["conversation"].(float64))
	}
	ivan := map[string]string{"external_id": "ivan", "name": "Иван Петров", "phone": "+7 916 123-45-67"}
	n := say(ivan, "m-1", "Здравствуйте! Хочу вернуть деньги за заказы № 48213, они не приходят уже неделю")
	say(map[string]string{"external_id": "john", "name": "John Smith"}, "m-2", "Where are my orders?")

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")

	// The admin writes the article on the knowledge-base screen.
	u.open(dev.url + "/admin/knowledge")
	u.see("No articles yet")
	u.click("New article")
	u.fill("Title", "Возврат денег за заказ")
	u.fill("Status", "published")
	u.check("Public: clients may read it (a link in a reply, the site widget)")
	u.fill("Text (Markdown)", "Чтобы **вернуть деньги**, откройте заказ в личном кабинете и нажмите «Вернуть».")
	u.click("Save article")
	u.do("the preview shows the Markdown rendered", `(() => { const b = document.querySelector(".kb-preview strong"); return b && b.textContent === "вернуть деньги" ? "" : "no preview"; })()`)
	u.see("Open the public page")
	screenshot(t, ctx, shots, "knowledge-editor")
	u.click("Back to the list")
	u.see("Published · public")

	u.click("Search")
	u.fill("Words to find", "заказ")
	u.click("Find")
	u.do("the word is marked in the client's message", `(() => { const m = [...document.querySelectorAll(".search-results mark")].map(e => e.textContent); return m.includes("заказы") ? "" : "marks: " + m.join(","); })()`)
	u.see(fmt.Sprintf("Conversation №%d", n))
	u.do("the page's address holds the search", `location.search === "?q=" + encodeURIComponent("заказ") ? "" : location.search`)
	u.do("only one hit", `document.querySelectorAll(".search-results > li").length === 1 ? "" : "hits: " + document.querySelectorAll(".search-results > li").length`)
	screenshot(t, ctx, shots, "search-messages")

	// Narrowed to closed conversations: none yet.
	u.fill("Status", "closed")
	u.click("Find")
	u.see("Nothing found.")

	// The client by phone, written the Russian way; then their conversations.
	u.fill("Status", "")
	u.fill("Look in", "contacts")
	u.fill("Words to find", "8 916 123")
	u.click("Find")
	u.see("Иван Петров")
	u.click("Their conversations")
	u.see(fmt.Sprintf("Conversation №%d", n))
	screenshot(t, ctx, shots, "search-contacts")

	// An order number finds its message; the hit opens the conversation.
	u.fill("Look in", "messages")
	u.fill("Words to find", "48213")
	u.click("Find")
	u.click(fmt.Sprintf("Conversation №%d", n))
	u.do("the conversation opens", fmt.Sprintf(`location.pathname === "/conversations/%d" ? "" : location.pathname`, n))
	u.see("Хочу вернуть деньги за заказы № 48213, они не приходят уже неделю")

	// The knowledge panel offers the article for the client's message; its link goes into the reply.
	u.click("Take")
	u.do("the panel suggests the article", `(() => { const p = document.querySelector(".conv-kb"); return p && [...p.querySelectorAll("button")].some(b => b.textContent === "Возврат денег за заказ") ? "" : "no suggestion"; })()`)
	u.click("Возврат денег за заказ")
	u.do("the article reads in place", `(() => { const b = document.querySelector(".conv-kb .kb-body strong"); return b && b.textContent === "вернуть деньги" ? "" : "not shown"; })()`)
	screenshot(t, ctx, shots, "knowledge-panel")
	u.click("Insert the link")
	u.do("the link is in the reply", `(() => { const c = __ld.control("Reply to the client"); return c && /Возврат денег за заказ: http.*\/kb\/\d+$/.test(c.value) ? "" : "reply: " + (c && c.value); })()`)
	u.click("Send")
	link := ""
	require.Eventually(t, func() bool {
		res, err := ch.admin.Get(fmt.Sprintf("%s/api/v1/conversations/%d/messages", dev.url, n))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var sent struct {
			Items []struct {
				Direction string `json:"direction"`
				Text      string `json:"text"`
			} `json:"items"`
		}
		if json.NewDecoder(res.Body).Decode(&sent) != nil {
			return false
		}
		for _, m := range sent.Items {
			if i := strings.Index(m.Text, "http"); m.Direction == "out" && i >= 0 {
				link = m.Text[i:]
			}
		}
		return link != ""
	}, 15*time.Second, 100*time.Millisecond, "the reply with the link was sent")
	u.open(link)
	u.do("the public page shows the article", `(() => { const h = document.querySelector("h1"); return h && h.textContent === "Возврат денег за заказ" && document.querySelector("strong") ? "" : "page: " + document.title; })()`)

	// The report of the last seven days: today's two conversations, one answered.
	u.open(dev.url + "/supervisor/reports")
	u.do("the chart", `(() => { const c = document.querySelector(".report-chart svg[role=img]"); return c && c.querySelectorAll("rect.bar").length === 14 ? "" : "no chart"; })()`)
	u.do("the total row", `(() => { const r = document.querySelector(".report-table tr.total"); return r && r.cells[1].textContent === "2" ? "" : "total: " + (r && r.textContent); })()`)
	u.do("first response measured", `(() => { const r = document.querySelector(".report-table tr.total"); return r && /\d/.test(r.cells[4].textContent) ? "" : "no first response: " + (r && r.textContent); })()`)
	screenshot(t, ctx, shots, "reports")
	u.fill("By", "line")
	u.click("Show")
	u.do("by line", `(() => { const r = document.querySelector(".report-table tbody th[scope=row]"); return r && r.textContent === "Support" ? "" : "rows: " + document.querySelector(".report-table").textContent; })()`)
	u.do("the CSV downloads", `(() => { const a = [...document.querySelectorAll(".report-downloads a")].find(a => a.textContent === "CSV"); const x = new XMLHttpRequest(); x.open("GET", a.href, false); x.send(); return x.status === 200 && x.responseText.includes("\ntotal,2,") && x.responseText.includes("\nSupport,2,") ? "" : "HTTP " + x.status + ": " + x.responseText.slice(0, 200); })()`)

	// The same Ivan writes from the shop's channel by email: a second card, merged into the
	// first from his conversation; the kept card takes the address, and holds both conversations.
	status, line := postJSON(t, ch.admin, dev.url+"/api/v1/lines", map[string]any{"name": "Shop", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)
	status, shop := postJSON(t, ch.admin, dev.url+"/api/v1/channels", map[string]any{"kind": "api", "name": "Shop API",
		"line_id": line["id"], "settings": map[string]string{"callback_url": "http://127.0.0.1:9/hook"}}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", shop)
	status, in := postJSON(t, ch.admin, fmt.Sprintf("%s/api/v1/channels/%v/inbound", dev.url, shop["channel"].(map[string]any)["id"]),
		map[string]any{"contact": map[string]string{"external_id": "ivan.p@example.com", "email": "ivan.p@example.com"}, "text": "Order status?"},
		map[string]string{"Authorization": "Bearer " + shop["inbound_token"].(string), "Idempotency-Key": "shop-1", "Prefer": "wait=20"})
	require.Equal(t, http.StatusAccepted, status, "%v", in)
	u.open(fmt.Sprintf("%s/conversations/%d", dev.url, n))
	u.click("Merge with another card of this client…")
	u.fill("Name, address or phone of the other card", "ivan.p@")
	u.click("Find")
	u.click("Merge into this client")
	u.click("Merge: both histories become one client's")
	u.do("the kept card takes the address", `(() => { const a = [...document.querySelectorAll(".conv-panel a")].find(a => a.textContent === "ivan.p@example.com"); return a ? "" : "no address yet"; })()`)
	screenshot(t, ctx, shots, "contact-merged")
	u.do("both conversations are the client's", `(() => { const x = new XMLHttpRequest(); x.open("GET", "/api/v1/conversations/`+fmt.Sprint(n)+`", false); x.send(); const id = JSON.parse(x.responseText).contact.id; x.open("GET", "/api/v1/contacts/" + id + "/conversations", false); x.send(); const n = JSON.parse(x.responseText).items.length; return n === 2 ? "" : n + " conversations"; })()`)
}
