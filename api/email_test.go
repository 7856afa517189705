package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/email/emailtest"
	"github.com/linedesk/linedesk/connectors/smtpmail/smtpmailtest"
	"github.com/linedesk/linedesk/inbound"
)

const deskAddress = "support@desk.example"

// mailboxPassword is the desk mailbox's password on the fake servers: long enough that a random
// token in an answer never contains it by chance.
const mailboxPassword = "mailbox-secret-2f9c"

func mailFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "connectors", "email", "testdata", name))
	require.NoError(t, err)
	return raw
}

// mailLine makes a line with an email channel on the given IMAP and SMTP servers.
func (a *app) mailLine(imapPort, smtpPort int, password string) messengerChannel {
	a.t.Helper()
	_, ch := a.messengerLine("email", map[string]any{"address": deskAddress, "imap_host": "127.0.0.1", "imap_port": imapPort,
		"imap_security": "none", "smtp_host": "127.0.0.1", "smtp_port": smtpPort, "smtp_security": "none",
		"signature": "Linedesk support, +7 495 000-00-00"}, map[string]string{"password": password})
	return ch
}

// runPullers runs the channels that pull (Telegram's long polling, the mailbox intake) as
// `linedesk api` does, until the returned stop is called.
func (a *app) runPullers() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The pullers log where the server does: a failing test shows what the intake met.
		api.RunPollingEvery(ctx, api.Deps{Store: a.store, Temporal: a.temporal, Logger: a.logger,
			Inbound: inbound.New(a.store, a.temporal, a.logger), AllowPrivateCallbacks: true}, 100*time.Millisecond)
	}()
	return func() { cancel(); <-done }
}

// mailMessages waits until a conversation lists a message containing want and returns the
// listing.
func (a *app) mailMessages(n int64, want string) response {
	a.t.Helper()
	var res response
	a.waitFor("the message "+want, 20*time.Second, func() bool {
		res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", n), nil, nil)
		return strings.Contains(res.text, want)
	})
	return res
}

