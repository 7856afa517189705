package apichanneltest_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/apichannel/apichanneltest"
)

const secret = "k"

func post(t *testing.T, url string, body, deliveryID, signature, contentType string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(apichannel.HeaderDelivery, deliveryID)
	req.Header.Set(apichannel.HeaderSignature, signature)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestServerChecksTheProtocol(t *testing.T) {
	valid := `{"event":"message","message":{"id":"m1","chat_id":"c","text":"hi","created_at":"2026-03-01T10:30:00Z"},"contact":{"external_id":"u-1"}}`
	tests := []struct {
		name        string
		body        string
		deliveryID  string
		signature   string
		contentType string
		want        int
	}{
		{"accepted", valid, "m1", apichannel.Sign(secret, []byte(valid)), "application/json", http.StatusOK},
		{"bad signature", valid, "m1", apichannel.Sign("other", []byte(valid)), "application/json", http.StatusUnauthorized},
		{"no signature", valid, "m1", "", "application/json", http.StatusUnauthorized},
		{"wrong content type", valid, "m1", apichannel.Sign(secret, []byte(valid)), "text/plain", http.StatusBadRequest},
		{"delivery id differs", valid, "m2", apichannel.Sign(secret, []byte(valid)), "application/json", http.StatusBadRequest},
		{"not JSON", "nope", "m1", apichannel.Sign(secret, []byte("nope")), "application/json", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := apichanneltest.New(t, secret)
			got := post(t, srv.URL(), tt.body, tt.deliveryID, tt.signature, tt.contentType)
			require.Equal(t, tt.want, got)
			if tt.want == http.StatusOK {
				require.Len(t, srv.Deliveries(), 1)
				require.Zero(t, srv.Rejected())
			} else {
				require.Empty(t, srv.Deliveries())
				require.Equal(t, 1, srv.Rejected())
			}
		})
	}
}

func TestServerFailNext(t *testing.T) {
	srv := apichanneltest.New(t, secret)
	srv.FailNext(2, http.StatusTooManyRequests)
	body := `{"event":"message","message":{"id":"m1","chat_id":"c","text":"hi","created_at":"2026-03-01T10:30:00Z"},"contact":{"external_id":"u-1"}}`
	sig := apichannel.Sign(secret, []byte(body))

	require.Equal(t, http.StatusTooManyRequests, post(t, srv.URL(), body, "m1", sig, "application/json"))
	require.Equal(t, http.StatusTooManyRequests, post(t, srv.URL(), body, "m1", sig, "application/json"))
	require.Equal(t, http.StatusOK, post(t, srv.URL(), body, "m1", sig, "application/json"))
	require.Len(t, srv.WaitFor(t, 1, 0), 1)
	require.Zero(t, srv.Rejected())
}
