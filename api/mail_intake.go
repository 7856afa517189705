package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
)

// The mailbox intake (ARCHITECTURE §4, "one poller per mailbox"). Each enabled email channel is
// read by one process at a time (the channel's puller lock, as Telegram's long polling). Its cursor
// — UIDVALIDITY and the last UID handed over — lives in PostgreSQL (mailbox_state) and moves only
// after the mails before it are stored, so a restart, a crash or an outage of any length goes on
// from there and fetches everything missed; a mail handed over twice (a crash between storing it
// and moving the cursor) is dropped by the inbound dedupe, whose key is the mail's Message-ID
// (or its hash). The \Seen flag is never read nor set (the folder is opened read-only), so mail
// another client has read is imported all the same. A changed UIDVALIDITY restarts the cursor at
// 0: every mail is read again and the ones already imported are known by their keys.
//
// The cursor is kept by this loop rather than by a Temporal workflow: an IMAP session (IDLE) is
// a long-lived socket that cannot live in workflow code, and a workflow would add history events
// per poll without adding durability the PostgreSQL cursor does not already give.

// mailBatch is how many mails one FETCH reads; the cursor moves after each batch.
const mailBatch = 50

// mailBatchBytes bounds the size of one batch.
const mailBatchBytes = 64 << 20

// mailIdleMax bounds one IDLE (RFC 2177 asks for less than 29 minutes); settings changes are
// picked up between two.
const mailIdleMax = 5 * time.Minute

// mailChannel reads one mailbox while this process holds the channel's puller lock.
func (s *Server) mailChannel(ctx context.Context, ch store.Channel) {
	backoff := 2 * time.Second
	for ctx.Err() == nil {
		release, ok, err := s.store.HoldChannelPuller(ctx, ch.ID)
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "mail intake: take the channel", "channel_id", ch.ID, "error", err)
			}
			sleep(ctx, 5*time.Second)
			continue
		}
		err = s.mailHeld(ctx, ch.ID)
		release()
		if err == nil {
			backoff = 2 * time.Second
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.logger.WarnContext(ctx, "mail intake", "channel_id", ch.ID, "error", err)
		if rerr := s.store.MailboxFailed(context.WithoutCancel(ctx), ch.ID, err.Error()); rerr != nil {
			s.logger.WarnContext(ctx, "mail intake: record the failure", "channel_id", ch.ID, "error", rerr)
		}
		sleep(ctx, backoff)
		backoff = min(backoff*2, time.Minute)
	}
}

// mailHeld connects, catches up and then waits for new mail (IDLE, or polling), until the
// connection fails or the channel's settings change (nil: connect again).
func (s *Server) mailHeld(ctx context.Context, id int64) error {
	_, ch, err := channelFor(ctx, s.store, id)
	if err != nil {
		return err
	}
	set, err := email.ReadSettings(ch.Settings)
	if err != nil {
		return err
	}
	version := channelVersion(ch)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	box, err := email.Dial(dctx, set, ch.Credentials[email.CredentialPassword])
	cancel()
	if err != nil {
		return err
	}
	defer box.Close()
	// Stopping (ctx) closes the connection, so a command waiting on a server that stopped
	// answering returns at once.
	defer context.AfterFunc(ctx, func() { _ = box.Close() })()
	poll := time.Duration(set.PollSeconds) * time.Second
	for ctx.Err() == nil {
		if err := s.syncMailbox(ctx, box, ch, set); err != nil {
			return err
		}
		// With IDLE the server tells of new mail at once; the folder is still looked at again
		// every poll interval, so a connection that died silently or a folder re-created under
		// an idling session (a new UIDVALIDITY) costs at most that long.
		if err := box.Wait(ctx, min(poll, mailIdleMax)); err != nil {
			return err
		}
		_, now, err := channelFor(ctx, s.store, id)
		if err != nil {
			return err
		}
		if channelVersion(now) != version {
			return nil // new settings or password: sign in again with them
		}
	}
	return nil
}

// channelVersion identifies a channel's settings and credentials.
func channelVersion(ch connectors.Channel) [32]byte {
	b, _ := json.Marshal(struct {
		S json.RawMessage
		C map[string]string
	}{ch.Settings, ch.Credentials})
	return sha256.Sum256(b)
}