// TestEmailChannelEndToEnd: a mail (already read by another client) opens a conversation titled
// by its subject, with its attachments; the operator's reply reaches the client's mail server
// threaded (In-Reply-To, References, the desk's Message-ID, the signature); the client's answer
// with Outlook's quoted history joins the same conversation without the history; an
// auto-reply opens nothing and is recorded; a bounce marks the reply failed with the reason.
func TestEmailChannelEndToEnd(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, "mailbox-password")
	smtpd := smtpmailtest.NewWithAuth(t, deskAddress, "mailbox-password")
	ch := a.mailLine(imap.Port(), smtpd.Port(), "mailbox-password")
	id := ch.Channel.ID
	require.Empty(t, ch.Channel.WebhookURL, "an email channel shows no webhook address")
	require.Equal(t, []string{"password"}, ch.Channel.CredentialsSet)
	require.Equal(t, http.StatusNotFound, postHook(t, fmt.Sprintf("%s/hooks/%d", a.url, id), nil, []byte(`{}`)), "an email channel takes no webhooks")

	res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/test", id), nil, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	require.Contains(t, res.text, `"ok":true`)

	stop := a.runPullers()
	defer stop()
	imap.Deliver(mailFile(t, "multipart.eml"), true)
	n := a.conversationOf(id, "thread:CAJ1anna.0001@mail.example.com")
	conv := a.do(a.http, "GET", fmt.Sprintf("/api/v1/conversations/%d", n), nil, nil)
	require.Contains(t, conv.text, `"title":"Не работает оплата картой"`)
	c := a.conversation(n)
	require.Equal(t, "anna@example.com", c.Contact.Email)
	require.Equal(t, "Анна Петрова", c.Contact.Name)
	msgs := a.mailMessages(n, "При оплате картой появляется ошибка 502.")
	require.Contains(t, msgs.text, `"name":"screen.png"`)
	require.Contains(t, msgs.text, `"name":"счёт.pdf"`)
	require.Contains(t, msgs.text, `"subject":"Не работает оплата картой"`)
	require.Contains(t, msgs.text, `\u003cb\u003eошибка 502\u003c/b\u003e`, "the sanitised HTML")
	require.NotContains(t, msgs.text, "alert(1)")

	_, op := a.newOperator("mila@example.com", "Mila")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)
	res = a.do(op, "POST", path+"/messages", map[string]string{"text": "Try again, please: we fixed it."}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	sent := smtpd.WaitFor(t, 1, 20*time.Second)
	reply := sent[0]
	require.Equal(t, []string{"anna@example.com"}, reply.To)
	require.Equal(t, deskAddress, reply.From)
	parsed, err := email.Parse(reply.Raw, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "Re: Не работает оплата картой", parsed.Subject)
	require.Equal(t, []string{"CAJ1anna.0001@mail.example.com"}, parsed.InReplyTo)
	require.Contains(t, parsed.References, "CAJ1anna.0001@mail.example.com")
	require.True(t, strings.HasSuffix(parsed.MessageID, "@desk.example"), parsed.MessageID)
	require.Equal(t, "Mila", parsed.From.Name)
	require.Equal(t, "Try again, please: we fixed it.\n\n-- \nLinedesk support, +7 495 000-00-00", parsed.Text)
	require.Empty(t, reply.Message.Header.Get("Auto-Submitted"), "an operator's reply is a person's mail")
	a.waitFor("the reply marked sent", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'out' AND status = 'sent'`, n) == 1
	})

	// The client answers from Outlook, quoting the reply: the answer joins the same chat.
	answer := strings.ReplaceAll(string(mailFile(t, "outlook-reply.eml")), "REPLYID@desk.example", parsed.MessageID)
	imap.Deliver([]byte(answer), false)
	a.waitFor("the client's answer in the conversation", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'in'`, n) == 2
	})
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND text = $2`, n, "Спасибо, теперь всё работает.\n\nАнна"),
		"the answer without its quoted history")
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1`, id), "the answer opened a chat of its own")

	// An out-of-office reply to the desk's mail opens nothing and is recorded.
	ooo := strings.ReplaceAll(string(mailFile(t, "auto-reply.eml")), "REPLYID@desk.example", parsed.MessageID)
	imap.Deliver([]byte(ooo), false)
	// A bounce of the desk's reply marks it failed with the server's reason.
	bounce := strings.ReplaceAll(string(mailFile(t, "bounce.eml")), "BOUNCEDID@desk.example", parsed.MessageID)
	imap.Deliver([]byte(bounce), false)
	a.waitFor("the reply marked failed by the bounce", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'out' AND status = 'failed'`, n) == 1
	})
	msgs = a.do(a.http, "GET", path+"/messages", nil, nil)
	require.Contains(t, msgs.text, "User unknown")
	require.Equal(t, 2, a.queryInt(`SELECT count(*) FROM mail_automatic WHERE channel_id = $1`, id))
	require.Equal(t, 2, a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id),
		"an automatic mail became a message")
	require.Len(t, smtpd.Received(), 1, "an automatic mail was answered")

	// Health: the last sync, nothing waiting, what was imported.
	a.waitFor("the mailbox synced", 10*time.Second, func() bool {
		res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, nil)
		return strings.Contains(res.text, `"backlog":0`) && strings.Contains(res.text, `"imported":2`) && strings.Contains(res.text, `"automatic":2`)
	})
	res = a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, nil)
	require.Contains(t, res.text, `"last_sync_at":"`)
	require.NotContains(t, res.text, "mailbox-password")

	// "Решено": the solution goes to the client in the same thread, through the channel's mailbox.
	res = a.do(op, "POST", path+"/close", map[string]any{"solution": "The payment gateway is fixed.", "confirm_unread": true}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	got := smtpd.WaitFor(t, 2, 20*time.Second)
	sol, err := email.Parse(got[1].Raw, 1<<20)
	require.NoError(t, err)
	require.Equal(t, []string{"anna@example.com"}, got[1].To)
	require.Equal(t, "Re: Не работает оплата картой", sol.Subject)
	require.Contains(t, sol.Text, "The payment gateway is fixed.")
	require.Contains(t, sol.References, "CAJ1anna.0001@mail.example.com")
	require.Equal(t, "auto-generated", got[1].Message.Header.Get("Auto-Submitted"))
}

// TestEmailCharsets: koi8-r and windows-1251 mails (subjects in RFC 2047) read correctly.
func TestEmailCharsets(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, mailboxPassword)
	smtpd := smtpmailtest.New(t)
	id := a.mailLine(imap.Port(), smtpd.Port(), mailboxPassword).Channel.ID
	stop := a.runPullers()
	defer stop()
	imap.Deliver(mailFile(t, "koi8r.eml"), false)
	imap.Deliver(mailFile(t, "cp1251.eml"), false)
	k := a.conversationOf(id, "thread:koi8-1@example.ru")
	w := a.conversationOf(id, "thread:cp1251-1@romashka.example")
	msgs := a.mailMessages(k, "Добрый день! Прошу выслать копию договора N17.")
	require.Contains(t, msgs.text, `"subject":"Вопрос по договору"`)
	require.Equal(t, "Иван", a.conversation(k).Contact.Name)
	msgs = a.mailMessages(w, "Пришлите, пожалуйста, счёт на оплату для ООО «Ромашка».")
	require.Contains(t, msgs.text, `"subject":"Счёт на оплату"`)
}

