package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/email"
	"github.com/linedesk/linedesk/connectors/telegram"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
)

// pollWait is how long one getUpdates waits for an update.
const pollWait = 25 * time.Second

// RunPolling pulls updates for the Telegram channels set to long polling (settings.receive
// "polling": installations without a public address), and reads the email channels' mailboxes
// (mail_intake.go), until ctx ends. Each channel is pulled by
// one process at a time (a PostgreSQL advisory lock); its offset is stored once the updates
// before it are, so a restart goes on where it stopped, and an update handled twice after a crash
// is dropped by the inbound dedupe (its update_id is the key, as for webhooks).
func RunPolling(ctx context.Context, d Deps) {
	s, _ := newServer(d)
	s.runPolling(ctx, 5*time.Second)
}

func (s *Server) runPolling(ctx context.Context, every time.Duration) {
	running := map[int64]context.CancelFunc{}
	defer func() {
		for _, stop := range running {
			stop()
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		chans, err := s.store.Channels(ctx)
		if err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "list channels to poll", "error", err)
		}
		want := map[int64]store.Channel{}
		for _, ch := range chans {
			if ch.Enabled && ((ch.Kind == "telegram" && telegram.Polling(ch.Settings)) || ch.Kind == email.Kind) {
				want[ch.ID] = ch
			}
		}
		for id, stop := range running {
			if _, ok := want[id]; !ok {
				stop()
				delete(running, id)
			}
		}
		for id, ch := range want {
			if _, ok := running[id]; ok {
				continue
			}
			pctx, stop := context.WithCancel(ctx)
			running[id] = stop
			if ch.Kind == email.Kind {
				go s.mailChannel(pctx, ch)
			} else {
				go s.pollChannel(pctx, ch)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pollChannel pulls one channel's updates while it holds the channel's puller lock.
func (s *Server) pollChannel(ctx context.Context, ch store.Channel) {
	for ctx.Err() == nil {
		release, ok, err := s.store.HoldChannelPuller(ctx, ch.ID)
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "telegram polling: take the channel", "channel_id", ch.ID, "error", err)
			}
			sleep(ctx, 5*time.Second)
			continue
		}
		err = s.pollHeld(ctx, ch)
		release()
		if err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "telegram polling", "channel_id", ch.ID, "error", err)
			sleep(ctx, 3*time.Second)
		}
	}
}

func (s *Server) pollHeld(ctx context.Context, ch store.Channel) error {
	conn := s.connectors[ch.Kind]
	_, cch, err := channelFor(ctx, s.store, ch.ID)
	if err != nil {
		return err
	}
	var set telegram.Settings
	_ = json.Unmarshal(ch.Settings, &set) // validated when saved
	client := &telegram.Client{BaseURL: set.APIBaseURL, Token: cch.Credentials[telegram.CredentialBotToken],
		HTTP: netguard.Policy{AllowPrivate: s.allowPrivateCallbacks, Timeout: pollWait + 15*time.Second}.Client()}
	cursor, err := s.store.ChannelCursor(ctx, ch.ID)
	if err != nil {
		return err
	}
	offset, _ := strconv.ParseInt(cursor, 10, 64)
	base := s.publicURL
	for ctx.Err() == nil {
		updates, err := client.GetUpdates(ctx, offset, pollWait)
		if err != nil {
			var api *telegram.APIError
			if errors.As(err, &api) && api.RetryAfter > 0 {
				sleep(ctx, api.RetryAfter)
				continue
			}
			return err
		}
		for _, u := range updates {
			id, ok := telegram.UpdateID(u)
			if !ok {
				continue
			}
			// The same reading as a webhook's, with the channel's own secret standing in for
			// Telegram's header: a pulled update comes from Telegram by construction.
			req := connectors.Request{Method: http.MethodPost, Header: http.Header{telegram.HeaderSecret: {cch.HookSecret}}, Body: u}
			_, events, err := conn.Receive(cch, req)
			var bad *connectors.BadRequest
			if err != nil && !errors.As(err, &bad) {
				return err
			}
			for _, e := range events {
				if err := s.hookEvent(ctx, conn, cch, e, base); err != nil {
					return err
				}
			}
			offset = id + 1
		}
		if len(updates) > 0 {
			if err := s.store.SetChannelCursor(ctx, ch.ID, strconv.FormatInt(offset, 10)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
