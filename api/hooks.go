package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
)

// maxHookBody bounds a webhook body: platforms send updates of a few kilobytes (media come by
// reference).
const maxHookBody = 1 << 20

// maxInboundFile is the largest client file a messenger channel downloads (Telegram serves bots
// files of up to 20 MB; the desk's own limit is maxFileSize).
const maxInboundFile = maxFileSize

// mediaTimeout bounds the download of one client file while the platform waits for the answer.
const mediaTimeout = 15 * time.Second

// channelFor loads a channel, and the same channel as its connector sees it (secrets opened), in
// one query.
func channelFor(ctx context.Context, st *store.Store, id int64) (store.Channel, connectors.Channel, error) {
	c, secret, creds, err := st.ChannelWithSecrets(ctx, id)
	if err != nil {
		return store.Channel{}, connectors.Channel{}, err
	}
	return c, connectors.Channel{ID: c.ID, Kind: c.Kind, Settings: c.Settings, Credentials: creds, HookSecret: secret}, nil
}

// hook takes a platform's webhook for a messenger channel: the channel's connector authenticates
// it exactly as the platform signs (a bad signature is refused and nothing is stored) and reads
// its events; each message goes through the inbound hand-off (deduplicated by the platform's own
// event id, so a redelivery stores nothing) and each receipt moves its message's status. The
// answer goes as soon as they are durable.
func (s *Server) hook(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFoundErr("channel")
	}
	ch, cch, err := channelFor(ctx, s.store, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("channel")
	}
	if err != nil {
		return err
	}
	conn, ok := s.connectors[ch.Kind]
	if _, none := conn.(connectors.NoWebhooks); !ok || none {
		return newError(http.StatusNotFound, "not_found", "channel %d does not take platform webhooks", id)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxHookBody))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return newError(http.StatusRequestEntityTooLarge, "body_too_large", "the webhook body is larger than %d bytes", maxHookBody)
		}
		return badRequest("read body: %s", err.Error())
	}
	req := connectors.Request{Method: c.Request().Method, Header: c.Request().Header, Query: c.QueryParams(), Body: body, Token: c.Param("token")}
	res, events, err := conn.Receive(cch, req)
	var bad *connectors.BadRequest
	switch {
	case errors.Is(err, connectors.ErrUnauthorized):
		s.logger.WarnContext(ctx, "webhook refused: bad signature", "channel_id", id, "kind", ch.Kind)
		return newError(http.StatusForbidden, "bad_signature", "%s", err.Error())
	case errors.As(err, &bad):
		return badRequest("%s", bad.Reason)
	case err != nil:
		return err
	}
	if len(events) > 0 && !ch.Enabled {
		// The platform repeats a refused delivery; once the channel is enabled again they arrive.
		return newError(http.StatusServiceUnavailable, "channel_disabled", "channel %d is disabled", id)
	}
	for _, e := range events {
		if err := s.hookEvent(ctx, conn, cch, e, s.baseURL(c)); err != nil {
			return err
		}
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	if len(res.Body) == 0 {
		return c.NoContent(status)
	}
	ct := res.ContentType
	if ct == "" {
		ct = echo.MIMETextPlainCharsetUTF8
	}
	return c.Blob(status, ct, res.Body)
}

