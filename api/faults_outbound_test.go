//go:build faults

package api_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/connectors/telegram/telegramtest"
)

// outageFront stands on its own address in front of an endpoint: up, it passes every request on;
// failing, it answers 503 as a load balancer does for a service that is down; refusing, it is
// gone (its listener and connections closed) until it comes up again on the same address.
type outageFront struct {
	t     *testing.T
	proxy *httputil.ReverseProxy
	addr  string

	mu       sync.Mutex
	state    string
	srv      *http.Server
	answered int // 503s answered
}

func newOutageFront(t *testing.T, target string) *outageFront {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	f := &outageFront{t: t, proxy: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}), state: "up"}
	f.listen("127.0.0.1:0")
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.srv != nil {
			_ = f.srv.Close()
		}
	})
	return f
}

// URL is the front's base URL (the same across outages).
func (f *outageFront) URL() string { return "http://" + f.addr }

func (f *outageFront) listen(addr string) {
	var l net.Listener
	var err error
	for range 100 { // the port of a closed listener may take a moment to free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(f.t, err)
	f.addr = l.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go func(srv *http.Server) { _ = srv.Serve(l) }(f.srv)
}

func (f *outageFront) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	failing := f.state == "503"
	if failing {
		f.answered++
	}
	f.mu.Unlock()
	if failing {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"))
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// fail makes the endpoint answer 503.
func (f *outageFront) fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = "503"
}

// refuse takes the endpoint away: connections are refused.
func (f *outageFront) refuse() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = "refused"
	if f.srv != nil {
		_ = f.srv.Close()
		f.srv = nil
	}
}

// up brings the endpoint back.
func (f *outageFront) up() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv == nil {
		f.listen(f.addr)
	}
	f.state = "up"
}

func (f *outageFront) refusals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answered
}

// faultOutboundView is a message as GET /conversations/{n}/messages shows its delivery.
type faultOutboundView struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	Text      string `json:"text"`
	Status    string `json:"status"`
	Delivery  *struct {
		Attempts       int    `json:"attempts"`
		LastError      string `json:"last_error"`
		LastStatusCode *int   `json:"last_status_code"`
	} `json:"delivery"`
}

func (a *app) faultOutbound(c *http.Client, n int64, id string) faultOutboundView {
	a.t.Helper()
	res := a.do(c, "GET", fmt.Sprintf("/api/v1/conversations/%d/messages", n), nil, nil)
	require.Equal(a.t, http.StatusOK, res.status, res.text)
	var page struct {
		Items []faultOutboundView `json:"items"`
	}
	res.json(a.t, &page)
	for _, m := range page.Items {
		if m.ID == id {
			return m
		}
	}
	a.t.Fatalf("message %s not in conversation %d", id, n)
	return faultOutboundView{}
}

// faultReply is an operator's reply written during the outage.
type faultReply struct {
	channel string
	conv    int64
	text    string
	// after is when it is written, as a share of the outage.
	after float64
	id    string
	// written and arrived are when the operator sent it and when the endpoint accepted it.
	written, arrived time.Time
}

