package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// ui drives the console the way a person does: by the labels and button texts they read. Each
// step finds its element afresh, so the steps hold while the page re-renders.
type ui struct {
	t   *testing.T
	ctx context.Context
}

// page holds the in-page helpers: find a control by its label's text, a button or link by its
// text, and set a value the way typing does (React listens to the input event).
const pageHelpers = `window.__ld = {
  norm: s => (s || "").replace(/\s+/g, " ").trim(),
  visible: el => !!(el && el.getClientRects().length),
  control(label) {
    for (const l of document.querySelectorAll("label")) {
      const span = l.querySelector("span");
      const text = __ld.norm(span ? span.textContent : l.textContent);
      if (text !== label || !__ld.visible(l)) continue;
      const c = l.htmlFor ? document.getElementById(l.htmlFor) : l.querySelector("input, select, textarea");
      if (c) return c;
    }
    const byAria = [...document.querySelectorAll("[aria-label]")].find(e => e.getAttribute("aria-label") === label && __ld.visible(e));
    return byAria || null;
  },
  fill(label, value) {
    const c = __ld.control(label);
    if (!c) return "no control labelled " + label;
    const proto = c.tagName === "SELECT" ? HTMLSelectElement.prototype : c.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(c, value);
    c.dispatchEvent(new Event("input", { bubbles: true }));
    c.dispatchEvent(new Event("change", { bubbles: true }));
    return "";
  },
  check(label, on) {
    const c = __ld.control(label);
    if (!c) return "no checkbox labelled " + label;
    if (c.checked !== on) c.click();
    return "";
  },
  value(label) { const c = __ld.control(label); return c ? c.value : null; },
  button(text) {
    return [...document.querySelectorAll("button, a, [role=button], [role=tab]")].find(b =>
      __ld.visible(b) && (__ld.norm(b.textContent) === text || b.getAttribute("aria-label") === text ||
        // a view link reads "Unassigned" followed by its live counter in a span of its own
        (b.firstElementChild && b.firstElementChild.tagName === "SPAN" && __ld.norm(b.firstElementChild.textContent) === text))) || null;
  },
  click(text) {
    const b = __ld.button(text);
    if (!b) return "no button " + text;
    if (b.disabled) return "button " + text + " is disabled";
    b.click();
    return "";
  },
  hasText(text) { return document.body.innerText.includes(text); },
};`

// do runs one in-page step until it succeeds (an empty answer) or 15 s pass.
func (u ui) do(what, js string) {
	u.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`(() => { if (!window.__ld) { `+pageHelpers+` } return `+js+`; })()`))
		if err == nil && res == "" {
			return
		}
		if time.Now().After(deadline) {
			page, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`location.pathname + location.search + "\n" + document.body.innerText.slice(0, 1500)`))
			u.t.Fatalf("%s: %v %s\npage now: %s", what, err, res, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

func (u ui) fill(label, value string) {
	u.t.Helper()
	u.do("fill "+label, `__ld.fill(`+q(label)+`, `+q(value)+`)`)
}
func (u ui) check(label string) { u.t.Helper(); u.do("check "+label, `__ld.check(`+q(label)+`, true)`) }
func (u ui) click(text string)  { u.t.Helper(); u.do("click "+text, `__ld.click(`+q(text)+`)`) }
func (u ui) see(text string) {
	u.t.Helper()
	u.do("see "+text, `__ld.hasText(`+q(text)+`) ? "" : "not on the page"`)
}

func (u ui) value(label string) string {
	u.t.Helper()
	var v string
	u.do("read "+label, `(() => { const v = __ld.value(`+q(label)+`); if (!v) return "empty"; window.__ld_v = v; return ""; })()`)
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`window.__ld_v`))
	require.NoError(u.t, err)
	return v
}

func (u ui) open(url string) {
	u.t.Helper()
	require.NoError(u.t, chromedp.Do(u.ctx, chromedp.Navigate(url)))
}

