package smtpmail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// received is one message accepted by the test server.
type received struct {
	From   string
	To     []string
	Data   []byte
	Authed string // the username that authenticated, if any
	TLS    bool
}

// backend is an in-process SMTP server's storage. When username is set it
// requires authentication before MAIL FROM.
type backend struct {
	username, password string

	mu       sync.Mutex
	messages []received
	authFail int
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, conn: c}, nil
}

func (b *backend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.messages...)
}

func (b *backend) authFailures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.authFail
}

type session struct {
	b      *backend
	conn   *smtp.Conn
	authed string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if s.b.username == "" || username != s.b.username || password != s.b.password {
			s.b.mu.Lock()
			s.b.authFail++
			s.b.mu.Unlock()
			return smtp.ErrAuthFailed
		}
		s.authed = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.username != "" && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.messages = append(s.b.messages, received{From: s.from, To: s.to, Data: data, Authed: s.authed, TLS: s.isTLS()})
	return nil
}

func (s *session) isTLS() bool {
	_, ok := s.conn.Conn().(*tls.Conn)
	return ok
}

func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

func (s *session) Logout() error { return nil }

type serverOptions struct {
	allowInsecureAuth bool
	tls               *tls.Config // offered with STARTTLS, or spoken at once when implicit
	implicitTLS       bool
}

// startServer runs an SMTP server on 127.0.0.1 until the test ends and
// returns its port.
func startServer(t *testing.T, be *backend, o serverOptions) int {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.AllowInsecureAuth = o.allowInsecureAuth
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.TLSConfig = o.tls
	s.ErrorLog = log.New(io.Discard, "", 0)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	if o.implicitTLS {
		l = tls.NewListener(l, o.tls)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return port
}

// testCert returns a server TLS config for 127.0.0.1 and a client TLS
// config that trusts it.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "linedesk test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

// parsed is a received message decoded back to text.
type parsed struct {
	Header  mail.Header
	From    *mail.Address
	To      *mail.Address
	Subject string
	Body    string // line breaks as "\n"
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	from, err := m.Header.AddressList("From")
	require.NoError(t, err)
	require.Len(t, from, 1)
	to, err := m.Header.AddressList("To")
	require.NoError(t, err)
	require.Len(t, to, 1)
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)

	var body io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	text, err := io.ReadAll(body)
	require.NoError(t, err)
	return parsed{Header: m.Header, From: from[0], To: to[0], Subject: subject, Body: strings.ReplaceAll(string(text), "\r\n", "\n")}
}

func TestSendDelivers(t *testing.T) {
	be := &backend{}
	port := startServer(t, be, serverOptions{})
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "linedesk <support@example.com>", Timeout: 5 * time.Second})
	require.NoError(t, err)

	text := "Здравствуйте, Анна!\n\nВаше обращение №1042 закрыто. Решение: перезагрузите роутер.\nС уважением, поддержка — linedesk.\n" +
		strings.Repeat("Длинная строка без переносов. ", 20) + "\n.\nstrange line above is a lone dot\n"
	err = m.Send(t.Context(), Message{To: "Анна Петрова <anna@example.org>", Subject: "Решение по обращению №1042", Text: text})
	require.NoError(t, err)

	msgs := be.received()
	require.Len(t, msgs, 1)
	r := msgs[0]
	require.Equal(t, "support@example.com", r.From)
	require.Equal(t, []string{"anna@example.org"}, r.To)
	require.Empty(t, r.Authed)

	p := parse(t, r.Data)
	require.Equal(t, &mail.Address{Name: "linedesk", Address: "support@example.com"}, p.From)
	require.Equal(t, &mail.Address{Name: "Анна Петрова", Address: "anna@example.org"}, p.To)
	require.Equal(t, "Решение по обращению №1042", p.Subject)
	require.Equal(t, text, p.Body)

	mediaType, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "text/plain", mediaType)
	require.Equal(t, "utf-8", strings.ToLower(params["charset"]))
	require.Regexp(t, `^<[0-9a-f]{32}@example\.com>$`, p.Header.Get("Message-Id"))
	date, err := p.Header.Date()
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), date, time.Minute)
	require.Equal(t, "auto-generated", p.Header.Get("Auto-Submitted"))
	require.Equal(t, "linedesk", p.Header.Get("User-Agent"))
}