// hookEvent stores one event of a webhook.
func (s *Server) hookEvent(ctx context.Context, conn connectors.Connector, ch connectors.Channel, e connectors.Event, base string) error {
	if e.Call != nil {
		return s.callEvent(ctx, conn, ch, e, base)
	}
	if e.Status != "" && e.ExternalID == "" && !e.ReadUpTo.IsZero() {
		_, err := s.store.ApplyReadWatermark(ctx, ch.ID, e.Contact.ID, e.ReadUpTo)
		return err
	}
	if e.Status != "" {
		moved, err := s.store.ApplyReceipt(ctx, ch.ID, e.Contact.ID, e.ExternalID, e.Status, e.StatusReason)
		if err != nil {
			return err
		}
		if moved {
			s.logger.DebugContext(ctx, "receipt applied", "channel_id", ch.ID, "status", e.Status)
		}
		return nil
	}
	msg := inbound.Message{ChannelID: ch.ID, Kind: ch.Kind, Key: e.Key, Text: e.Text, Button: e.Button, At: e.At,
		Contact: inbound.Contact{ExternalID: e.Contact.ID, Name: e.Contact.Name, Phone: e.Contact.Phone, ProfileURL: e.Contact.ProfileURL}}
	if e.ReplyTo != nil && e.ReplyTo.Text != "" && msg.Text != "" {
		msg.Text = quote(e.ReplyTo.Text) + msg.Text
	}
	if msg.At.IsZero() {
		msg.At = time.Now()
	}
	if s.handoff.IsBlocked(ctx, ch.ID, e.Contact.ID) {
		return nil // a blocked client's message, files included, is not taken (the platform is answered)
	}
	var fileIDs []uuid.UUID
	if len(e.Files) > 0 {
		files, ids, err := s.fetchFiles(ctx, conn, ch, e, base)
		if err != nil {
			return err
		}
		msg.Files, _ = json.Marshal(files)
		fileIDs = ids
	}
	acc, err := s.handoff.Accept(ctx, msg)
	if errors.Is(err, inbound.ErrBlocked) {
		// A blocked client's message is dropped; the platform is answered so it does not retry.
		return nil
	}
	if errors.Is(err, inbound.ErrKeyReused) {
		// The platform sent its event id again with another body (an edit delivered under the
		// same id): the first one stands.
		return nil
	}
	if err != nil {
		return err
	}
	// Only a chat's first message (sequence 1) asks for the client's name: later messages of the
	// chat cost no lookup.
	if _, ok := conn.(connectors.Profiler); ok && !acc.Duplicate && acc.Seq == 1 && e.Contact.Name == "" && e.Contact.ID != "" {
		s.nameContact(ctx, conn.(connectors.Profiler), ch, e.Contact.ID)
	}
	if len(fileIDs) > 0 {
		// The chat's operators may now open the files.
		if err := s.store.LinkFilesToChat(ctx, fileIDs, acc.ChatID); err != nil {
			return err
		}
	}
	if e.Ack != "" {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := conn.Acknowledge(actx, ch, e); err != nil {
			s.logger.WarnContext(ctx, "acknowledge a button press", "channel_id", ch.ID, "error", err)
		}
	}
	return nil
}

// quote marks the message a client answered, as mail clients do.
func quote(text string) string {
	const max = 200
	if r := []rune(text); len(r) > max {
		text = string(r[:max]) + "…"
	}
	return "> " + text + "\n"
}

// fetchFiles downloads a message's files into the desk's storage. Each file's id is derived
// from the channel's secret and the event, so a redelivered webhook writes the same files again
// rather than new ones, and nobody without the secret can guess a link. A file that cannot be
// fetched (too large, gone) is listed by name with the reason, and the message is kept.
func (s *Server) fetchFiles(ctx context.Context, conn connectors.Connector, ch connectors.Channel, e connectors.Event, base string) ([]apichannel.Attachment, []uuid.UUID, error) {
	var out []apichannel.Attachment
	var ids []uuid.UUID
	for i, f := range e.Files {
		fctx, cancel := context.WithTimeout(ctx, mediaTimeout)
		data, err := conn.Download(fctx, ch, f, maxInboundFile)
		cancel()
		at, id, err := s.keepChannelFile(ctx, ch, e.Key, i, f.Name, f.ContentType, data, err, base)
		if err != nil {
			return nil, nil, err
		}
		if id != uuid.Nil {
			ids = append(ids, id)
		}
		out = append(out, at)
	}
	return out, ids, nil
}

// keepChannelFile stores the i-th file of a channel's event (key) in the desk's storage under
// an id derived from the channel's secret, the key and i: a redelivered event writes the same
// file again rather than a new one, and nobody without the secret can guess a link. A file that
// could not be fetched (fetchErr: too large, gone) or is refused (a program) is listed by name
// with the reason, and id is uuid.Nil.
func (s *Server) keepChannelFile(ctx context.Context, ch connectors.Channel, key string, i int, name, contentType string, data []byte, fetchErr error, base string) (apichannel.Attachment, uuid.UUID, error) {
	mac := hmac.New(sha256.New, []byte(ch.HookSecret))
	fmt.Fprintf(mac, "file\x00%d\x00%s\x00%d", ch.ID, key, i)
	sum := mac.Sum(nil)
	id, _ := uuid.FromBytes(sum[:16])
	id[6] = id[6]&0x0f | 0x40 // a version-4 shape: the bits are as random as the secret
	id[8] = id[8]&0x3f | 0x80
	err := fetchErr
	if err == nil && len(data) == 0 {
		err = errors.New("the platform sent an empty file")
	}
	name = fileName(name)
	var ct string
	if err == nil {
		ct = fileType(contentType, data)
		if terr := checkFileType(name, ct, data); terr != nil {
			err = terr
		}
	}
	if err != nil {
		reason := "could not be fetched from the platform"
		var he *Error
		switch {
		case errors.Is(err, connectors.ErrTooLarge):
			reason = fmt.Sprintf("larger than %d MB", maxInboundFile>>20)
		case errors.As(err, &he):
			reason = "a program or script, not accepted"
		}
		s.logger.WarnContext(ctx, "client file not stored", "channel_id", ch.ID, "file", name, "error", err)
		return apichannel.Attachment{Name: name + " (" + reason + ")", ContentType: contentType}, uuid.Nil, nil
	}
	saved, err := s.store.SaveChannelFile(ctx, id, name, ct, data)
	if err != nil {
		return apichannel.Attachment{}, uuid.Nil, err
	}
	return apichannel.Attachment{URL: base + "/api/v1/files/" + saved.ID.String(), Name: saved.Name, ContentType: saved.ContentType}, saved.ID, nil
}