// TestFaultOutboundEndpointDown: an api channel whose integrator's callback, and a Telegram bot
// whose Bot API, are down for a minute (LINEDESK_FAULT_OUTBOUND_OUTAGE): answering 503 for the
// first half and refusing connections for the second. The operator replies in four
// conversations meanwhile. While it lasts each reply shows as pending with its attempts and the
// last error (the 503, then the refused connection) in the conversation's messages; once the
// endpoints are back every reply arrives exactly once (the integrator counts deliveries by
// X-Linedesk-Delivery, the message id; the bot's chat by text), in the order written within its
// conversation, its status turns sent, and the console's event stream says so once per reply.
func TestFaultOutboundEndpointDown(t *testing.T) {
	outage := faultDuration(t, "LINEDESK_FAULT_OUTBOUND_OUTAGE", time.Minute)
	a := newApp(t, appOptions{})

	// The api channel, its callback behind a front.
	cs := a.setupChannel(map[string]any{"name": "Outbound API", "auto_open": true})
	apiFront := newOutageFront(t, cs.fake.URL())
	res := a.do(a.http, "PATCH", "/api/v1/channels/"+strconv.FormatInt(cs.channelID, 10),
		map[string]any{"settings": map[string]string{"callback_url": apiFront.URL() + "/linedesk/callback"}}, nil)
	require.Equal(t, http.StatusOK, res.status, res.text)
	// The Telegram bot, its Bot API behind a front.
	tg := telegramtest.New(t, testBotToken)
	tgFront := newOutageFront(t, tg.URL())
	_, tch := a.messengerLine("telegram", map[string]any{"api_base_url": tgFront.URL()}, map[string]string{"bot_token": testBotToken})
	a.faultConnect(tch.Channel.ID)

	_, op := a.newOperator("outbound.op@example.com", "Oleg")
	convs := map[string]int64{}
	for i := range 2 {
		client := fmt.Sprintf("crm-out-%d", i)
		r, ans := a.inbound(cs, "hello-"+client, clientText(client, "Hello, anyone there?"))
		require.Equal(t, http.StatusAccepted, r.status, r.text)
		require.NotNil(t, ans.Conversation, r.text)
		convs[fmt.Sprintf("api%d", i+1)] = *ans.Conversation
		user := int64(820001 + i)
		require.Equal(t, []int{http.StatusOK}, tg.DeliverUntilOK(t, telegramtest.TextUpdate(int64(770001+i), user, "Tanya", "Hello from Telegram"), 3))
		convs[fmt.Sprintf("tg%d", i+1)] = a.conversationOf(tch.Channel.ID, strconv.FormatInt(user, 10))
	}
	for _, n := range convs {
		res := a.do(op, "POST", fmt.Sprintf("/api/v1/conversations/%d/take", n), nil, nil)
		require.Equal(t, http.StatusOK, res.status, res.text)
	}
	// Nothing goes out before the outage (no greeting on these lines).
	require.Never(t, func() bool { return len(cs.fake.Deliveries()) > 0 || len(tg.Sent()) > 0 }, time.Second, 50*time.Millisecond)
	events := openStream(t, a.url, op, "")

	replies := []*faultReply{
		{channel: "api", conv: convs["api1"], text: "api1 first", after: 0},
		{channel: "tg", conv: convs["tg1"], text: "tg1 first", after: 0},
		{channel: "api", conv: convs["api2"], text: "api2 first", after: 1.0 / 6},
		{channel: "tg", conv: convs["tg2"], text: "tg2 first", after: 1.0 / 6},
		{channel: "api", conv: convs["api1"], text: "api1 second", after: 0.5},
		{channel: "tg", conv: convs["tg1"], text: "tg1 second", after: 0.5},
		{channel: "api", conv: convs["api2"], text: "api2 second", after: 0.75},
		{channel: "tg", conv: convs["tg2"], text: "tg2 second", after: 0.75},
	}
	apiFront.fail()
	tgFront.fail()
	start := time.Now()
	at := func(share float64) time.Time { return start.Add(time.Duration(share * float64(outage))) }
	reply := func(r *faultReply) {
		time.Sleep(time.Until(at(r.after)))
		res := a.do(op, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", r.conv), map[string]string{"text": r.text}, nil)
		require.Equal(t, http.StatusCreated, res.status, res.text)
		var m struct {
			ID string `json:"id"`
		}
		res.json(t, &m)
		r.id, r.written = m.ID, time.Now()
	}
	// pendingWithError waits until a reply shows as pending with a failed attempt whose error
	// contains want, and returns what it shows.
	pendingWithError := func(r *faultReply, want string, until time.Time) (faultOutboundView, bool) {
		for time.Now().Before(until) {
			m := a.faultOutbound(op, r.conv, r.id)
			require.Equal(t, "pending", m.Status, "%s during the outage", r.text)
			if m.Delivery != nil && m.Delivery.Attempts >= 2 && strings.Contains(m.Delivery.LastError, want) {
				return m, true
			}
			time.Sleep(100 * time.Millisecond)
		}
		return faultOutboundView{}, false
	}

	// First half: 503.
	for _, r := range replies[:4] {
		reply(r)
	}
	var seen503 []string
	for _, r := range replies[:2] {
		m, ok := pendingWithError(r, "503", at(0.5))
		require.True(t, ok, "%s: no failed attempt with the 503 shown while the endpoint answered 503", r.text)
		seen503 = append(seen503, fmt.Sprintf("%s: %d attempts, %q", r.channel, m.Delivery.Attempts, m.Delivery.LastError))
	}
	// Second half: connection refused.
	time.Sleep(time.Until(at(0.5)))
	apiFront.refuse()
	tgFront.refuse()
	for _, r := range replies[4:] {
		reply(r)
	}
	var seenRefused []string
	for _, r := range replies[:2] {
		if m, ok := pendingWithError(r, "refused", at(1)); ok {
			seenRefused = append(seenRefused, fmt.Sprintf("%s: %d attempts, %q", r.channel, m.Delivery.Attempts, m.Delivery.LastError))
		}
	}
	require.NotEmpty(t, seenRefused, "no reply showed the refused connection while the endpoint was gone")
	time.Sleep(time.Until(at(1)))
	// During the outage nothing reached either endpoint, and no reply was given up.
	require.Empty(t, cs.fake.Deliveries())
	require.Empty(t, tg.Sent())
	for _, r := range replies {
		require.Equal(t, "pending", a.faultOutbound(op, r.conv, r.id).Status, r.text)
	}
	statusEventsDuring := 0
	for _, e := range events.got() {
		if e.Kind == "message.status" {
			statusEventsDuring++
		}
	}
	attempts := 0
	for _, r := range replies {
		if d := a.faultOutbound(op, r.conv, r.id).Delivery; d != nil {
			attempts += d.Attempts
		}
	}
	answered503 := apiFront.refusals() + tgFront.refusals()

	// Recovery.
	apiFront.up()
	tgFront.up()
	recovered := time.Now()
	tgPrefix := "Oleg:\n"
	deadline := recovered.Add(90 * time.Second)
	for {
		done := true
		for _, d := range cs.fake.Deliveries() {
			for _, r := range replies {
				if r.channel == "api" && r.id == d.DeliveryID && r.arrived.IsZero() {
					r.arrived = d.Attempt
				}
			}
		}
		for _, s := range tg.Sent() {
			for _, r := range replies {
				if r.channel == "tg" && s.Text == tgPrefix+r.text && r.arrived.IsZero() {
					r.arrived = time.Now()
				}
			}
		}
		for _, r := range replies {
			done = done && !r.arrived.IsZero()
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replies not delivered %s after the endpoints came back: %d at the integrator, %d at Telegram",
				time.Since(recovered), len(cs.fake.Deliveries()), len(tg.Sent()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.waitFor("every reply marked sent", 20*time.Second, func() bool {
		for _, r := range replies {
			if a.faultOutbound(op, r.conv, r.id).Status != "sent" {
				return false
			}
		}
		return true
	})
	// Exactly once: no second copy arrives later either.
	require.Never(t, func() bool { return len(cs.fake.Deliveries()) > 4 || len(tg.Sent()) > 4 }, 3*time.Second, 50*time.Millisecond)
	perID := map[string]int{}
	var apiOrder []string
	for _, d := range cs.fake.Deliveries() {
		perID[d.DeliveryID]++
		apiOrder = append(apiOrder, d.Outbound.Message.Text)
	}
	perText := map[string]int{}
	var tgOrder []string
	for _, s := range tg.Sent() {
		perText[strings.TrimPrefix(s.Text, tgPrefix)]++
		tgOrder = append(tgOrder, strings.TrimPrefix(s.Text, tgPrefix))
	}
	for _, r := range replies {
		if r.channel == "api" {
			require.Equal(t, 1, perID[r.id], "%s: deliveries with its X-Linedesk-Delivery", r.text)
		} else {
			require.Equal(t, 1, perText[r.text], "%s: messages in the Telegram chat", r.text)
		}
	}
	// Within a conversation, the replies arrive in the order written.
	for _, order := range [][]string{apiOrder, tgOrder} {
		for _, first := range []string{"api1", "api2", "tg1", "tg2"} {
			i, j := slices.Index(order, first+" first"), slices.Index(order, first+" second")
			if i >= 0 || j >= 0 {
				require.Less(t, i, j, "%s: %v", first, order)
			}
		}
	}
	// The console learns of each delivery once, as a status change to sent.
	var sentEvents int
	for _, e := range events.got() {
		if e.Kind != "message.status" {
			continue
		}
		var d struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		require.NoError(t, json.Unmarshal(e.Data, &d))
		if d.Status == "sent" {
			sentEvents++
		}
	}
	require.Equal(t, len(replies), sentEvents, "message.status sent events on the operator's stream")

	var delays []string
	var worst time.Duration
	for _, r := range replies {
		d := r.arrived.Sub(recovered)
		worst = max(worst, d)
		delays = append(delays, fmt.Sprintf("%s(written +%s)=%s", strings.ReplaceAll(r.text, " ", "-"),
			r.written.Sub(start).Round(time.Second), d.Round(100*time.Millisecond)))
	}
	t.Logf("FIGURE: outbound endpoint down %s (503 for half, then connection refused) for an api-channel callback and Telegram's Bot API, "+
		"%d operator replies in 4 conversations written meanwhile: visible while down as status pending with attempts and last_error "+
		"[%s] then [%s]; %d attempts failed (%d answered 503), 0 given up, 0 reached the endpoints, %d message.status events during the outage; "+
		"after recovery each delivered exactly once (%d/%d, by message id / text), status sent, %d sent events; "+
		"delivery delay after recovery: worst %s [%s]",
		outage, len(replies), strings.Join(seen503, "; "), strings.Join(seenRefused, "; "), attempts, answered503, statusEventsDuring,
		len(perID)+len(perText), len(replies), sentEvents, worst.Round(100*time.Millisecond), strings.Join(delays, " "))
}