func TestSendSubjectStaysOneLine(t *testing.T) {
	be := &backend{}
	port := startServer(t, be, serverOptions{})
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com"})
	require.NoError(t, err)

	err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "Hi\r\nBcc: victim@example.net", Text: "x"})
	require.NoError(t, err)
	msgs := be.received()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{"ann@example.org"}, msgs[0].To)
	p := parse(t, msgs[0].Data)
	require.Equal(t, "Hi Bcc: victim@example.net", p.Subject)
	require.Empty(t, p.Header.Get("Bcc"))
}

func TestSendAuth(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{"right password", "correct horse", false},
		{"wrong password", "battery staple", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{username: "linedesk", password: "correct horse"}
			port := startServer(t, be, serverOptions{allowInsecureAuth: true})
			m, err := New(Config{
				Host: "127.0.0.1", Port: port, From: "support@example.com",
				Username: "linedesk", Password: tt.password, Timeout: 5 * time.Second,
			})
			require.NoError(t, err)

			err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "s", Text: "t"})
			if tt.wantErr {
				require.Error(t, err)
				require.Empty(t, be.received())
				require.Equal(t, 1, be.authFailures())
				return
			}
			require.NoError(t, err)
			msgs := be.received()
			require.Len(t, msgs, 1)
			require.Equal(t, "linedesk", msgs[0].Authed)
		})
	}
}

func TestSendWithoutUsernameDoesNotAuthenticate(t *testing.T) {
	be := &backend{username: "linedesk", password: "pw"}
	port := startServer(t, be, serverOptions{allowInsecureAuth: true})
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com"})
	require.NoError(t, err)

	err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "s", Text: "t"})
	require.Error(t, err, "the server demands AUTH, the mailer has no credentials")
	require.Zero(t, be.authFailures())
	require.Empty(t, be.received())
}

func TestSendTLS(t *testing.T) {
	serverTLS, clientTLS := testCert(t)
	tests := []struct {
		name     string
		server   serverOptions
		mode     string
		wantTLS  bool
		withAuth bool
	}{
		{"starttls offered is used, auth over it", serverOptions{tls: serverTLS}, TLSStartTLS, true, true},
		{"default mode is starttls", serverOptions{tls: serverTLS}, "", true, false},
		{"starttls not offered goes on in clear", serverOptions{}, TLSStartTLS, false, false},
		{"implicit tls, auth over it", serverOptions{tls: serverTLS, implicitTLS: true}, TLSImplicit, true, true},
		{"none ignores starttls", serverOptions{tls: serverTLS}, TLSNone, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			cfg := Config{Host: "127.0.0.1", From: "support@example.com", TLS: tt.mode, Timeout: 5 * time.Second}
			if tt.withAuth {
				be.username, be.password = "linedesk", "pw"
				cfg.Username, cfg.Password = "linedesk", "pw"
			}
			cfg.Port = startServer(t, be, tt.server)
			m, err := newMailer(cfg, clientTLS)
			require.NoError(t, err)

			require.NoError(t, m.Send(t.Context(), Message{To: "ann@example.org", Subject: "Тема", Text: "Текст"}))
			msgs := be.received()
			require.Len(t, msgs, 1)
			require.Equal(t, tt.wantTLS, msgs[0].TLS)
			if tt.withAuth {
				require.Equal(t, "linedesk", msgs[0].Authed)
			}
			require.Equal(t, "Текст\n", parse(t, msgs[0].Data).Body, "SMTP ends the body with a line break")
		})
	}
}

func TestSendUntrustedCertificateFails(t *testing.T) {
	serverTLS, _ := testCert(t)
	be := &backend{}
	port := startServer(t, be, serverOptions{tls: serverTLS, implicitTLS: true})
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com", TLS: TLSImplicit, Timeout: 5 * time.Second})
	require.NoError(t, err)

	err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "s", Text: "t"})
	require.Error(t, err)
	require.Empty(t, be.received())
}

func TestSendServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com", Timeout: 3 * time.Second})
	require.NoError(t, err)
	start := time.Now()
	err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "s", Text: "t"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "127.0.0.1:"+strconv.Itoa(port))
	require.Less(t, time.Since(start), 3*time.Second, "a refused connection must not wait for the timeout")
}

func TestSendCanceledContext(t *testing.T) {
	be := &backend{}
	port := startServer(t, be, serverOptions{})
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com"})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = m.Send(ctx, Message{To: "ann@example.org", Subject: "s", Text: "t"})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, be.received())
}

func TestSendBadRecipient(t *testing.T) {
	m, err := New(Config{Host: "127.0.0.1", Port: 1, From: "support@example.com"})
	require.NoError(t, err)
	for _, to := range []string{"", "not an address", "a@b, c@d"} {
		err := m.Send(t.Context(), Message{To: to, Subject: "s", Text: "t"})
		require.ErrorContains(t, err, "smtp recipient")
	}
}

func TestConfigValidate(t *testing.T) {
	valid := Config{Host: "smtp.example.com", From: "linedesk <support@example.com>"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{"minimal", func(*Config) {}, nil},
		{"all set", func(c *Config) {
			c.Port, c.TLS, c.Username, c.Password, c.Timeout = 2525, TLSNone, "u", "p", time.Second
		}, nil},
		{"tls modes", func(c *Config) { c.TLS = TLSImplicit }, nil},
		{"no host", func(c *Config) { c.Host = " " }, []string{"smtp host is required"}},
		{"no from", func(c *Config) { c.From = "" }, []string{"smtp from address is required"}},
		{"bad from", func(c *Config) { c.From = "linedesk" }, []string{`smtp from address "linedesk"`}},
		{"port too big", func(c *Config) { c.Port = 65536 }, []string{"smtp port 65536 is out of range 1..65535"}},
		{"negative port", func(c *Config) { c.Port = -1 }, []string{"smtp port -1 is out of range"}},
		{"unknown tls", func(c *Config) { c.TLS = "ssl" }, []string{`smtp tls mode "ssl" is not one of`}},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"smtp timeout -1s is negative"}},
		{"everything wrong", func(c *Config) { *c = Config{Port: 70000, TLS: "x"} }, []string{
			"smtp host is required", "smtp port 70000", "smtp from address is required", `smtp tls mode "x"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				_, err = New(c)
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
			_, newErr := New(c)
			require.Error(t, newErr)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		in       Config
		wantPort int
		wantTLS  string
	}{
		{Config{}, DefaultPort, TLSStartTLS},
		{Config{TLS: TLSImplicit}, DefaultImplicitPort, TLSImplicit},
		{Config{TLS: TLSNone}, DefaultPort, TLSNone},
		{Config{Port: 25, TLS: TLSImplicit}, 25, TLSImplicit},
	}
	for _, tt := range tests {
		got := tt.in.withDefaults()
		require.Equal(t, tt.wantPort, got.Port)
		require.Equal(t, tt.wantTLS, got.TLS)
		require.Equal(t, DefaultTimeout, got.Timeout)
	}
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestSendContextEndsAHangingSession(t *testing.T) {
	port := silentServer(t)
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com", Timeout: time.Minute})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Send(ctx, Message{To: "ann@example.org", Subject: "s", Text: "t"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 10*time.Second, "the context, not the one-minute timeout, must end the session")
}

func TestSendTimeoutEndsAHangingSession(t *testing.T) {
	port := silentServer(t)
	m, err := New(Config{Host: "127.0.0.1", Port: port, From: "support@example.com", Timeout: 300 * time.Millisecond})
	require.NoError(t, err)

	err = m.Send(t.Context(), Message{To: "ann@example.org", Subject: "s", Text: "t"})
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout(), "error: %v", err)
}