// connection is the answer to a connect: where the platform posts, whether linedesk registered
// that itself, the account connected and what the admin still has to do on the platform's side.
type connection struct {
	WebhookURL string   `json:"webhook_url"`
	Registered bool     `json:"registered"`
	Account    string   `json:"account,omitempty"`
	Steps      []string `json:"steps"`
}

// connectChannel registers the channel's webhook with its platform (Telegram setWebhook with
// the channel's secret_token, Viber set_webhook…), checking the credentials on the way.
func (s *Server) connectChannel(c echo.Context) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, cch, err := channelFor(ctx, s.store, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("channel " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	conn, ok := s.connectors[ch.Kind]
	if !ok {
		return newError(http.StatusConflict, "nothing_to_connect", "a %s channel is not connected to a platform", ch.Kind)
	}
	hookURL := s.hookURL(c, id)
	res, err := s.connect(ctx, conn, cch, hookURL)
	var refused *connectRefused
	if errors.As(err, &refused) {
		return newError(http.StatusUnprocessableEntity, "connect_failed", "%s", refused.err.Error())
	}
	if err != nil {
		return err
	}
	out := connection{WebhookURL: hookURL, Registered: res.Registered, Account: res.Account, Steps: res.Steps}
	if out.Steps == nil {
		out.Steps = []string{}
	}
	if err := s.auditConnect(c, id, out, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// connectRefused is the platform's refusal of a connect (a wrong token, an unreachable URL).
type connectRefused struct{ err error }

func (e *connectRefused) Error() string { return e.err.Error() }

// connect runs a channel's Connect with the platform and keeps the credentials the platform
// handed over (VK's confirmation code) with the channel's.
func (s *Server) connect(ctx context.Context, conn connectors.Connector, cch connectors.Channel, hookURL string) (connectors.Connection, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	res, err := conn.Connect(cctx, cch, hookURL)
	cancel()
	if err != nil {
		return res, &connectRefused{err}
	}
	if len(res.Credentials) > 0 {
		if err := s.store.SetChannelCredentials(ctx, cch.ID, mergeCredentials(cch.Credentials, res.Credentials)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// auditConnect records a connect; the steps can hold the channel's secret (VK's secret key), so
// the log keeps the rest.
func (s *Server) auditConnect(c echo.Context, id int64, out connection, via string) error {
	after := map[string]any{"webhook_url": out.WebhookURL, "registered": out.Registered, "account": out.Account}
	if via != "" {
		after["via"] = via
	}
	return s.audited(c, func(context.Context, *store.Store) (store.AuditChange, error) {
		return store.AuditChange{Entity: store.AuditChannel, ID: auditID(id), Action: store.AuditConnect, After: after}, nil
	})
}

// profiling bounds the profile lookups running at once; a message that finds them all busy
// leaves its client unnamed until their next message.
var profiling = make(chan struct{}, 8)

// nameContact asks the platform for a client's name in the background (the webhook's answer does
// not wait), after their chat's first message, when their contact has none yet.
func (s *Server) nameContact(ctx context.Context, p connectors.Profiler, ch connectors.Channel, contactID string) {
	select {
	case profiling <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-profiling }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		need, err := s.store.ContactNeedsName(ctx, ch.ID, contactID)
		if err != nil || !need {
			return
		}
		c, err := p.Profile(ctx, ch, contactID)
		if err != nil || c.Name == "" {
			s.logger.DebugContext(ctx, "client profile not read", "channel_id", ch.ID, "error", err)
			return
		}
		if err := s.store.NameContact(ctx, ch.ID, contactID, c.Name); err != nil {
			s.logger.WarnContext(ctx, "name a client", "channel_id", ch.ID, "error", err)
		}
	}()
}
