package webhooks_test

import (
	"context"
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/storetest"
	"github.com/linedesk/linedesk/worker/webhooks"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// emit writes n conversation events the way the triggers of migration 009 do.
func emit(t *testing.T, st *store.Store, kind string, n int) {
	t.Helper()
	_, err := st.Pool().Exec(t.Context(), `INSERT INTO events (kind, line_id, conversation_number, status, data)
		SELECT $1, 7, 1000 + g, 'active', jsonb_build_object('seq', g) FROM generate_series(1, $2) g`, kind, n)
	require.NoError(t, err)
}

func newWebhook(t *testing.T, st *store.Store, url string, events ...string) (store.Webhook, string) {
	t.Helper()
	w, secret, err := st.CreateWebhook(t.Context(), store.Webhook{URL: url, Events: events, Enabled: true})
	require.NoError(t, err)
	return w, secret
}

func dispatcher(st *store.Store) *webhooks.Dispatcher {
	return webhooks.New(st, netguard.Policy{AllowPrivate: true, Timeout: 5 * time.Second}.Client(), nil)
}

func TestBackoffDoublesFromFiveSecondsToAnHour(t *testing.T) {
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 320 * time.Second, 640 * time.Second, 1280 * time.Second, 2560 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		require.Equal(t, w, webhooks.Backoff(i+1), "after attempt %d", i+1)
	}
}

// TestOnlySubscribedEventsAreQueued: a webhook gets the events it subscribed to, of its line.
func TestOnlySubscribedEventsAreQueued(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	closed, _ := newWebhook(t, st, "https://a.example.com/", "conversation.closed")
	all, _ := newWebhook(t, st, "https://b.example.com/", "*")
	var other int64
	require.NoError(t, st.Pool().QueryRow(t.Context(), `INSERT INTO lines (name) VALUES ('Other') RETURNING id`).Scan(&other))
	_, _, err := st.CreateWebhook(t.Context(), store.Webhook{URL: "https://c.example.com/", Events: []string{"*"}, LineID: &other, Enabled: true})
	require.NoError(t, err)
	emit(t, st, "conversation.assigned", 2)
	emit(t, st, "conversation.closed", 1)
	emit(t, st, "presence", 1)

	count := func(id int64) int {
		list, err := st.WebhookDeliveries(t.Context(), id, "", 100)
		require.NoError(t, err)
		return len(list)
	}
	require.Equal(t, 1, count(closed.ID))
	require.Equal(t, 3, count(all.ID))
	list, err := st.WebhookDeliveries(t.Context(), closed.ID, "", 100)
	require.NoError(t, err)
	require.Equal(t, "conversation.closed", list[0].Event)
	require.Equal(t, store.WebhookPending, list[0].Status)
}

// TestFailingEndpointIsRetriedThenFailed: every attempt is recorded with its status and error,
// spaced by the backoff, and after the tenth the delivery is failed; a manual retry sends it
// once more.
func TestFailingEndpointIsRetriedThenFailed(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	var mu sync.Mutex
	hits, answer := 0, http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		w.WriteHeader(answer)
		_, _ = io.WriteString(w, "try later")
	}))
	defer srv.Close()
	hook, _ := newWebhook(t, st, srv.URL, "conversation.assigned")
	emit(t, st, "conversation.assigned", 1)
	d := dispatcher(st)

	for i := 1; i <= webhooks.MaxAttempts; i++ {
		before := time.Now()
		n, err := d.RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, n, "attempt %d", i)
		list, err := st.WebhookDeliveries(t.Context(), hook.ID, "", 10)
		require.NoError(t, err)
		require.Len(t, list[0].Attempts, i)
		last := list[0].Attempts[i-1]
		require.Equal(t, 503, *last.StatusCode)
		require.Contains(t, last.Error, "endpoint answered 503: try later")
		if i < webhooks.MaxAttempts {
			require.Equal(t, store.WebhookPending, list[0].Status)
			wait := list[0].NextAttemptAt.Sub(before)
			require.InDelta(t, webhooks.Backoff(i).Seconds(), wait.Seconds(), 2, "wait after attempt %d", i)
			n, err = d.RunOnce(t.Context())
			require.NoError(t, err)
			require.Zero(t, n, "not due before its backoff")
			// Skip the wait.
			_, err = st.Pool().Exec(t.Context(), `UPDATE webhook_deliveries SET next_attempt_at = now()`)
			require.NoError(t, err)
		} else {
			require.Equal(t, store.WebhookFailed, list[0].Status)
			require.Nil(t, list[0].NextAttemptAt)
		}
	}
	n, err := d.RunOnce(t.Context())
	require.NoError(t, err)
	require.Zero(t, n, "a failed delivery is not sent again by itself")

	list, err := st.WebhookDeliveries(t.Context(), hook.ID, "", 10)
	require.NoError(t, err)
	mu.Lock()
	answer = http.StatusNoContent
	mu.Unlock()
	require.NoError(t, st.RetryWebhookDelivery(t.Context(), hook.ID, list[0].ID))
	require.ErrorIs(t, st.RetryWebhookDelivery(t.Context(), hook.ID, list[0].ID), store.ErrNotRetryable, "already pending")
	n, err = d.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	list, err = st.WebhookDeliveries(t.Context(), hook.ID, "", 10)
	require.NoError(t, err)
	require.Equal(t, store.WebhookDelivered, list[0].Status)
	require.Len(t, list[0].Attempts, webhooks.MaxAttempts+1)
	require.Equal(t, webhooks.MaxAttempts+1, hits)
	require.ErrorIs(t, st.RetryWebhookDelivery(t.Context(), hook.ID, list[0].ID), store.ErrNotRetryable, "delivered")
}

// TestTwoDispatchersNeverSendOneDeliveryTwice: two dispatchers racing over the same queue send
// every delivery exactly once, each correctly signed.
func TestTwoDispatchersNeverSendOneDeliveryTwice(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	const events = 60
	var mu sync.Mutex
	got := map[string]int{}
	var secret string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(webhooks.HeaderTimestamp), 10, 64)
		if !hmac.Equal([]byte(webhooks.Sign(secret, ts, body)), []byte(r.Header.Get(webhooks.HeaderSignature))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		time.Sleep(5 * time.Millisecond) // long enough for the other dispatcher to look
		mu.Lock()
		got[r.Header.Get(webhooks.HeaderDelivery)]++
		mu.Unlock()
	}))
	defer srv.Close()
	hook, s := newWebhook(t, st, srv.URL, "*")
	secret = s
	emit(t, st, "conversation.opened", events)

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		d := dispatcher(st)
		d.Batch, d.Poll = 4, 10*time.Millisecond
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	require.Eventually(t, func() bool {
		list, err := st.WebhookDeliveries(t.Context(), hook.ID, store.WebhookDelivered, 1000)
		return err == nil && len(list) == events
	}, 20*time.Second, 20*time.Millisecond)
	cancel()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, events)
	for id, n := range got {
		require.Equal(t, 1, n, "delivery %s sent %d times", id, n)
	}
	list, err := st.WebhookDeliveries(t.Context(), hook.ID, "", 1000)
	require.NoError(t, err)
	for _, d := range list {
		require.Len(t, d.Attempts, 1)
	}
}
