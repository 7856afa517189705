package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestConsoleInternalClientRequest: an admin makes an internal desk for the office group on the
// channel screens; Mark, an employee of that group, writes to it from My requests; the desk's
// operator answers the conversation like any other, and Mark reads the answer in his console.
func TestConsoleInternalClientRequest(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	admin := adminClient(t, dev.url)
	status, line := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "IT helpdesk", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)
	status, user := postJSON(t, admin.c, dev.url+"/api/v1/users", map[string]any{"email": "mark@office.example", "name": "Mark",
		"role": "operator", "password": "mark-secret-1"}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", user)
	status, group := postJSON(t, admin.c, dev.url+"/api/v1/groups", map[string]any{"name": "Office", "kind": "operators",
		"member_ids": []any{user["user"].(map[string]any)["id"]}}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", group)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.open(dev.url + "/admin/channels/new")
	u.fill("Kind", "internal")
	u.fill("Channel name", "IT requests")
	lineID := fmt.Sprint(line["id"])
	u.do("the lines are listed", `(() => { const c = __ld.control("Line"); return c && [...c.options].some(o => o.value === `+q(lineID)+`) ? "" : "no line yet"; })()`)
	u.fill("Line", lineID)
	u.check("Office")
	u.click("Create")
	u.see("The channel is created")

	// Mark, in a browser of his own, writes from My requests.
	markCtx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	require.NoError(t, chromedp.Do(markCtx, chromedp.EmulateViewport(1280, 720), chromedp.Navigate(dev.url+"/")))
	_, err = chromedp.Run(markCtx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, markCtx, dev.url, "mark@office.example", "mark-secret-1")
	m := ui{t, markCtx}
	m.click("My requests")
	m.see("IT helpdesk")
	m.fill("What do you need?", "My laptop does not boot")
	m.click("Send")
	m.do("the request is listed", `[...document.querySelectorAll(".search-results li")].some(li => li.textContent.includes("My laptop does not boot")) ? "" : "not listed"`)

	// The desk's operator answers it as any conversation.
	n := admin.conversationWith(t, "&line="+lineID, "My laptop does not boot")
	var conv struct {
		Contact struct {
			Name string `json:"name"`
		} `json:"contact"`
	}
	admin.get(t, fmt.Sprintf("/api/v1/conversations/%d", n), &conv)
	require.Equal(t, "Mark", conv.Contact.Name)
	u.open(fmt.Sprintf("%s/conversations/%d", dev.url, n))
	u.click("Take")
	u.do("the reply box opens", `(() => { const x = __ld.control("Reply to the client"); return x && !x.disabled ? "" : "locked"; })()`)
	u.fill("Reply to the client", "Bring it to room 12, please")
	u.click("Send")

	m.do("Mark reads the answer", `[...document.querySelectorAll(".req-msg.out")].some(p => p.textContent.includes("Bring it to room 12")) ? "" : "no answer yet"`)
	screenshot(t, markCtx, shots, "internal-request")
}
