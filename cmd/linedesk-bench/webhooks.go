package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/linedesk/linedesk/connectors/meta"
	"github.com/linedesk/linedesk/connectors/telegram"
	"github.com/linedesk/linedesk/connectors/viber"
	"github.com/linedesk/linedesk/connectors/whatsapp"
)

// WebhookResult is W1 for one platform: webhooks posted as the platform posts them, a tenth of
// them redelivered, and what the desk stored.
type WebhookResult struct {
	Kind        string     `json:"kind"`
	Webhooks    int        `json:"webhooks"`
	Redelivered int        `json:"redelivered"`
	Rate        float64    `json:"offered_per_second"`
	Answered    Throughput `json:"answered"`
	// Stored is the client messages in the desk afterwards; Doubled is how many events were
	// stored more than once (must be 0).
	Stored  int `json:"stored"`
	Doubled int `json:"doubled"`
}

// benchBotToken is the telegram channel's token; nothing calls Telegram in W1.
const benchBotToken = "100000001:BENCHbenchBENCHbenchBENCHbench_-1"

// benchViberToken is the viber channel's account token, which signs its callbacks.
const benchViberToken = "4f1d2c3b4a596877-bench5a4b3c2d1e0f-benchbenchbench01"

// benchVKToken and benchVKGroup are the vk channel's community; nothing calls VK in W1.
const (
	benchVKToken = "vk1.a.bench-community-token-0123456789"
	benchVKGroup = 214167102
)

// benchPageToken and benchAppSecret are the Meta channels'; the app secret signs their webhooks.
const (
	benchPageToken = "EAAG-bench-page-token-0123456789"
	benchAppSecret = "bench-app-secret-0123456789abcdef"
	// benchWAPhone is the WhatsApp channel's business number id, which its webhooks name.
	benchWAPhone = "106540352242922"
)