// syncMailbox hands over every mail after the cursor, a batch at a time.
func (s *Server) syncMailbox(ctx context.Context, box *email.Mailbox, ch connectors.Channel, set email.Settings) error {
	sel, err := box.Select(set.Folder)
	if err != nil {
		return err
	}
	st, err := s.store.MailboxState(ctx, ch.ID)
	if err != nil {
		return err
	}
	if st.UIDValidity != sel.UIDValidity {
		if st.UIDValidity != 0 {
			s.logger.WarnContext(ctx, "mail intake: UIDVALIDITY changed, reading the folder again", "channel_id", ch.ID,
				"was", st.UIDValidity, "now", sel.UIDValidity)
		}
		if err := s.store.ResetMailboxCursor(ctx, ch.ID, sel.UIDValidity); err != nil {
			return err
		}
		st.LastUID = 0
	}
	pending, err := box.After(st.LastUID)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return s.store.AdvanceMailbox(ctx, ch.ID, sel.UIDValidity, st.LastUID, 0)
	}
	for start := 0; start < len(pending); {
		// A batch is at most mailBatch mails and mailBatchBytes (a backlog of large mails must
		// not be held in memory at once); one mail always fits.
		end, size := start, int64(0)
		for end < len(pending) && end-start < mailBatch && (end == start || size+pending[end].Size <= mailBatchBytes) {
			size += pending[end].Size
			end++
		}
		batch := pending[start:end]
		raws, err := box.Fetch(batch)
		if err != nil {
			return err
		}
		if err := s.takeMails(ctx, ch, set, raws); err != nil {
			return err
		}
		last := batch[len(batch)-1].UID
		if err := s.store.AdvanceMailbox(ctx, ch.ID, sel.UIDValidity, last, len(pending)-end); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// mailWorkers bounds how many mails of a batch are read (parsed) and stored at once.
const mailWorkers = 8

// read is one fetched mail, parsed.
type readMail struct {
	raw  email.Raw
	mail *email.Mail
	err  error
	// chat is the external id of the chat it joins.
	chat string
}

// takeMails hands a batch of mail over. Mails are parsed in parallel; automatic ones
// (auto-replies, bounces) are recorded and nothing more; every other joins the chat of the
// thread it answers — found among the desk's known Message-IDs or earlier in the batch — or
// opens a chat of its own. Chats are stored in parallel, each chat's mails in UID order.
func (s *Server) takeMails(ctx context.Context, ch connectors.Channel, set email.Settings, raws []email.Raw) error {
	mails := make([]readMail, len(raws))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(mailWorkers, len(raws)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				mails[i] = readMail{raw: raws[i]}
				mails[i].mail, mails[i].err = parseMail(raws[i], set)
			}
		}()
	}
	for i := range raws {
		work <- i
	}
	close(work)
	wg.Wait()

	var refs []string
	for _, r := range mails {
		if r.err == nil && r.mail.Auto == "" {
			refs = append(refs, r.mail.Thread()...)
		}
	}
	known, err := s.store.MailThreadChats(ctx, ch.ID, refs)
	if err != nil {
		return err
	}
	var order []string
	groups := map[string][]*readMail{}
	for i := range mails {
		r := &mails[i]
		if r.err != nil || r.mail.Auto != "" {
			if err := s.recordAutomatic(ctx, ch, r); err != nil {
				return fmt.Errorf("mail UID %d: %w", r.raw.UID, err)
			}
			continue
		}
		for _, id := range r.mail.Thread() {
			if c, ok := known[id]; ok {
				r.chat = c
				break
			}
		}
		if r.chat == "" {
			root := r.mail.MessageID
			if root == "" {
				root = r.mail.Key()
			}
			r.chat = "thread:" + root
		}
		if r.mail.MessageID != "" {
			if _, ok := known[r.mail.MessageID]; !ok {
				known[r.mail.MessageID] = r.chat // a later mail of the batch answering it joins it
			}
		}
		if _, ok := groups[r.chat]; !ok {
			order = append(order, r.chat)
		}
		groups[r.chat] = append(groups[r.chat], r)
	}

	chats := make(chan []*readMail)
	errs := make(chan error, len(order))
	for range min(mailWorkers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range chats {
				for _, r := range g {
					if err := s.storeMail(ctx, ch, r.mail, r.raw, r.chat); err != nil {
						errs <- fmt.Errorf("mail UID %d: %w", r.raw.UID, err)
						break
					}
				}
			}
		}()
	}
	for _, c := range order {
		chats <- groups[c]
	}
	close(chats)
	wg.Wait()
	close(errs)
	return <-errs // nil when none failed
}

// parseMail reads a fetched mail and marks it automatic when answering it would do harm: the
// desk's own mail coming back, or mail without a sender.
func parseMail(raw email.Raw, set email.Settings) (*email.Mail, error) {
	m, err := email.Parse(raw.Data, maxInboundFile)
	if err != nil {
		return nil, err
	}
	if raw.HeaderOnly {
		m.Text = fmt.Sprintf("(This mail is larger than %d MB; it stays in the mailbox and was not imported.)", email.MaxMail>>20)
		m.New = m.Text
	}
	if m.Auto == "" && m.From.Address == set.Address {
		m.Auto = "own" // a copy of the desk's own mail: answering it would loop
	}
	if m.From.Address == "" && m.Auto == "" {
		m.Auto = "no-sender"
	}
	return m, nil
}

