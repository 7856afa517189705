package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/workflows"
)

// inboundResponse is the answer to an inbound message; a repeated Idempotency-Key gets the same.
type inboundResponse struct {
	ChatID       string `json:"chat_id"`
	MessageID    string `json:"message_id"`
	Conversation *int64 `json:"conversation"`
}

// inbound accepts a message on an `api` channel. It answers only once the message is stored and
// its chat workflow has it; a repeated Idempotency-Key returns the first answer and stores nothing.
func (s *Server) inbound(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFoundErr("channel")
	}
	token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || token == "" {
		return newError(http.StatusUnauthorized, "unauthorized", "send the channel's inbound token as Authorization: Bearer <token>")
	}
	ch, err := s.store.ChannelByInboundToken(ctx, id, token)
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusUnauthorized, "unauthorized", "unknown channel or wrong inbound token")
	}
	if err != nil {
		return err
	}
	if ch.Kind != "api" {
		return newError(http.StatusNotFound, "not_found", "channel %d does not take messages through this endpoint", id)
	}
	if !ch.Enabled {
		return newError(http.StatusForbidden, "channel_disabled", "channel %d is disabled", id)
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return badRequest("the Idempotency-Key header is required: send the sender's id for this message")
	}
	if len(key) > 256 {
		return badRequest("Idempotency-Key is longer than 256 characters")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	if err := checkNoNUL(body); err != nil {
		return err
	}
	msg, err := apichannel.ParseInbound(body)
	var verr *apichannel.ValidationError
	if errors.As(err, &verr) {
		return newError(http.StatusBadRequest, "invalid_fields", "%s", verr.Error())
	}
	if err != nil {
		return badRequest("%s", err.Error())
	}
	in := store.InboundMessage{
		ChannelID: ch.ID, Key: key, Text: msg.Text, At: time.Now(),
		Contact: store.InboundContact{ExternalID: msg.Contact.ExternalID, Name: msg.Contact.Name,
			Email: msg.Contact.Email, Phone: msg.Contact.Phone},
	}
	if len(msg.Attachments) > 0 {
		in.Attachments, _ = json.Marshal(msg.Attachments)
	}
	if msg.Button != nil {
		in.Button = msg.Button.Payload
	}
	ing, err := s.store.Ingest(ctx, in)
	if err != nil {
		return err
	}
	if ing.Duplicate && ing.Delivered && len(ing.Response) > 0 {
		return c.JSONBlob(http.StatusAccepted, ing.Response)
	}
	// A new message's route is known from the ingest; only a retried one needs a lookup.
	route := store.ChatRoute{ChatID: ing.ChatID, ChannelID: ch.ID, LineID: ch.LineID, ContactID: ing.ContactID}
	if ing.Duplicate {
		if route, err = s.store.ChatRoute(ctx, ing.ChatID); err != nil {
			return err
		}
	}
	resp, err := s.deliverInbound(c.Request().Context(), route, ch.ID, key, ing.MessageID, in.At, in.Button)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusAccepted, resp)
}

// deliverInbound hands a stored message to its chat workflow and records the answer; the same
// bytes answer a redelivery.
func (s *Server) deliverInbound(ctx context.Context, route store.ChatRoute, channelID int64, key string, messageID uuid.UUID, at time.Time, button string) (json.RawMessage, error) {
	var res workflows.InboundResult
	err := s.chatUpdate(ctx, route, workflows.UpdateInbound, "inbound:"+messageID.String(),
		workflows.InboundRequest{MessageID: messageID.String(), At: at, Button: button}, &res)
	if err != nil {
		s.logger.WarnContext(ctx, "inbound message stored but not handed to its chat yet", "message_id", messageID, "error", err)
		return nil, newError(http.StatusServiceUnavailable, "unavailable",
			"the message is stored but could not be processed yet; retry with the same Idempotency-Key")
	}
	resp := inboundResponse{ChatID: route.ChatID.String(), MessageID: messageID.String()}
	if res.Conversation != 0 {
		resp.Conversation = &res.Conversation
	}
	linkTo := res.Conversation
	if res.CSAT {
		linkTo = 0 // a CSAT answer is recorded on the conversation, not counted as an unread message
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	if err := s.store.CompleteInbound(ctx, channelID, key, messageID, linkTo, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// SweepInbound hands to their chats the messages that were stored but never handed over (the
// process stopped in between, or Temporal did not answer and the sender gave up retrying). It
// runs every interval until ctx ends. Running it in several processes at once is safe: the
// hand-off is idempotent by message id.
func SweepInbound(ctx context.Context, d Deps, every time.Duration) {
	// A message younger than this may still be in the middle of its first hand-off.
	const olderThan = time.Minute
	s, _ := newServer(d)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.sweepInbound(ctx, olderThan); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "inbound sweep failed", "error", err)
		} else if n > 0 {
			s.logger.InfoContext(ctx, "inbound messages handed to their chats late", "count", n)
		}
	}
}

// SweepInboundOnce runs one pass of SweepInbound and says how many messages it handed over.
func SweepInboundOnce(ctx context.Context, d Deps, olderThan time.Duration) (int, error) {
	s, _ := newServer(d)
	return s.sweepInbound(ctx, olderThan)
}

// sweepInbound hands over the messages stored more than olderThan ago and still undelivered.
func (s *Server) sweepInbound(ctx context.Context, olderThan time.Duration) (int, error) {
	pending, err := s.store.UndeliveredInbound(ctx, olderThan, 100)
	if err != nil {
		return 0, err
	}
	done := 0
	var failed error
	for _, u := range pending {
		// One message that cannot be handed over must not hold up the others behind it.
		err := func() error {
			ctx, cancel := context.WithTimeout(ctx, updateTimeout)
			defer cancel()
			route, err := s.store.ChatRoute(ctx, u.ChatID)
			if err != nil {
				return err
			}
			_, err = s.deliverInbound(ctx, route, u.ChannelID, u.Key, u.MessageID, u.At, u.Button)
			return err
		}()
		if err != nil {
			s.logger.WarnContext(ctx, "inbound message not handed over by the sweep", "message_id", u.MessageID, "error", err)
			failed = err
			continue
		}
		done++
	}
	return done, failed
}