// TestEmailIntakeCatchesUpOnceAfterDowntime: 200 mails arrive while the intake is stopped and
// the IMAP server is down for a while; once both are back every one is imported exactly once.
// Then the folder is re-created (a new UIDVALIDITY, new UIDs for the same mail): nothing is
// imported twice, and a mail arriving after that still comes in.
func TestEmailIntakeCatchesUpOnceAfterDowntime(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, mailboxPassword)
	smtpd := smtpmailtest.New(t)
	id := a.mailLine(imap.Port(), smtpd.Port(), mailboxPassword).Channel.ID
	inbox := func() int {
		return a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id)
	}
	stop := a.runPullers()
	imap.Deliver(emailtest.Message("first@example.com", deskAddress, "Before the outage", "before@example.com", "hello"), false)
	a.waitFor("the first mail", 20*time.Second, func() bool { return inbox() == 1 })
	stop()

	for i := range 200 {
		from := fmt.Sprintf("client%03d@example.com", i%20)
		imap.Deliver(emailtest.Message(from, deskAddress, fmt.Sprintf("Request %d", i), fmt.Sprintf("req-%d@example.com", i),
			fmt.Sprintf("body of request %d", i)), i%2 == 0)
	}
	imap.Stop()
	stop = a.runPullers()
	defer stop()
	a.waitFor("the outage recorded", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM mailbox_state WHERE channel_id = $1 AND last_error <> ''`, id) == 1
	})
	imap.Start()
	a.waitFor("all 201 mails", 60*time.Second, func() bool { return inbox() == 201 })
	require.Equal(t, 201, a.queryInt(`SELECT count(DISTINCT text) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id))
	require.Equal(t, 201, a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1`, id), "each new subject is a thread of its own")
	a.waitFor("the error cleared", 10*time.Second, func() bool {
		res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, nil)
		return strings.Contains(res.text, `"last_error":""`) && strings.Contains(res.text, `"imported":201`) && strings.Contains(res.text, `"backlog":0`)
	})

	// The folder is re-created as in a server migration: the server restarts with it.
	was := imap.UIDValidity()
	imap.Stop()
	imap.Recreate()
	imap.Start()
	require.NotEqual(t, was, imap.UIDValidity())
	imap.Deliver(emailtest.Message("late@example.com", deskAddress, "After the resync", "after@example.com", "still here"), false)
	a.waitFor("the mail after the resync", 30*time.Second, func() bool { return inbox() == 202 })
	a.waitFor("the resync recorded", 10*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM mailbox_state WHERE channel_id = $1 AND resyncs = 1 AND uid_validity = $2`, id, int64(imap.UIDValidity())) == 1
	})
	require.Equal(t, 202, inbox(), "a mail was imported twice after the UIDVALIDITY change")
}

