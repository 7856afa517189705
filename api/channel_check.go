package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
)

// connectionCheck is what a channel's connection test found. A callback that cannot be reached
// is the test's finding, not the request's failure: the answer is 200 with ok false.
type connectionCheck struct {
	OK bool `json:"ok"`
	// Step is where it stopped: "address" (the URL is refused or does not resolve), "request"
	// (no answer: connection refused, TLS, timeout) or "answer" (the callback answered non-2xx);
	// for a mailbox dns, connect, tls, login or folder (IMAP), smtp_dns, smtp_connect or
	// smtp_login.
	Step       string `json:"step,omitempty"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// testChannel checks a channel's connection the way its messages travel: for an api channel, a
// signed "ping" to the callback URL through the same guarded client as deliveries.
func (s *Server) testChannel(c echo.Context) error {
	id, err := pathID(c, "channel")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.store.ChannelByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("channel " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	if ch.Kind == email.Kind {
		return c.JSON(http.StatusOK, s.testMailbox(ctx, id))
	}
	if ch.Kind != "api" {
		return newError(http.StatusConflict, "no_connection_test", "a %s channel has no connection test yet", ch.Kind)
	}
	var set apichannel.Settings
	_ = json.Unmarshal(ch.Settings, &set)
	secret, err := s.store.ChannelSecret(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.pingCallback(ctx, set.CallbackURL, secret))
}

// testMailbox signs in to an email channel's IMAP server, opens its folder and signs in to its
// SMTP server, and says at which step it failed.
func (s *Server) testMailbox(ctx context.Context, id int64) connectionCheck {
	start := time.Now()
	out := connectionCheck{OK: true}
	_, cch, err := channelFor(ctx, s.store, id)
	if err == nil {
		var set email.Settings
		if set, err = email.ReadSettings(cch.Settings); err == nil {
			if f := email.Test(ctx, set, cch.Credentials[email.CredentialPassword], 20*time.Second); f != nil {
				out = connectionCheck{Step: f.Step, Error: f.Err.Error()}
			}
		}
	}
	if err != nil {
		out = connectionCheck{Step: "settings", Error: err.Error()}
	}
	out.DurationMS = time.Since(start).Milliseconds()
	return out
}

func (s *Server) pingCallback(ctx context.Context, url, secret string) connectionCheck {
	start := time.Now()
	done := func(out connectionCheck) connectionCheck {
		out.DurationMS = time.Since(start).Milliseconds()
		return out
	}
	if err := netguard.CheckURL(ctx, url, s.allowPrivateCallbacks); err != nil {
		return done(connectionCheck{Step: "address", Error: "callback_url " + err.Error()})
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sender := apichannel.Sender{Client: netguard.Policy{AllowPrivate: s.allowPrivateCallbacks, Timeout: 10 * time.Second}.Client(), UserAgent: "linedesk"}
	res, err := sender.Send(ctx, url, secret, apichannel.Outbound{Event: apichannel.EventPing,
		Message: apichannel.OutboundMessage{ID: "ping-" + uuid.NewString(), CreatedAt: time.Now().UTC()}})
	switch {
	case err == nil:
		return done(connectionCheck{OK: true, StatusCode: res.StatusCode})
	case res.StatusCode != 0:
		return done(connectionCheck{Step: "answer", StatusCode: res.StatusCode, Error: err.Error()})
	default:
		return done(connectionCheck{Step: "request", Error: err.Error()})
	}
}
