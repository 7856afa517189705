package apichannel_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/apichannel"
	"github.com/linedesk/linedesk/connectors/apichannel/apichanneltest"
)

const secret = "s3cret-channel-key"

func message(id string) apichannel.Outbound {
	return apichannel.Outbound{
		Message: apichannel.OutboundMessage{
			ID:           id,
			ChatID:       "chat-1",
			Conversation: 1042,
			Text:         "Как вам наш ответ?",
			Buttons: []apichannel.Button{
				{Text: "Bad", Payload: "csat:1042:1"},
				{Text: "Good", Payload: "csat:1042:5"},
			},
			CreatedAt: time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC),
		},
		Contact: apichannel.OutboundContact{ExternalID: "u-1"},
	}
}

func TestSenderDelivers(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	s := &apichannel.Sender{UserAgent: "linedesk-test/1.0"}

	m := message("msg-1")
	res, err := s.Send(t.Context(), integrator.URL(), secret, m)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)

	got := integrator.WaitFor(t, 1, 5*time.Second)
	require.Len(t, got, 1)
	d := got[0]
	m.Event = apichannel.EventMessage
	require.Equal(t, m, d.Outbound)
	require.Equal(t, "msg-1", d.DeliveryID)
	require.True(t, apichannel.VerifySignature(secret, d.Body, d.Signature))
	require.Equal(t, apichannel.Sign(secret, d.Body), d.Signature)
	require.Equal(t, "application/json", d.Header.Get("Content-Type"))
	require.Equal(t, "linedesk-test/1.0", d.Header.Get("User-Agent"))
	require.False(t, d.Attempt.IsZero())
	require.Zero(t, integrator.Rejected())
}

func TestSenderDefaultUserAgent(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	var s apichannel.Sender
	_, err := s.Send(t.Context(), integrator.URL(), secret, message("msg-1"))
	require.NoError(t, err)
	require.Equal(t, apichannel.DefaultUserAgent, integrator.Deliveries()[0].Header.Get("User-Agent"))
}

func TestSenderClassifiesFailures(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
		{http.StatusServiceUnavailable, false},
		{http.StatusTooManyRequests, false},
		{http.StatusRequestTimeout, false},
		{http.StatusTooEarly, false},
		{http.StatusBadRequest, true},
		{http.StatusNotFound, true},
		{http.StatusGone, true},
		{http.StatusUnprocessableEntity, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			integrator := apichanneltest.New(t, secret)
			integrator.FailNext(1, tt.status)
			var s apichannel.Sender

			res, err := s.Send(t.Context(), integrator.URL(), secret, message("msg-1"))
			require.Error(t, err)
			require.Equal(t, tt.status, res.StatusCode)
			var perm *apichannel.PermanentError
			require.Equal(t, tt.permanent, errors.As(err, &perm), "error: %v", err)
			if tt.permanent {
				require.Equal(t, tt.status, perm.StatusCode)
				require.Equal(t, "injected failure", perm.Body)
			}
			require.Contains(t, err.Error(), "injected failure")
			require.Empty(t, integrator.Deliveries())
		})
	}
}

func TestSenderRetriesThenSucceeds(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	integrator.FailNext(2, http.StatusServiceUnavailable)
	var s apichannel.Sender
	m := message("msg-retry")

	for range 2 {
		res, err := s.Send(t.Context(), integrator.URL(), secret, m)
		require.Error(t, err)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		var perm *apichannel.PermanentError
		require.False(t, errors.As(err, &perm))
	}
	res, err := s.Send(t.Context(), integrator.URL(), secret, m)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)

	got := integrator.WaitFor(t, 1, 5*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, "msg-retry", got[0].DeliveryID)
}

func TestSenderWrongSecretIsPermanent(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	var s apichannel.Sender

	res, err := s.Send(t.Context(), integrator.URL(), "another-secret", message("msg-1"))
	var perm *apichannel.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusUnauthorized, perm.StatusCode)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Equal(t, 1, integrator.Rejected())
	require.Empty(t, integrator.Deliveries())
}

func TestSenderRefusesBeforeSending(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	var s apichannel.Sender
	tests := []struct {
		name   string
		url    string
		secret string
		m      apichannel.Outbound
	}{
		{"empty URL", "", secret, message("m")},
		{"relative URL", "/hook", secret, message("m")},
		{"other scheme", "ftp://example.com/hook", secret, message("m")},
		{"empty secret", integrator.URL(), "", message("m")},
		{"no message id", integrator.URL(), secret, message("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Send(t.Context(), tt.url, tt.secret, tt.m)
			var perm *apichannel.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Zero(t, perm.StatusCode)
			require.Zero(t, res.StatusCode)
		})
	}
	require.Empty(t, integrator.Deliveries())
	require.Zero(t, integrator.Rejected())
}

func TestSenderNetworkErrorIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	var s apichannel.Sender
	res, err := s.Send(t.Context(), "http://"+addr+"/hook", secret, message("msg-1"))
	require.Error(t, err)
	require.Zero(t, res.StatusCode)
	var perm *apichannel.PermanentError
	require.False(t, errors.As(err, &perm))
}

func TestSenderContextCanceled(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	var s apichannel.Sender
	_, err := s.Send(ctx, integrator.URL(), secret, message("msg-1"))
	require.ErrorIs(t, err, context.Canceled)
	var perm *apichannel.PermanentError
	require.False(t, errors.As(err, &perm))
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	integrator := apichanneltest.New(t, secret)
	redirect := httptest.NewServer(http.RedirectHandler(integrator.URL(), http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)

	var s apichannel.Sender
	res, err := s.Send(t.Context(), redirect.URL, secret, message("msg-1"))
	var perm *apichannel.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusTemporaryRedirect, res.StatusCode)
	require.Empty(t, integrator.Deliveries())
}

func TestSenderReadsLittleOfTheAnswer(t *testing.T) {
	huge := strings.Repeat("ошибка ", 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(huge))
	}))
	t.Cleanup(srv.Close)

	var s apichannel.Sender
	_, err := s.Send(t.Context(), srv.URL, secret, message("msg-1"))
	var perm *apichannel.PermanentError
	require.ErrorAs(t, err, &perm)
	require.LessOrEqual(t, len(perm.Body), 256)
	require.True(t, strings.HasPrefix(perm.Body, "ошибка ошибка"), perm.Body)
}
