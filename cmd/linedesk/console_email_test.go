package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/email/emailtest"
	"github.com/linedesk/linedesk/connectors/smtpmail/smtpmailtest"
)

// TestConsoleEmailChannelAndAMailConversation: an admin sets up an email channel in the console
// with every seed 000 setting, tests the connection (it says so), a client's mail (multipart,
// attachments, HTML) shows as mail — subject, sender, files, the formatted mail in a sandboxed
// frame — the reply typed in the console reaches the client's SMTP server threaded, and the
// client's Outlook answer joins the conversation with its quoted history folded.
func TestConsoleEmailChannelAndAMailConversation(t *testing.T) {
	ctx := browser(t)
	dev := devForConsole(t)
	shots := screenshots(t)
	const address, password = "support@desk.example", "mailbox-password"
	imap := emailtest.NewIMAP(t, address, password)
	smtpd := smtpmailtest.NewWithAuth(t, address, password)
	admin := adminClient(t, dev.url)
	status, line := postJSON(t, admin.c, dev.url+"/api/v1/lines", map[string]any{"name": "Mail desk", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status, "%v", line)

	u := ui{t, ctx}
	u.open(dev.url + "/")
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`localStorage.setItem("linedesk.lang", "en")`))
	require.NoError(t, err)
	signIn(t, ctx, dev.url, "admin@example.com", "admin")
	u.open(dev.url + "/admin/channels/new")
	u.fill("Kind", "email")
	u.fill("Channel name", "Support mail")
	u.fill("Line", fmt.Sprint(line["id"]))
	u.fill("Mailbox address", address)
	u.fill("Mailbox password", password)
	byName := func(name, value string) {
		u.do("fill "+name, `(() => { const c = document.querySelector("[name="+`+q(name)+`+"]"); if (!c) return "no field";
			const proto = c.tagName === "SELECT" ? HTMLSelectElement.prototype : c.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
			Object.getOwnPropertyDescriptor(proto, "value").set.call(c, `+q(value)+`);
			c.dispatchEvent(new Event("input", { bubbles: true })); c.dispatchEvent(new Event("change", { bubbles: true })); return ""; })()`)
	}
	for _, p := range []string{"imap", "smtp"} {
		byName(p+"_security", "none") // first: choosing the encryption sets its usual port
		byName(p+"_host", "127.0.0.1")
	}
	byName("imap_port", fmt.Sprint(imap.Port()))
	byName("smtp_port", fmt.Sprint(smtpd.Port()))
	u.fill("Signature", "Mail desk, +7 495 000-00-00")
	u.click("Create")
	u.click("Open the channel settings")
	u.see("Enter the mailbox address clients write to")
	u.see("Mailbox password: set")
	u.click("Test connection")
	u.see("Signed in to IMAP and SMTP, the folder opens")
	u.see("Last checked")
	screenshot(t, ctx, shots, "email-channel")

	raw, err := os.ReadFile(filepath.Join("..", "..", "connectors", "email", "testdata", "multipart.eml"))
	require.NoError(t, err)
	imap.Deliver(raw, true)
	u.open(dev.url + "/inbox?view=all")
	u.see("При оплате картой появляется ошибка 502.")
	u.do("open the conversation", `(() => { const r = document.querySelector('[data-number]'); if (!r) return "no row"; r.click(); return ""; })()`)
	u.see("Не работает оплата картой")
	u.see("From: Анна Петрова <anna@example.com>")
	u.do("the screenshot shown", `document.querySelector('.conv-attachments img[alt="screen.png"]') ? "" : "no picture"`)
	u.see("счёт.pdf")
	u.do("show the formatted mail", `(() => { const s = [...document.querySelectorAll("summary")].find(e => e.textContent === "Show the mail as formatted"); if (!s) return "no summary"; s.click(); return ""; })()`)
	u.do("the formatted mail in a sandbox", `(() => { const f = document.querySelector(".conv-mail-html iframe"); if (!f) return "no frame";
		if (f.getAttribute("sandbox") !== "") return "not sandboxed"; return f.srcdoc.includes("<b>ошибка 502</b>") && !f.srcdoc.includes("alert(1)") ? "" : "wrong content"; })()`)
	u.click("Take")
	u.do("the reply box opens", `(() => { const c = __ld.control("Reply to the client"); return c && !c.disabled ? "" : "locked"; })()`)
	u.fill("Reply to the client", "Please try again: the payment gateway is fixed.")
	u.click("Send")
	sent := smtpd.WaitFor(t, 1, 30e9)
	reply, err := email.Parse(sent[0].Raw, 1<<20)
	require.NoError(t, err)
	require.Equal(t, []string{"anna@example.com"}, sent[0].To)
	require.Equal(t, "Re: Не работает оплата картой", reply.Subject)
	require.Equal(t, []string{"CAJ1anna.0001@mail.example.com"}, reply.InReplyTo)
	require.Contains(t, reply.Text, "Please try again: the payment gateway is fixed.\n\n-- \nMail desk, +7 495 000-00-00")

	answer, err := os.ReadFile(filepath.Join("..", "..", "connectors", "email", "testdata", "outlook-reply.eml"))
	require.NoError(t, err)
	imap.Deliver([]byte(strings.ReplaceAll(string(answer), "REPLYID@desk.example", reply.MessageID)), false)
	u.see("Спасибо, теперь всё работает.")
	u.do("the quoted history is folded", `__ld.hasText("Попробуйте ещё раз, мы исправили ошибку.") ? "shown unfolded" : ""`)
	u.do("unfold the quoted history", `(() => { const s = [...document.querySelectorAll("summary")].find(e => e.textContent === "Show the quoted history"); if (!s) return "no summary"; s.click(); return ""; })()`)
	u.see("Попробуйте ещё раз, мы исправили ошибку.")
	screenshot(t, ctx, shots, "email-conversation")
}