// TestEmailConnectionTestSaysWhatFailed: a wrong password fails at login, a missing folder at
// folder, a closed SMTP port at smtp_connect; bad settings are refused when saved.
func TestEmailConnectionTestSaysWhatFailed(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, "right")
	smtpd := smtpmailtest.NewWithAuth(t, deskAddress, "right")
	check := func(settings map[string]any, password string) (step string) {
		t.Helper()
		base := map[string]any{"address": deskAddress, "imap_host": "127.0.0.1", "imap_port": imap.Port(), "imap_security": "none",
			"smtp_host": "127.0.0.1", "smtp_port": smtpd.Port(), "smtp_security": "none"}
		for k, v := range settings {
			base[k] = v
		}
		_, ch := a.messengerLine("email", base, map[string]string{"password": password})
		res := a.do(a.http, "POST", fmt.Sprintf("/api/v1/channels/%d/test", ch.Channel.ID), nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		var out struct {
			OK    bool   `json:"ok"`
			Step  string `json:"step"`
			Error string `json:"error"`
		}
		res.json(t, &out)
		require.Equal(t, out.OK, out.Step == "", res.text)
		return out.Step
	}
	require.Equal(t, "", check(nil, "right"))
	require.Equal(t, "login", check(nil, "wrong"))
	require.Equal(t, "folder", check(map[string]any{"folder": "Support"}, "right"))
	require.Equal(t, "tls", check(map[string]any{"imap_security": "tls"}, "right"))
	require.Equal(t, "smtp_connect", check(map[string]any{"smtp_port": 1}, "right"))

	res := a.do(a.http, "POST", "/api/v1/channels", map[string]any{"kind": "email", "name": "bad", "line_id": 1,
		"settings": map[string]any{"address": "not an address", "imap_host": "", "smtp_host": "smtp.example.com", "imap_security": "ssl"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	for _, want := range []string{"settings.address", "settings.imap_host", "settings.imap_security", "credentials.password"} {
		require.Contains(t, res.text, want)
	}
}

// TestEmailReplyRefusedOrDeferred: an SMTP server refusing the recipient for good (550) marks
// the reply failed with the server's reason; one deferring it (451) gets it again later, and it
// arrives once.
func TestEmailReplyRefusedOrDeferred(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, mailboxPassword)
	smtpd := smtpmailtest.NewWithAuth(t, deskAddress, mailboxPassword)
	id := a.mailLine(imap.Port(), smtpd.Port(), mailboxPassword).Channel.ID
	stop := a.runPullers()
	defer stop()
	imap.Deliver(emailtest.Message("Vera <vera@example.com>", deskAddress, "Refund", "refund-1@example.com", "Where is my refund?"), false)
	n := a.conversationOf(id, "thread:refund-1@example.com")
	_, op := a.newOperator("refund-op@example.com", "Oleg")
	path := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(op, "POST", path+"/take", nil, nil).status)

	smtpd.Refuse(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox vera@example.com does not exist"})
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Refund sent."}, nil).status)
	a.mailMessages(n, "does not exist")
	require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND direction = 'out' AND status = 'failed'`, n))

	smtpd.Refuse(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"})
	require.Equal(t, http.StatusCreated, a.do(op, "POST", path+"/messages", map[string]string{"text": "Second try."}, nil).status)
	a.waitFor("a deferred attempt", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM delivery_attempts d JOIN messages m ON m.id = d.message_id
			WHERE m.conversation_number = $1 AND m.text = 'Second try.' AND d.error LIKE '%try again later%'`, n) >= 1
	})
	smtpd.Refuse(nil)
	got := smtpd.WaitFor(t, 1, 60*time.Second)
	require.Contains(t, got[0].Body, "Second try.")
	a.waitFor("the deferred reply sent", 20*time.Second, func() bool {
		return a.queryInt(`SELECT count(*) FROM messages WHERE conversation_number = $1 AND text = 'Second try.' AND status = 'sent'`, n) == 1
	})
	time.Sleep(time.Second)
	require.Len(t, smtpd.Received(), 1, "a mail went twice")
}
