package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/store"
)

// inboundResponse is the answer to an inbound message.
type inboundResponse struct {
	ChatID    string `json:"chat_id"`
	MessageID string `json:"message_id"`
	// Conversation is the conversation the message joined, once its chat has decided; null
	// before that (and when it stays in the chat).
	Conversation *int64 `json:"conversation"`
}

// maxInboundWait bounds how long a sender may ask to wait for the routing decision.
const maxInboundWait = 30 * time.Second

// inbound accepts a message on an `api` channel. It answers 202 as soon as the message is
// durable in PostgreSQL; its chat workflow routes it a moment later. A sender that needs the
// conversation in the answer sends `Prefer: wait=<seconds>` (RFC 7240) and gets it once decided,
// or null when the wait runs out. A repeated Idempotency-Key with the same message gets the same
// ids and stores nothing; with another message it is refused.
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
	wait, err := preferWait(c.Request().Header)
	if err != nil {
		return err
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
	in := inbound.Message{
		ChannelID: ch.ID, Kind: ch.Kind, Key: key, Text: msg.Text, At: time.Now(),
		Contact: inbound.Contact{ExternalID: msg.Contact.ExternalID, Name: msg.Contact.Name,
			Email: msg.Contact.Email, Phone: msg.Contact.Phone, ProfileURL: msg.Contact.ProfileURL,
			Timezone: msg.Contact.Timezone, Fields: msg.Contact.Fields},
	}
	if len(msg.Attachments) > 0 {
		in.Files, _ = json.Marshal(msg.Attachments)
	}
	if msg.Button != nil {
		in.Button = msg.Button.Payload
	}
	acc, err := s.handoff.Accept(ctx, in)
	if errors.Is(err, inbound.ErrBlocked) {
		return newError(http.StatusForbidden, "contact_blocked", "the desk blocked this client; the message was not taken")
	}
	if errors.Is(err, inbound.ErrKeyReused) {
		return newError(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"Idempotency-Key %q was already used for another message; send a new key for a new message", key)
	}
	if err != nil {
		return err
	}
	if wait > 0 && !acc.Routed {
		wctx, cancel := context.WithTimeout(ctx, wait)
		acc, err = s.handoff.Wait(wctx, acc)
		cancel()
		if err != nil {
			return err
		}
	}
	resp := inboundResponse{ChatID: acc.ChatID.String(), MessageID: acc.MessageID.String()}
	if acc.Conversation != 0 {
		resp.Conversation = &acc.Conversation
	}
	return c.JSON(http.StatusAccepted, resp)
}

// preferWait reads `Prefer: wait=<seconds>` (RFC 7240 §4.3): how long the sender will wait for
// the routing decision.
func preferWait(h http.Header) (time.Duration, error) {
	for _, v := range h.Values("Prefer") {
		for pref := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(pref), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			secs, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(val), `"`), 64)
			if err != nil || math.IsNaN(secs) || secs < 0 {
				return 0, badRequest("Prefer: wait must be a number of seconds")
			}
			// Bounded before the conversion: a float past int64's range (1e300, Inf) would not
			// convert to a Duration.
			return time.Duration(min(secs, maxInboundWait.Seconds()) * float64(time.Second)), nil
		}
	}
	return 0, nil
}
