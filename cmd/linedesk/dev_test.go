package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store/storetest"
)

// devProcess is one run of `linedesk dev` inside the test process.
type devProcess struct {
	url  string
	stop func()
}

func startDev(t *testing.T, cfg Config) devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, cfg, slog.New(slog.DiscardHandler), pw)
		pw.Close()
	}()
	urlRE := regexp.MustCompile(`console:\s+(http://\S+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case err := <-done:
		cancel()
		t.Fatalf("linedesk dev stopped before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("linedesk dev was not ready in time")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(time.Minute):
			t.Fatal("linedesk dev did not stop")
		}
	}
	t.Cleanup(stop)
	return devProcess{url: url, stop: stop}
}

func postJSON(t *testing.T, c *http.Client, url string, body any, header map[string]string) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestDevKeepsEverythingAcrossRestarts runs `linedesk dev`, works with it, stops it and starts
// it again on the same data dir: the admin, the configuration, the conversation and its running
// workflow are all still there.
func TestDevKeepsEverythingAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server twice")
	}
	cfg, err := loadConfig("dev", nil, envOf(map[string]string{
		"DATABASE_URL":              storetest.NewDatabase(t),
		"LINEDESK_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"LINEDESK_HTTP_ADDR":        "127.0.0.1:0",
		"LINEDESK_TEMPORAL_UI_ADDR": "",
	}), io.Discard)
	require.NoError(t, err)

	dev := startDev(t, cfg)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ := postJSON(t, c, dev.url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status)
	status, line := postJSON(t, c, dev.url+"/api/v1/lines", map[string]any{"name": "Support", "auto_open": true}, nil)
	require.Equal(t, http.StatusCreated, status)
	status, ch := postJSON(t, c, dev.url+"/api/v1/channels", map[string]any{"kind": "api", "name": "Site",
		"line_id": line["id"], "settings": map[string]string{"callback_url": "http://127.0.0.1:9/hook"}}, nil)
	require.Equal(t, http.StatusCreated, status)
	channelID := int64(ch["channel"].(map[string]any)["id"].(float64))
	status, in := postJSON(t, c, fmt.Sprintf("%s/api/v1/channels/%d/inbound", dev.url, channelID),
		map[string]any{"contact": map[string]string{"external_id": "u-1"}, "text": "hello"},
		map[string]string{"Authorization": "Bearer " + ch["inbound_token"].(string), "Idempotency-Key": "m-1"})
	require.Equal(t, http.StatusAccepted, status)
	number := int64(in["conversation"].(float64))
	dev.stop()

	again := startDev(t, cfg)
	jar, _ = cookiejar.New(nil)
	c = &http.Client{Jar: jar, Timeout: 30 * time.Second}
	status, _ = postJSON(t, c, again.url+"/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin"}, nil)
	require.Equal(t, http.StatusOK, status, "the admin survives a restart")
	// The conversation's workflow survived too: it takes the operator's action.
	status, conv := postJSON(t, c, fmt.Sprintf("%s/api/v1/conversations/%d/take", again.url, number), nil, nil)
	require.Equal(t, http.StatusOK, status, "%v", conv)
	require.Equal(t, "active", conv["status"])
	res, err := c.Get(again.url + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}