// TestConsoleFromTheWizardToAClosedConversation is a day's work in the console: an admin sets
// up the first line in the wizard (a line, an api channel whose token the page shows once, the
// operators' group); a client writes through that channel with that token; the operator's inbox
// shows it without a reload; the operator takes it, answers with a /tag template, pauses (the
// composer locks), resumes and closes with CSAT; the supervisor board shows the conversation
// meanwhile. It also measures how long a client message takes to appear in the operator's open
// conversation, and leaves the screenshots docs/screenshots holds.
func TestConsoleFromTheWizardToAClosedConversation(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	admin := adminClient(t, dev.url)
	op := admin.createUser(t, "olga@example.com", "Olga", "operator")
	admin.createGroup(t, map[string]any{"name": "Desk", "kind": "operators", "permissions": []string{"omni", "unassigned_queue"}, "member_ids": []int64{op}})

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.click("Settings")
	u.see("There are no lines yet")
	u.click("Start the wizard")
	u.fill("Line name", "Retail")
	u.check("Open a conversation on every first client message")
	u.click("Create line")
	u.fill("Channel name", "Shop API")
	u.fill("Callback URL", "http://127.0.0.1:9/hook")
	u.click("Create channel")
	token := u.value("Inbound token")
	require.NotEmpty(t, token)
	screenshot(t, ctx, shots, "channel-created")
	u.click("I have saved the token — next")
	u.check("Desk")
	u.click("Finish")
	u.see("is ready to receive messages")

	// The operator signs in; a client writes through the new channel.
	u.click("Sign out")
	u.do("the sign-in form", `document.querySelector("#email") ? "" : "still signed in"`)
	signIn(t, ctx, dev.url, "olga@example.com", "secret123")
	u.click("Unassigned")
	channelID := admin.channelID(t, "Shop API")
	number := postInbound(t, dev.url, channelID, token, "ivan", "e2e-1", "Where is my order 5521?",
		map[string]any{"profile_url": "https://shop.example/admin/customers/5521", "timezone": "Asia/Vladivostok", "fields": map[string]string{"Plan": "Gold"}})
	u.see("Where is my order 5521?")
	u.do("the row", fmt.Sprintf(`document.querySelector('[data-number="%d"]') ? "" : "no row"`, number))
	screenshot(t, ctx, shots, "inbox")

	// The supervisor (the admin) watches in a browser of their own.
	sup, cancelSup := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelSup()
	require.NoError(t, chromedp.Do(sup, chromedp.EmulateViewport(1280, 720), chromedp.Navigate(dev.url+"/")))
	_, err = chromedp.Run(sup, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, sup, dev.url, "admin@example.com", "admin")
	s := ui{t, sup}
	s.see("Inbox")

	// A template for this channel, as an admin would write it on the templates screen.
	status, tpl := postJSON(t, admin.c, dev.url+"/api/v1/templates", map[string]any{"name": "Order status",
		"body": "Your order is on its way and arrives tomorrow.", "tags": []string{"order"}, "channel_ids": []int64{channelID}}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", tpl)

	// The operator opens the conversation and takes it.
	u.do("open the conversation", fmt.Sprintf(`(() => { const r = document.querySelector('[data-number="%d"]'); if (!r) return "no row"; r.click(); return ""; })()`, number))
	u.click("Take")
	// The client panel shows what the shop sent about the client.
	u.see("Local time")
	u.do("the profile link", `(() => { const a = [...document.querySelectorAll(".conv-panel a")].find(a => a.href === "https://shop.example/admin/customers/5521"); return a ? "" : "no link"; })()`)
	u.see("Gold")
	u.do("the reply box opens", `(() => { const c = __ld.control("Reply to the client"); return c && !c.disabled ? "" : "locked"; })()`)

	// How long a client message takes to reach the open conversation: 100 messages, each timed
	// from just before its inbound call to the moment the page shows it.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`window.__seen = {}; new MutationObserver(() => {
		for (const el of document.querySelectorAll(".conv-msg")) { const m = /probe-(\d+)/.exec(el.textContent); if (m && !__seen[m[1]]) __seen[m[1]] = Date.now(); }
	}).observe(document.body, { childList: true, subtree: true, characterData: true }); true`))
	require.NoError(t, err)
	sent := map[int]int64{}
	for i := range 100 {
		sent[i] = time.Now().UnixMilli()
		postInbound(t, dev.url, channelID, token, "ivan", fmt.Sprintf("probe-key-%d", i), fmt.Sprintf("probe-%d", i))
		time.Sleep(30 * time.Millisecond)
	}
	u.do("every probe shown", `Object.keys(__seen).length === 100 ? "" : "seen " + Object.keys(__seen).length`)
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int64](`__seen`))
	require.NoError(t, err)
	var lat []time.Duration
	for k, at := range seen {
		var i int
		fmt.Sscan(k, &i)
		lat = append(lat, time.Duration(at-sent[i])*time.Millisecond)
	}
	slices.Sort(lat)
	t.Logf("client message to the operator's open conversation, 100 messages: p50 %v, p99 %v, max %v",
		lat[len(lat)/2], lat[len(lat)*99/100-1], lat[len(lat)-1])

	// The supervisor board shows the active conversation.
	s.click("Supervisor")
	s.do("the board row", fmt.Sprintf(`document.body.innerText.includes("%d") && document.body.innerText.includes("Olga") ? "" : "no row"`, number))
	screenshot(t, sup, shots, "supervisor-conversations")

	// Answer with the template: /order suggests it for this channel, a pick inserts it.
	u.fill("Reply to the client", "/order")
	u.do("the suggestion", `(() => { const o = document.querySelector('[role=option]'); if (!o || !o.textContent.includes("Order status")) return "none"; o.dispatchEvent(new MouseEvent("mousedown", { bubbles: true })); return ""; })()`)
	u.do("the template text", `__ld.value("Reply to the client").includes("arrives tomorrow") ? "" : "not inserted"`)
	// A photo of the parcel goes with it: chosen in the file picker, uploaded at once.
	photo := filepath.Join(t.TempDir(), "parcel.png")
	img := image.NewRGBA(image.Rect(0, 0, 160, 100))
	for y := range 100 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: 90 + uint8(y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	require.NoError(t, os.WriteFile(photo, buf.Bytes(), 0o600))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`.conv-composer input[type=file]`), []string{photo})))
	u.do("the photo uploaded", `(() => { const l = document.querySelector(".conv-uploads li"); return l && l.classList.contains("done") ? "" : "not yet"; })()`)
	u.do("the counters catch up", `document.querySelector('[data-count="unassigned"]').textContent === "0" ? "" : "unassigned still counts it"`)
	screenshot(t, ctx, shots, "conversation")
	u.click("Send")
	u.do("the reply in the conversation", `[...document.querySelectorAll(".conv-msg")].some(m => m.textContent.includes("arrives tomorrow")) ? "" : "not yet"`)
	u.do("the photo shows in the reply", `[...document.querySelectorAll(".conv-msg img")].some(i => i.complete && i.naturalWidth === 160 && i.src.includes("/api/v1/files/")) ? "" : "no image"`)
	screenshot(t, ctx, shots, "reply-with-photo")

	// Pause: the composer locks and says why; resume unlocks it.
	u.click("Pause")
	u.see("The conversation is paused: resume it to write.")
	u.do("the reply box locks", `__ld.control("Reply to the client").disabled ? "" : "still open"`)
	u.click("Resume")
	u.do("the reply box opens again", `__ld.control("Reply to the client").disabled ? "locked" : ""`)

	// Close with the wrap-up form, asking the client for CSAT.
	u.click("Close…")
	u.fill("Solution", "Told the client the delivery date.")
	u.check("Ask the client to rate the service (CSAT)")
	u.do("confirm unread if asked", `(() => { const c = __ld.control("Close anyway"); if (c && !c.checked) c.click(); return ""; })()`)
	screenshot(t, ctx, shots, "wrap-up")
	u.click("Close conversation")
	u.do("closed", `(() => { const h = document.querySelector(".conv"); return h && h.textContent.includes("Closed") ? "" : "not closed"; })()`)
	u.do("the CSAT question went out", `[...document.querySelectorAll(".conv-msg")].some(m => m.textContent.includes("Satisfaction survey")) ? "" : "no survey"`)
	var conv struct {
		Status   string `json:"status"`
		Solution string `json:"solution"`
	}
	admin.get(t, fmt.Sprintf("/api/v1/conversations/%d", number), &conv)
	require.Equal(t, "closed", conv.Status)
	require.Equal(t, "Told the client the delivery date.", conv.Solution)

	// The conversation's history downloads from its header (the session's own cookie), and the
	// printable transcript opens as a page.
	u.do("download the CSV", `(() => { const a = [...document.querySelectorAll(".conv-export a")].find(a => a.textContent === "CSV"); if (!a) return "no CSV link"; window.__csv = null; fetch(a.href).then(async r => { window.__csv = r.status + "\n" + await r.text(); }); return ""; })()`)
	u.do("the CSV has the reply", `(() => { const c = window.__csv; if (!c) return "not yet"; return c.startsWith("200\n") && c.includes("arrives tomorrow") && c.includes("closed") ? "" : "CSV: " + c.slice(0, 200); })()`)
	u.do("open the transcript", `(() => { const a = [...document.querySelectorAll(".conv-export a")].find(a => a.textContent === "Printable transcript"); if (!a) return "no transcript link"; location.href = a.href; return ""; })()`)
	// Nothing listens at the shop's callback yet, so the reply never reached the client: the
	// transcript, what the client saw, does not have it.
	u.do("the transcript", `document.body && document.body.innerText.includes("Where is my order 5521?") && document.body.innerText.includes("Told the client the delivery date.") ? "" : "not the transcript yet"`)
	u.do("no undelivered reply in it", `document.body.innerText.includes("arrives tomorrow") ? "the undelivered reply is shown" : ""`)

	// The other screens the documentation shows.
	s.click("Operators")
	s.see("Olga")
	screenshot(t, sup, shots, "supervisor-operators")
	s.open(fmt.Sprintf("%s/admin/channels/%d", dev.url, channelID))
	s.see("Callback URL")
	// Nothing listens at the shop's callback yet: the connection test says so.
	s.click("Test connection")
	s.see("The callback did not answer")
	screenshot(t, sup, shots, "channel-settings")

	// The admin lists closed conversations too and makes the timer turn red sooner.
	s.open(dev.url + "/admin/inbox")
	s.fill("Red after, minutes", "4")
	s.check("closed")
	s.click("Save")
	s.see("Saved")
	screenshot(t, sup, shots, "inbox-settings")
	var cs struct {
		Alert    int      `json:"wait_alert_seconds"`
		Statuses []string `json:"statuses"`
	}
	admin.get(t, "/api/v1/console-settings", &cs)
	require.Equal(t, 240, cs.Alert)
	require.Contains(t, cs.Statuses, "closed")
	s.open(dev.url + "/inbox?view=all")
	s.do("the closed conversation listed", fmt.Sprintf(`document.querySelector('[data-number="%d"]') ? "" : "not listed"`, number))
}

// apiUser is an HTTP client signed in to the API, for the setup a test does not click through.
type apiUser struct {
	c   *http.Client
	url string
}

func adminClient(t *testing.T, url string) apiUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status)
	return apiUser{c, url}
}

func (a apiUser) createUser(t *testing.T, email, name, role string) int64 {
	t.Helper()
	status, out := postJSON(t, a.c, a.url+"/api/v1/users", map[string]any{"email": email, "name": name, "role": role, "password": "secret123"}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	return int64(out["user"].(map[string]any)["id"].(float64))
}

func (a apiUser) createGroup(t *testing.T, g map[string]any) int64 {
	t.Helper()
	status, out := postJSON(t, a.c, a.url+"/api/v1/groups", g, nil)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	return int64(out["id"].(float64))
}

func (a apiUser) get(t *testing.T, path string, out any) {
	t.Helper()
	res, err := a.c.Get(a.url + path)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, path)
	require.NoError(t, json.NewDecoder(res.Body).Decode(out))
}

func (a apiUser) channelID(t *testing.T, name string) int64 {
	t.Helper()
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	a.get(t, "/api/v1/channels", &list)
	for _, c := range list.Items {
		if c.Name == name {
			return c.ID
		}
	}
	t.Fatalf("no channel %q", name)
	return 0
}

// postInbound writes as a client through an api channel and returns the conversation number.
func postInbound(t *testing.T, url string, channel int64, token, contact, key, text string, profile ...map[string]any) int64 {
	t.Helper()
	who := map[string]any{"external_id": contact, "name": contact}
	for _, p := range profile {
		maps.Copy(who, p)
	}
	status, in := postJSON(t, http.DefaultClient, fmt.Sprintf("%s/api/v1/channels/%d/inbound", url, channel),
		map[string]any{"contact": who, "text": text},
		map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": key, "Prefer": "wait=20"})
	require.Equal(t, http.StatusAccepted, status, "%v", in)
	require.NotNil(t, in["conversation"])
	return int64(in["conversation"].(float64))
}
