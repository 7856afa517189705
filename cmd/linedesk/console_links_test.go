package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestConsoleLinksAndMacros: an admin adds an external app on the settings screen and reads its
// secret once; in a conversation of the app's line, "+ Link" makes an item in the app — a fake
// CRM that checks the desk's signature — and the conversation shows it. Then the admin writes a
// macro on its screen and one click applies it: taken, tagged, urgent, answered and closed; and
// marks the client as spam, after which the desk takes nothing more from her.
func TestConsoleLinksAndMacros(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	var mu sync.Mutex
	var secret string
	var got []map[string]any
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(r.Header.Get("X-Linedesk-Timestamp") + "."))
		mac.Write(body)
		if secret == "" || r.Header.Get("X-Linedesk-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		got = append(got, req)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": fmt.Sprintf("C-%d", 100+len(got))})
	}))
	defer crm.Close()

	ch := setUpAPIChannel(t, dev.url) // the "Support" line
	n := ch.write(t, "vera", "m-1")

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.open(dev.url + "/admin/linked-apps")
	u.see("No app is linked yet.")
	u.click("New app")
	u.fill("Name", "Tracker")
	u.fill("Create URL (the desk posts the session here, signed)", crm.URL+"/items")
	u.fill("Item address, with {id}", "https://tracker.example/items/{id}")
	u.fill("Kinds of item", "complaint, order")
	u.check("Support")
	u.click("Save app")
	u.do("the secret, shown once", `(() => { const i = document.querySelector(".settings-secret input"); window.__ld_v = i ? i.value : ""; return window.__ld_v ? "" : "no secret"; })()`)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__ld_v`))
	require.NoError(t, err)
	require.Regexp(t, `^ldl_`, v)
	mu.Lock()
	secret = v
	mu.Unlock()
	u.click("I have saved it")
	u.see("complaint, order")

	u.open(fmt.Sprintf("%s/conversations/%d", dev.url, n))
	u.see("Nothing linked yet.")
	u.click("+ Link in Tracker")
	u.fill("Kind", "complaint")
	u.fill("Title", "Broken ring")
	u.fill("Note", "Send a new one")
	u.click("Create and link")
	u.do("the item is linked", `(() => { const a = [...document.querySelectorAll(".conv-links a")].find(a => a.textContent === "C-101"); return a && a.href === "https://tracker.example/items/C-101" ? "" : "not linked: " + (document.querySelector(".conv-links") || {}).textContent; })()`)
	u.see("Broken ring")
	screenshot(t, ctx, shots, "linked-record")

	// A macro, written on its screen, applied with one click.
	u.open(dev.url + "/admin/macros")
	u.see("No macros yet.")
	u.click("New macro")
	u.fill("Name", "Refund done")
	u.fill("Step 1", "take")
	u.click("Add a step")
	u.fill("Step 2", "tags")
	u.fill("Add tags", "refund, vip")
	u.click("Add a step")
	u.fill("Step 3", "priority")
	u.fill("Priority to set", "urgent")
	u.click("Add a step")
	u.fill("Step 4", "reply")
	u.fill("Text", "Your money is on its way back.")
	u.click("Add a step")
	u.fill("Step 5", "close")
	u.fill("Solution", "Refunded")
	u.click("Save macro")
	u.see("Take → Tags: +refund +vip → Priority: urgent → Reply: Your money is on its way back. → Close: Refunded")
	u.open(fmt.Sprintf("%s/conversations/%d", dev.url, n))
	u.do("choose the macro", `(() => { const s = __ld.control("Macro"); const o = s && [...s.options].find(o => o.textContent === "Refund done"); return o ? __ld.fill("Macro", o.value) : "no macro offered"; })()`)
	u.click("Apply")
	u.do("closed by the macro", `(() => { const h = document.querySelector(".conv-header"); return h && h.textContent.includes("Closed") && h.textContent.includes("refund") && h.textContent.includes("vip") ? "" : "header: " + (h && h.textContent); })()`)
	u.do("urgent", `__ld.value("Priority") === "urgent" ? "" : "priority " + __ld.value("Priority")`)
	u.see("Your money is on its way back.")
	screenshot(t, ctx, shots, "macro-applied")

	// Vera turns out to be a spammer: marked from the client panel, her next message is refused.
	u.click("Mark as spam")
	u.click("Mark as spam")
	u.see("Marked as spam: messages from this client are not taken.")
	status, refused := postJSON(t, ch.admin, fmt.Sprintf("%s/api/v1/channels/%d/inbound", dev.url, ch.id),
		map[string]any{"contact": map[string]string{"external_id": "vera"}, "text": "Buy followers"},
		map[string]string{"Authorization": "Bearer " + ch.token, "Idempotency-Key": "m-spam"})
	require.Equal(t, http.StatusForbidden, status, "%v", refused)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	require.Equal(t, "complaint", got[0]["kind"])
	require.Equal(t, "Send a new one", got[0]["note"])
	require.Equal(t, "hello", got[0]["messages"].([]any)[0].(map[string]any)["text"])
}
