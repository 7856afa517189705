package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/webchat"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/telemetry"
	"github.com/linedesk/linedesk/workflows"
)

// DeliverMessage sends a recorded outbound message through its chat's channel. Each attempt is
// logged; a retryable failure returns an error so Temporal retries with backoff, a permanent
// one marks the message failed. A message already sent is not sent again.
func (a *Activities) DeliverMessage(ctx context.Context, in workflows.DeliverMessageInput) error {
	id, err := uuid.Parse(in.MessageID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad message id", "bad_input", err)
	}
	d, err := a.store.DeliveryOf(ctx, id)
	if err != nil {
		return err
	}
	switch d.Status {
	case workflows.MessageSent, workflows.MessageDelivered, workflows.MessageRead:
		return nil
	}
	if conn, ok := a.messengers[d.ChannelKind]; ok {
		return counted(d.ChannelKind, a.deliverMessenger(ctx, conn, d))
	}
	switch d.ChannelKind {
	case "api":
		return counted(d.ChannelKind, a.deliverAPI(ctx, d))
	case webchat.Kind, "internal":
		// The visitor's widget, or the employee's console (an internal desk), reads the message
		// from the read model: stored is sent.
		return a.store.RecordDeliveryAttempt(ctx, id, attempt(ctx), 0, "", workflows.MessageSent)
	default:
		msg := fmt.Sprintf("channel kind %q has no outbound connector", d.ChannelKind)
		if err := a.store.RecordDeliveryAttempt(ctx, id, attempt(ctx), 0, msg, workflows.MessageFailed); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(msg, "no_connector", nil)
	}
}

// counted counts a delivery attempt through a channel in the metrics: a success, or a failure
// (every failed attempt, retried or not). Waiting for the channel's send rate is no failure.
func counted(kind string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == "paced" {
		return err
	}
	if err != nil {
		telemetry.DeliveryFailures.WithLabelValues(kind).Inc()
	} else {
		telemetry.Deliveries.WithLabelValues(kind).Inc()
	}
	return err
}

func (a *Activities) deliverAPI(ctx context.Context, d store.Delivery) error {
	var settings apichannel.Settings
	_ = json.Unmarshal(d.ChannelSettings, &settings)
	var attachments []apichannel.Attachment
	var buttons []apichannel.Button
	_ = json.Unmarshal(d.Attachments, &attachments)
	_ = json.Unmarshal(d.Buttons, &buttons)
	for i := range attachments {
		attachments[i].URL = a.signedLink(attachments[i].URL)
	}
	out := apichannel.Outbound{
		Event: apichannel.EventMessage,
		Message: apichannel.OutboundMessage{
			ID: d.MessageID.String(), ChatID: d.ChatID.String(), Conversation: d.ConversationNumber,
			Text: d.Text, Attachments: attachments, Buttons: buttons, CreatedAt: d.CreatedAt,
		},
		Contact: apichannel.OutboundContact{ExternalID: d.ContactExternalID},
	}
	res, err := a.api.Send(ctx, settings.CallbackURL, d.ChannelSecret, out)
	n := attempt(ctx)
	var perm *apichannel.PermanentError
	switch {
	case err == nil:
		return a.store.RecordDeliveryAttempt(ctx, d.MessageID, n, res.StatusCode, "", workflows.MessageSent)
	case errors.As(err, &perm):
		if rerr := a.store.RecordDeliveryAttempt(ctx, d.MessageID, n, perm.StatusCode, err.Error(), workflows.MessageFailed); rerr != nil {
			return rerr
		}
		return temporal.NewNonRetryableApplicationError(err.Error(), "delivery_refused", nil)
	default:
		if rerr := a.store.RecordDeliveryAttempt(ctx, d.MessageID, n, res.StatusCode, err.Error(), ""); rerr != nil {
			return rerr
		}
		a.logger.WarnContext(ctx, "delivery attempt failed", "message_id", d.MessageID, "attempt", n, "error", err)
		return err
	}
}

