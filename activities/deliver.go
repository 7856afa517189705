package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/store"
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
	if d.Status == workflows.MessageSent {
		return nil
	}
	switch d.ChannelKind {
	case "api":
		return a.deliverAPI(ctx, d)
	default:
		msg := fmt.Sprintf("channel kind %q has no outbound connector", d.ChannelKind)
		if err := a.store.RecordDeliveryAttempt(ctx, id, attempt(ctx), 0, msg, workflows.MessageFailed); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError(msg, "no_connector", nil)
	}
}

func (a *Activities) deliverAPI(ctx context.Context, d store.Delivery) error {
	var settings apichannel.Settings
	_ = json.Unmarshal(d.ChannelSettings, &settings)
	var attachments []apichannel.Attachment
	var buttons []apichannel.Button
	_ = json.Unmarshal(d.Attachments, &attachments)
	_ = json.Unmarshal(d.Buttons, &buttons)
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

// MarkDeliveryFailed marks a message failed when its redelivery gave up while it was still
// pending; a message sent meanwhile stays sent.
func (a *Activities) MarkDeliveryFailed(ctx context.Context, in workflows.MarkDeliveryFailedInput) error {
	id, err := uuid.Parse(in.MessageID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad message id", "bad_input", err)
	}
	return a.store.SetMessageStatusIf(ctx, id, workflows.MessagePending, workflows.MessageFailed)
}
