//go:build faults

package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/email/emailtest"
	"github.com/linedesk/linedesk/connectors/smtpmail/smtpmailtest"
)

// faultMail is mail number j of client thread k: the first opens the thread, each later one
// answers the one before it, as a mail client threads them.
func faultMail(k, j int) (raw []byte, text string) {
	id := func(j int) string { return fmt.Sprintf("t%02d-%d@faults.example", k, j) }
	text = fmt.Sprintf("thread %02d mail %d", k, j)
	subject := fmt.Sprintf("Order %02d", k)
	var extra []string
	if j > 0 {
		subject = "Re: " + subject
		refs := ""
		for i := range j {
			refs += " <" + id(i) + ">"
		}
		extra = []string{"In-Reply-To: <" + id(j-1) + ">", "References:" + refs}
	}
	return emailtest.Message(fmt.Sprintf("Client %02d <client%02d@faults.example>", k, k), deskAddress, subject, id(j), text, extra...), text
}

// TestFaultIMAPOutageThenUIDValidityReset: the mailbox intake runs against go-imap's IMAP
// server. The server goes down (listener and connections closed) and 200 mails — 40 threads of
// 5 — arrive during the outage; the intake records the failure (shown in the channel's health),
// retries, and once the server is back takes every mail exactly once, each thread in one
// conversation in the order it was written. Then, with the intake connected and idling, the
// folder is re-created (a new UIDVALIDITY, new UIDs for the same mails) and a few new mails
// arrive, two of them answering old threads: the folder is read again, nothing is imported
// twice, and the new mails come in, the answers in their threads' conversations.
func TestFaultIMAPOutageThenUIDValidityReset(t *testing.T) {
	outage := faultDuration(t, "LINEDESK_FAULT_IMAP_OUTAGE", 20*time.Second)
	const threads, perThread = 40, 5
	a := newApp(t, appOptions{})
	imap := emailtest.NewIMAP(t, deskAddress, mailboxPassword)
	smtpd := smtpmailtest.New(t)
	// poll_seconds 5 (the least the desk takes, the default is 60) bounds how long a folder
	// re-created under an idling session goes unnoticed: IDLE reports nothing for it.
	_, ch := a.messengerLine("email", map[string]any{"address": deskAddress, "imap_host": "127.0.0.1", "imap_port": imap.Port(),
		"imap_security": "none", "smtp_host": "127.0.0.1", "smtp_port": smtpd.Port(), "smtp_security": "none", "poll_seconds": 5},
		map[string]string{"password": mailboxPassword})
	id := ch.Channel.ID
	inbox := func() int {
		return a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id)
	}
	distinctInbox := func() int {
		return a.queryInt(`SELECT count(DISTINCT m.text) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.channel_id = $1 AND m.direction = 'in'`, id)
	}
	routed := func() bool {
		return a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1 AND routed_seq < inbound_seq`, id) == 0 &&
			a.queryInt(`SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
				WHERE c.channel_id = $1 AND m.direction = 'in' AND m.conversation_number IS NULL`, id) == 0
	}
	health := func() (h struct {
		Mailbox struct {
			UIDValidity uint32 `json:"uid_validity"`
			Imported    int    `json:"imported"`
			Backlog     int    `json:"backlog"`
			LastError   string `json:"last_error"`
			Resyncs     int    `json:"resyncs"`
		} `json:"mailbox"`
	}) {
		res := a.do(a.http, "GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
		res.json(t, &h)
		return h
	}

	stop := a.runPullers()
	defer stop()
	imap.Deliver(emailtest.Message("first@faults.example", deskAddress, "Before the outage", "before@faults.example", "before the outage"), false)
	a.waitFor("the mail before the outage", 30*time.Second, func() bool { return inbox() == 1 })

	// The outage: the server stops, its sessions are cut; 200 mails arrive meanwhile, spread
	// over it (thread by thread: every thread's first mail, then every second one, …).
	imap.Stop()
	down := time.Now()
	var failure string
	a.waitFor("the outage shown in the channel's health", 30*time.Second, func() bool {
		failure = health().Mailbox.LastError
		return failure != ""
	})
	gap := outage * 9 / 10 / (threads * perThread)
	texts := map[int][]string{}
	for j := range perThread {
		for k := range threads {
			raw, text := faultMail(k, j)
			imap.Deliver(raw, j%2 == 1) // some already read by another client
			texts[k] = append(texts[k], text)
			time.Sleep(gap)
		}
	}
	time.Sleep(time.Until(down.Add(outage)))
	require.Equal(t, 1, inbox(), "mail came in while the server was down")
	imap.Start()
	up := time.Now()
	// The intake comes back on its own: the first mail after the outage shows when it
	// reconnected (its retries back off from 2 s to a minute), the last when it caught up.
	var resumed time.Duration
	a.waitFor("all 200 mails after the outage", 90*time.Second, func() bool {
		n := inbox()
		if n > 1 && resumed == 0 {
			resumed = time.Since(up)
		}
		return n == 1+threads*perThread
	})
	caughtUp := time.Since(up)
	a.waitFor("every mail in its conversation", 90*time.Second, routed)
	routedAfter := time.Since(up)
	distinctAfterOutage := distinctInbox()
	require.Equal(t, 1+threads*perThread, distinctAfterOutage, "a mail imported twice")
	a.waitFor("the channel healthy again", 20*time.Second, func() bool {
		h := health().Mailbox
		return h.LastError == "" && h.Backlog == 0 && h.Imported == 1+threads*perThread
	})

	// Each thread is one chat with one conversation, its mails in the order written.
	checkThreads := func(extra map[int][]string) (inOrder int) {
		t.Helper()
		for k := range threads {
			chat := fmt.Sprintf("thread:t%02d-0@faults.example", k)
			require.Equal(t, 1, a.queryInt(`SELECT count(*) FROM conversations cv JOIN chats c ON c.id = cv.chat_id
				WHERE c.channel_id = $1 AND c.external_id = $2`, id, chat), "thread %d: conversations", k)
			var got []string
			for _, m := range a.messages(a.conversationOf(id, chat)) {
				if m.Direction == "in" {
					got = append(got, m.Text)
				}
			}
			want := append(slices.Clone(texts[k]), extra[k]...)
			require.Equal(t, want, got, "thread %d: the conversation's mails", k)
			inOrder += len(got)
		}
		return inOrder
	}
	checkThreads(nil)
	require.Equal(t, 1+threads, a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1`, id))

	// UIDVALIDITY reset under the connected, idling intake: the same 201 mails under new UIDs,
	// then three new threads and two answers to old ones.
	was := imap.UIDValidity()
	imap.Recreate()
	reset := time.Now()
	now := imap.UIDValidity()
	require.NotEqual(t, was, now)
	extra := map[int][]string{}
	for _, k := range []int{0, 1} {
		raw, text := faultMail(k, perThread)
		imap.Deliver(raw, false)
		extra[k] = append(extra[k], text)
	}
	for k := threads; k < threads+3; k++ {
		raw, _ := faultMail(k, 0)
		imap.Deliver(raw, false)
	}
	const newMails = 5
	a.waitFor("the new mails after the reset", 60*time.Second, func() bool { return inbox() == 1+threads*perThread+newMails })
	resynced := time.Since(reset)
	a.waitFor("the resync recorded", 20*time.Second, func() bool {
		h := health().Mailbox
		return h.Resyncs == 1 && h.UIDValidity == now && h.Backlog == 0 && h.LastError == ""
	})
	a.waitFor("the new mails in their conversations", 60*time.Second, routed)
	total := inbox()
	require.Equal(t, 1+threads*perThread+newMails, total, "a mail imported twice after the reset")
	require.Equal(t, total, distinctInbox(), "a mail imported twice after the reset")
	require.Equal(t, total, a.queryInt(`SELECT count(*) FROM inbound_keys WHERE channel_id = $1`, id))
	require.Equal(t, 1+threads+3, a.queryInt(`SELECT count(*) FROM chats WHERE channel_id = $1`, id), "an answer opened a chat of its own")
	inOrder := checkThreads(extra)
	// Nothing more comes in later (the reread is finished, not pending).
	// (Read here, not in require.Never's goroutine, which may still query as the test ends.)
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		require.Equal(t, total, inbox())
	}

	t.Logf("FIGURE: imap outage %s with %d mails (%d threads x %d) arriving during it: the failure shown in the channel's health (%q); "+
		"after the server came back the intake resumed in %s (its retry backoff), all %d stored in %s and routed to their conversations in %s, "+
		"each once (%d distinct of %d stored incl. 1 before the outage), "+
		"%d/%d in their thread's single conversation in written order; UIDVALIDITY reset %d->%d under the idling intake (poll_seconds 5) "+
		"plus %d new mails: %d reread, 0 imported twice, the new ones in after %s, resyncs=1; in linedesk %d mails, each once",
		outage, threads*perThread, threads, perThread, failure, resumed.Round(time.Millisecond), threads*perThread, caughtUp.Round(time.Millisecond),
		routedAfter.Round(time.Millisecond), distinctAfterOutage, 1+threads*perThread, inOrder, threads*perThread+2, was, now, newMails, 1+threads*perThread,
		resynced.Round(time.Millisecond), total)
}