// recordAutomatic keeps an automatic or unreadable mail in the channel's record; a bounce also
// marks failed the desk's mail it names.
func (s *Server) recordAutomatic(ctx context.Context, ch connectors.Channel, r *readMail) error {
	if r.err != nil {
		sum := sha256.Sum256(r.raw.Data)
		_, err := s.store.RecordAutomaticMail(ctx, ch.ID, fmt.Sprintf("sha:%x", sum), "unreadable", "", "", r.err.Error())
		return err
	}
	m := r.mail
	detail := ""
	if b := m.Bounce; b != nil {
		detail = strings.ToValidUTF8(strings.ReplaceAll(strings.TrimSpace(strings.Join([]string{b.Recipient, b.Status, b.Reason}, " ")), "\x00", ""), "")
	}
	// The record and what a bounce marks failed commit together: were the bounce's update to
	// fail after the record, the batch's retry would find the mail already met and the desk's
	// failed mail would stay "sent".
	return s.store.InTx(ctx, func(tx *store.Store) error {
		isNew, err := tx.RecordAutomaticMail(ctx, ch.ID, m.Key(), m.Auto, m.From.Address, m.Subject, detail)
		if err != nil || !isNew || m.Bounce == nil {
			// A bounce met again (a batch read twice, a reread folder) changes nothing: the mail
			// it names may have been sent again since.
			return err
		}
		reason := "the mail bounced"
		if detail != "" {
			reason += ": " + detail
		}
		_, err = tx.BounceMail(ctx, ch.ID, m.Bounce.Original, reason)
		return err
	})
}

// storeMail hands one mail to its chat through the inbound hand-off, with its files and its
// mail side (headers, whole text, HTML, Message-ID for threading).
func (s *Server) storeMail(ctx context.Context, ch connectors.Channel, m *email.Mail, raw email.Raw, chat string) error {
	key := m.Key()
	base := s.publicURL
	var files []apichannel.Attachment
	var fileIDs []uuid.UUID
	for i, f := range m.Files {
		var ferr error
		if f.Dropped != "" {
			ferr = connectors.ErrTooLarge
		}
		// The file's id comes from the mail's bytes too: another mail reusing a Message-ID (a
		// broken mailer, or someone who saw it) never writes over the first one's files.
		at, id, err := s.keepChannelFile(ctx, ch, key+"\x00"+m.Hash, i, f.Name, f.ContentType, f.Data, ferr, base)
		if err != nil {
			return err
		}
		if id != uuid.Nil {
			fileIDs = append(fileIDs, id)
		}
		files = append(files, at)
	}
	text := m.New
	if strings.TrimSpace(text) == "" && len(files) == 0 {
		text = "(empty mail)"
	}
	msg := inbound.Message{ChannelID: ch.ID, Kind: ch.Kind, Key: key, Chat: chat, Text: text, At: mailTime(raw, m),
		Contact: inbound.Contact{ExternalID: m.From.Address, Name: m.From.Name, Email: m.From.Address}}
	if len(files) > 0 {
		msg.Files, _ = json.Marshal(files)
	}
	acc, err := s.handoff.Accept(ctx, msg)
	if errors.Is(err, inbound.ErrBlocked) {
		s.logger.InfoContext(ctx, "mail intake: a blocked sender's mail left out", "channel_id", ch.ID, "message_id", m.MessageID)
		return nil
	}
	if errors.Is(err, inbound.ErrKeyReused) {
		// Another mail under a Message-ID already imported: the first stands.
		s.logger.WarnContext(ctx, "mail intake: a second mail with a known Message-ID", "channel_id", ch.ID, "message_id", m.MessageID)
		return nil
	}
	if err != nil {
		return err
	}
	from, _ := json.Marshal(m.From)
	to, _ := json.Marshal(nonNilAddresses(m.To))
	cc, _ := json.Marshal(nonNilAddresses(m.Cc))
	full := ""
	if m.Text != m.New {
		full = m.Text
	}
	if err := s.store.RecordMail(ctx, store.Mail{ChannelID: ch.ID, ChatID: acc.ChatID, MessageID: acc.MessageID,
		HeaderID: m.MessageID, Direction: "in", Subject: m.Subject, From: from, To: to, Cc: cc, FullText: full, HTML: m.HTML}); err != nil {
		return err
	}
	if len(fileIDs) > 0 {
		if err := s.store.LinkFilesToChat(ctx, fileIDs, acc.ChatID); err != nil {
			return err
		}
	}
	return nil
}

func nonNilAddresses(a []email.Address) []email.Address {
	if a == nil {
		return []email.Address{}
	}
	return a
}

// mailTime is when a mail arrived: the server's INTERNALDATE, else its Date header, never
// later than now.
func mailTime(raw email.Raw, m *email.Mail) time.Time {
	t := raw.Received
	if t.IsZero() {
		t = m.Date
	}
	if now := time.Now(); t.IsZero() || t.After(now) {
		return now
	}
	return t
}