// deliverMessenger sends a message through its messenger's API. The client sees the operator's
// name as the sender, or only the line's when the line hides operators' names. A refusal that
// may pass later (a 429 with retry_after, a 5xx) is retried after the wait the platform asked
// for; any other refusal marks the message failed with the platform's reason, shown to the
// operator.
func (a *Activities) deliverMessenger(ctx context.Context, conn connectors.Connector, d store.Delivery) error {
	n := attempt(ctx)
	fail := func(msg string) error {
		if err := a.store.RecordDeliveryAttempt(ctx, d.MessageID, n, 0, msg, workflows.MessageFailed); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(msg, "delivery_refused", nil)
	}
	ch := connectors.Channel{ID: d.ChannelID, Kind: d.ChannelKind, Settings: d.ChannelSettings, Credentials: d.ChannelCredentials, HookSecret: d.ChannelSecret}
	out := connectors.Outbound{ID: d.MessageID.String(), To: d.ContactExternalID, Text: d.Text, Sender: d.LineName,
		LastInboundAt: d.LastInboundAt, Human: d.AuthorName != ""}
	if d.AuthorName != "" && !d.HideOperatorName {
		out.Sender, out.ShowSender = d.AuthorName, true
	}
	if d.ChannelKind == email.Kind {
		if err := a.threadMail(ctx, d, &out); err != nil {
			return err
		}
	}
	var buttons []apichannel.Button
	_ = json.Unmarshal(d.Buttons, &buttons)
	for _, b := range buttons {
		out.Buttons = append(out.Buttons, connectors.Button{Payload: b.Payload, Text: b.Text})
	}
	var attachments []apichannel.Attachment
	_ = json.Unmarshal(d.Attachments, &attachments)
	for _, at := range attachments {
		f, err := a.outboundFile(ctx, at)
		if err != nil {
			return err
		}
		out.Files = append(out.Files, f)
	}
	if wait, later := a.pace.wait(d.ChannelID, conn, time.Now()); later {
		return temporal.NewApplicationErrorWithOptions("the channel's send rate is reached", "paced", temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	} else if wait > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	sent, err := conn.Send(ctx, ch, out)
	if err == nil {
		return a.store.MarkSent(ctx, d.MessageID, n, 0, sent.ExternalID)
	}
	var serr *connectors.SendError
	if !errors.As(err, &serr) || !serr.Temporary {
		return fail(err.Error())
	}
	if rerr := a.store.RecordDeliveryAttempt(ctx, d.MessageID, n, serr.Status, err.Error(), ""); rerr != nil {
		return rerr
	}
	a.logger.WarnContext(ctx, "delivery attempt failed", "message_id", d.MessageID, "kind", d.ChannelKind, "attempt", n, "error", err)
	if serr.RetryAfter > 0 {
		return temporal.NewApplicationErrorWithOptions(err.Error(), "rate_limited", temporal.ApplicationErrorOptions{NextRetryDelay: serr.RetryAfter})
	}
	return err
}

// threadMail addresses a reply on the email channel: to the client, under the thread's subject,
// with In-Reply-To and References naming the thread's mails, and a Message-ID derived from the
// message's id (a retry sends the same mail). That id is recorded before the mail goes, so the
// client's answer joins this chat even if the process stops right after sending.
func (a *Activities) threadMail(ctx context.Context, d store.Delivery, out *connectors.Outbound) error {
	t, err := a.store.MailThreadOf(ctx, d.ChatID)
	if err != nil {
		return err
	}
	set, err := email.ReadSettings(d.ChannelSettings)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "bad_settings", err)
	}
	id := email.MessageID(d.MessageID.String(), set.Address)
	refs := slices.DeleteFunc(t.References, func(r string) bool { return r == id })
	out.Mail = &connectors.MailHeaders{To: t.To, Subject: t.Subject, MessageID: id, References: refs}
	from, _ := json.Marshal(email.Address{Name: out.Sender, Address: set.Address})
	to, _ := json.Marshal([]email.Address{{Address: t.To}})
	return a.store.RecordMail(ctx, store.Mail{ChannelID: d.ChannelID, ChatID: d.ChatID, MessageID: d.MessageID, HeaderID: id,
		Direction: "out", Subject: email.ReplySubject(t.Subject), From: from, To: to})
}

// outboundLinkTTL is how long a link handed outside with a reply's attachment works: long
// enough for an integrator's queue or a platform's retries, short enough that a leaked link dies.
const outboundLinkTTL = 7 * 24 * time.Hour

// deskFile returns the id of a file of this desk a link points at.
func deskFile(link string) (uuid.UUID, bool) {
	base, _, _ := strings.Cut(link, "?")
	i := strings.LastIndex(base, "/api/v1/files/")
	if i < 0 {
		return uuid.UUID{}, false
	}
	id, err := uuid.Parse(base[i+len("/api/v1/files/"):])
	return id, err == nil
}

// signedLink turns a link to a desk file into a signed one that works without signing in until
// it expires; other links stay as they are.
func (a *Activities) signedLink(link string) string {
	id, ok := deskFile(link)
	if !ok {
		return link
	}
	return a.store.FileLinks().Sign(link, id.String(), outboundLinkTTL, time.Now())
}

// outboundFile loads an attachment of an outbound message from the desk's storage, with a
// signed link for platforms that fetch files by URL.
func (a *Activities) outboundFile(ctx context.Context, at apichannel.Attachment) (connectors.File, error) {
	f := connectors.File{Name: at.Name, ContentType: at.ContentType, URL: at.URL}
	id, ok := deskFile(at.URL)
	if !ok {
		return f, nil // a link elsewhere: the platform fetches it
	}
	f.URL = a.signedLink(at.URL)
	meta, data, err := a.store.FileData(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return f, temporal.NewNonRetryableApplicationError("attachment "+at.Name+" is gone", "attachment_gone", err)
	}
	if err != nil {
		return f, err
	}
	f.Data, f.Name, f.ContentType = data, meta.Name, meta.ContentType
	return f, nil
}

// MarkDeliveryFailed marks a message failed when its redelivery gave up while it was still
// pending; a message sent meanwhile stays sent.
func (a *Activities) MarkDeliveryFailed(ctx context.Context, in workflows.MarkDeliveryFailedInput) error {
	id, err := uuid.Parse(in.MessageID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad message id", "bad_input", err)
	}
	return a.store.SetMessageStatusIf(ctx, id, workflows.MessagePending, workflows.MessageFailed)
}