// runW1: for each messenger, WebhookCount unique updates from WebhookClients clients plus a
// tenth redelivered, posted open-loop at WebhookRate with the platform's own authentication;
// then every event must be stored exactly once.
func (b *bench) runW1(ctx context.Context) error {
	for _, kind := range b.o.WebhookKinds {
		res, err := b.webhookLoad(ctx, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		b.rep.W1 = append(b.rep.W1, res)
	}
	return nil
}

type webhook struct {
	body   []byte
	header map[string]string
	key    string
}

func (b *bench) webhookLoad(ctx context.Context, kind string) (WebhookResult, error) {
	o := b.o
	settings := map[string]any{}
	creds := map[string]string{"bot_token": benchBotToken}
	switch kind {
	case "viber":
		creds = map[string]string{"auth_token": benchViberToken}
	case "vk":
		creds = map[string]string{"access_token": benchVKToken}
		settings["group_id"] = benchVKGroup
	case "facebook", "instagram":
		creds = map[string]string{"page_token": benchPageToken, "app_secret": benchAppSecret}
	case "whatsapp":
		creds = map[string]string{"access_token": benchPageToken, "app_secret": benchAppSecret}
		settings["phone_number_id"], settings["business_account_id"] = benchWAPhone, "102290129340398"
	case "ok":
		creds = map[string]string{"access_token": benchVKToken}
	}
	var created struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
		Secret string `json:"secret"`
	}
	if err := b.api.do(ctx, b.api.session, http.MethodPost, "/api/v1/channels", map[string]any{"kind": kind, "name": kind + " " + b.run,
		"line_id": b.lineID, "settings": settings, "credentials": creds}, nil, http.StatusCreated, &created); err != nil {
		return WebhookResult{}, err
	}
	path := "/hooks/" + strconv.FormatInt(created.Channel.ID, 10)
	if kind == "ok" {
		path += "/" + created.Secret // OK signs nothing: the secret is in the URL it posts to
	}

	unique := make([]webhook, o.WebhookCount)
	for i := range unique {
		client := int64(700000000 + i%o.WebhookClients)
		text := fmt.Sprintf("%s webhook %d", b.run, i)
		var w webhook
		switch kind {
		case "telegram":
			id := int64(1 + i)
			w.body, _ = json.Marshal(map[string]any{"update_id": id, "message": map[string]any{"message_id": id, "date": time.Now().Unix(),
				"from": map[string]any{"id": client, "is_bot": false, "first_name": "Client", "last_name": strconv.FormatInt(client, 10)},
				"chat": map[string]any{"id": client, "type": "private"}, "text": text}})
			w.header = map[string]string{telegram.HeaderSecret: created.Secret}
			w.key = "update:" + strconv.FormatInt(id, 10)
		case "viber":
			token := int64(5_400_000_000_000_000_000) + int64(i)
			w.body, _ = json.Marshal(map[string]any{"event": "message", "timestamp": time.Now().UnixMilli(), "message_token": token,
				"sender":  map[string]any{"id": "bench" + strconv.FormatInt(client, 10) + "==", "name": "Client"},
				"message": map[string]any{"type": "text", "text": text}})
			w.header = map[string]string{viber.HeaderSignature: viber.Sign(benchViberToken, w.body)}
			w.key = "message:" + strconv.FormatInt(token, 10)
		case "vk":
			w.key = fmt.Sprintf("%s-%d", b.run, i)
			w.body, _ = json.Marshal(map[string]any{"group_id": benchVKGroup, "type": "message_new", "event_id": w.key, "v": "5.199",
				"secret": created.Secret, "object": map[string]any{"message": map[string]any{"date": time.Now().Unix(), "from_id": client,
					"peer_id": client, "id": 1 + i, "out": 0, "text": text, "attachments": []any{}}}})
		case "facebook", "instagram":
			object := map[string]string{"facebook": meta.ObjectPage, "instagram": meta.ObjectInstagram}[kind]
			w.key = fmt.Sprintf("m_%s_%d", b.run, i)
			now := time.Now().UnixMilli()
			w.body, _ = json.Marshal(map[string]any{"object": object, "entry": []any{map[string]any{"id": "1029384756", "time": now,
				"messaging": []any{map[string]any{"sender": map[string]any{"id": "PSID" + strconv.FormatInt(client, 10)},
					"recipient": map[string]any{"id": "1029384756"}, "timestamp": now, "message": map[string]any{"mid": w.key, "text": text}}}}}})
			w.header = map[string]string{meta.HeaderSignature: meta.Sign(benchAppSecret, w.body)}
		case "whatsapp":
			w.key = fmt.Sprintf("wamid.%s.%d", b.run, i)
			from := strconv.FormatInt(79000000000+client, 10)
			w.body, _ = json.Marshal(map[string]any{"object": whatsapp.Object, "entry": []any{map[string]any{"id": "102290129340398",
				"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
					"metadata": map[string]any{"display_phone_number": "74950000000", "phone_number_id": benchWAPhone},
					"contacts": []any{map[string]any{"profile": map[string]any{"name": "Client"}, "wa_id": from}},
					"messages": []any{map[string]any{"from": from, "id": w.key, "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
						"type": "text", "text": map[string]any{"body": text}}}}}}}}})
			w.header = map[string]string{meta.HeaderSignature: meta.Sign(benchAppSecret, w.body)}
		case "ok":
			w.key = fmt.Sprintf("mid:C%d.%s%x", client, b.run, i)
			w.body, _ = json.Marshal(map[string]any{"sender": map[string]any{"user_id": "user:" + strconv.FormatInt(client, 10), "name": "Client"},
				"recipient": map[string]any{"chat_id": "chat:C" + strconv.FormatInt(client, 10)},
				"message":   map[string]any{"text": text, "seq": i, "mid": w.key}, "timestamp": time.Now().UnixMilli()})
		}
		unique[i] = w
	}
	// The schedule: every update once, and a tenth of them again a little later (the platform
	// repeating one whose answer it did not get), as platforms do.
	order := make([]webhook, 0, len(unique)+len(unique)/10)
	order = append(order, unique...)
	redelivered := len(unique) / 10
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range rng.Perm(len(unique))[:redelivered] {
		at := min(len(order), k+1+rng.IntN(50))
		order = append(order[:at], append([]webhook{unique[k]}, order[at:]...)...)
	}

	b.progress("W1 %s: %d webhooks (%d redelivered) at %.0f/s from %d clients", kind, len(order), redelivered, o.WebhookRate, o.WebhookClients)
	rec := &recorder{}
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / o.WebhookRate)
	start := time.Now()
	for i, w := range order {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			select {
			case <-ctx.Done():
				return WebhookResult{}, ctx.Err()
			case <-time.After(d):
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := b.api.do(ctx, b.api.plain, http.MethodPost, path, json.RawMessage(w.body), w.header, http.StatusOK, nil)
			rec.add(time.Since(t0), err)
		}()
	}
	wg.Wait()
	res := WebhookResult{Kind: kind, Webhooks: len(order), Redelivered: redelivered, Rate: o.WebhookRate, Answered: rec.result(time.Since(start))}
	err := b.st.pool.QueryRow(ctx, `SELECT count(*), count(*) - count(DISTINCT m.text) FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE c.channel_id = $1 AND m.direction = 'in'`, created.Channel.ID).Scan(&res.Stored, &res.Doubled)
	if err != nil {
		return res, err
	}
	if res.Stored != len(unique) || res.Doubled != 0 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("W1 %s: %d messages stored for %d events, %d doubled", kind, res.Stored, len(unique), res.Doubled))
	}
	// Let the conversations these clients opened settle before the next platform's run, so each
	// platform is measured on its own rather than on the previous one's backlog.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var waiting int
		if err := b.st.pool.QueryRow(ctx, `SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
			WHERE c.channel_id = $1 AND m.direction = 'in' AND m.conversation_number IS NULL`, created.Channel.ID).Scan(&waiting); err != nil || waiting == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return res, nil
}
