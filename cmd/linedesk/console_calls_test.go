package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/cti/ctitest"
)

// TestConsoleTakesAPhoneCall: an admin adds a phone channel in the console and reads the PBX's
// address from its page; a call from an unknown number rings and its card shows in the console;
// the operator makes the caller's client card, the hangup brings the recording, which plays on
// the call's card, and a resolved conversation made from the call opens with the call's log.
func TestConsoleTakesAPhoneCall(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	pbx := ctitest.New(t)
	admin := adminClient(t, dev.url)
	status, line := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "Phone desk", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.open(dev.url + "/admin/channels/new")
	u.fill("Kind", "phone")
	u.fill("Channel name", "Office PBX")
	lineID := fmt.Sprint(line["id"])
	u.do("the lines are listed", `(() => { const c = __ld.control("Line"); return c && [...c.options].some(o => o.value === `+q(lineID)+`) ? "" : "no line yet"; })()`)
	u.fill("Line", lineID)
	u.do("the line is chosen", `__ld.value("Line") === `+q(lineID)+` ? "" : "not chosen"`)
	u.click("Create")
	u.click("Open the channel settings")
	u.click("Show the address")
	u.do("the PBX address", `(() => { const c = [...document.querySelectorAll("code")].find(e => e.textContent.includes("/hooks/")); if (!c) return "no address"; window.__ld_v = c.textContent.split("endpoint: ")[1]; return ""; })()`)
	hook, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__ld_v`))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(hook, dev.url+"/hooks/"), hook)
	screenshot(t, ctx, shots, "phone-channel")

	// An unknown number rings: the incoming-call card offers a client card.
	u.open(dev.url + "/calls")
	u.see("No calls yet")
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.NewCall("pbx-1", "+7 999 000-00-01", "74950000000", "in"), false))
	u.see("Incoming call: +7 999 000-00-01")
	u.see("Unknown number: no client card yet.")
	screenshot(t, ctx, shots, "phone-incoming")
	u.click("Create client card")
	u.see("No client has the number +79990000001")
	u.fill("Name", "Пётр Сидоров")
	u.fill("Email", "petr@example.com")
	u.click("Create client card")
	u.see("Пётр Сидоров")

	// Answered and hung up with a recording: the card plays it.
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.Answer("pbx-1", "+7 999 000-00-01", "74950000000", "in", "admin@example.com"), false))
	rec := pbx.AddRecording([]byte("ID3 the call's recording"))
	require.Equal(t, http.StatusOK, ctitest.Post(t, hook, ctitest.Hangup("pbx-1", "+7 999 000-00-01", "74950000000", "in", "normalClearing", rec), false))
	u.do("the recording plays on the card", `(() => { const a = document.querySelector(".call-card audio"); return a && a.src.includes("/api/v1/files/") ? "" : "no recording"; })()`)
	u.do("the recording is reachable", `(() => { const a = document.querySelector(".call-card audio"); const x = new XMLHttpRequest(); x.open("GET", a.src, false); x.send(); return x.status === 200 && x.responseText === "ID3 the call's recording" ? "" : "HTTP " + x.status; })()`)
	screenshot(t, ctx, shots, "phone-call-card")

	// A resolved conversation from the call.
	u.fill("Type", "Support")
	u.fill("Solution", "Explained the delivery terms")
	u.click("Create conversation")
	u.see("Incoming call from +7 999 000-00-01")
	u.see("Пётр Сидоров")
	screenshot(t, ctx, shots, "phone-conversation")
}
