// Package smtpmail sends linedesk's own plain-text emails, such as a closed
// conversation's solution, through the system SMTP server.
package smtpmail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of Config.TLS.
const (
	// TLSStartTLS upgrades the connection with STARTTLS when the server
	// offers it and goes on unencrypted when it does not. It is the default.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts.
	TLSNone = "none"
)

// userAgent names linedesk in User-Agent and X-Mailer.
const userAgent = "linedesk"

// Defaults applied by New.
const (
	DefaultPort         = 587
	DefaultImplicitPort = 465
	DefaultTimeout      = 15 * time.Second
)

// Config is the system SMTP server.
type Config struct {
	Host string
	// Port 0 means DefaultPort, or DefaultImplicitPort when TLS is "tls".
	Port int
	// Username enables SMTP AUTH (PLAIN, or LOGIN when the server offers
	// only that); empty means no authentication. The credentials are only
	// sent over TLS, or in clear text to localhost.
	Username, Password string
	// From is the sender, e.g. "linedesk <support@example.com>".
	From string
	// TLS is TLSStartTLS (the default when empty), TLSImplicit or TLSNone.
	TLS string
	// Timeout bounds connecting and each SMTP command; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Host) == "" {
		errs = append(errs, errors.New("smtp host is required"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp port %d is out of range 1..65535", c.Port))
	}
	if strings.TrimSpace(c.From) == "" {
		errs = append(errs, errors.New("smtp from address is required"))
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp from address %q: %w", c.From, err))
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("smtp tls mode %q is not one of %q, %q, %q", c.TLS, TLSStartTLS, TLSImplicit, TLSNone))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("smtp timeout %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// withDefaults fills in the port, TLS mode and timeout.
func (c Config) withDefaults() Config {
	c.Host = strings.TrimSpace(c.Host)
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = DefaultPort
		if c.TLS == TLSImplicit {
			c.Port = DefaultImplicitPort
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Message is one plain-text email.
type Message struct {
	To      string // one address, optionally with a display name
	Subject string
	Text    string
	// FromName, when set, is the sender's display name instead of the configured From's.
	FromName string
	// MessageID is the mail's Message-ID without angle brackets; empty means a random one. A
	// message sent again with the same id is the same mail to every client.
	MessageID string
	// InReplyTo and References (ids without angle brackets) thread the mail in clients.
	InReplyTo  string
	References []string
	Files      []File
	// Person marks a mail a person wrote (an operator's reply): it goes without
	// Auto-Submitted, which every other mail of linedesk carries so auto-responders keep quiet.
	Person bool
}

// File is an attachment.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Temporary reports whether a failed Send may pass if repeated: the server answered 4xx (to the
// message or before it: 421 on greeting, 454 on STARTTLS or AUTH), or the connection failed
// before the message went. A 5xx, a refused sign-in or a certificate the desk does not trust is
// not.
func Temporary(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.IsTemp()
	}
	var before *beforeMessage
	if !errors.As(err, &before) {
		return false
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 400 && tp.Code < 500
	}
	var cert *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	if errors.As(err, &cert) || errors.As(err, &unknown) || errors.As(err, &host) {
		return false
	}
	if strings.Contains(strings.ToLower(err.Error()), "auth") {
		return false // go-mail's own refusals of a sign-in it cannot make
	}
	return true // the connection: refused, reset, timed out before anything was sent
}

// beforeMessage marks a failure while connecting or signing in: nothing of the message went.
type beforeMessage struct{ err error }

func (e *beforeMessage) Error() string { return e.err.Error() }
func (e *beforeMessage) Unwrap() error { return e.err }

// Check connects and signs in as Send would, then hangs up: the connection test of a mailbox.
func (m *Mailer) Check(ctx context.Context) error {
	return m.session(ctx, nil)
}

// Mailer sends messages through one SMTP server. It is safe for concurrent
// use: every Send opens its own connection.
type Mailer struct {
	cfg       Config
	from      *mail.Address
	domain    string // of the From address, for Message-IDs
	tlsConfig *tls.Config
	opts      []gomail.Option
}

// New checks cfg and returns a Mailer for it. It does not connect.
func New(cfg Config) (*Mailer, error) {
	return newMailer(cfg, nil)
}

// newMailer lets tests trust their own certificate authority.
func newMailer(cfg Config, tlsConfig *tls.Config) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from address: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}

	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch cfg.TLS {
	case TLSImplicit:
		// dial speaks TLS itself; this tells go-mail not to try STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	return &Mailer{cfg: cfg, from: from, domain: domain, tlsConfig: tlsConfig, opts: opts}, nil
}

// Send delivers msg: it connects, authenticates when a username is
// configured, sends and disconnects. Canceling ctx aborts it at once.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	gm, err := m.compose(msg)
	if err != nil {
		return err
	}
	return m.session(ctx, gm)
}

// session connects and signs in, sends gm when it is not nil, and hangs up. A fresh client per
// session (go-mail clients keep per-connection state), dialing through conn so the socket can
// always be closed: on cancellation, and when go-mail gives up halfway through a handshake.
func (m *Mailer) session(ctx context.Context, gm *gomail.Msg) error {
	var conn trackedConn
	defer conn.close()
	stop := context.AfterFunc(ctx, conn.close)
	defer stop()
	opts := append(slices.Clip(m.opts), gomail.WithDialContextFunc(conn.dialer(m.dial)))
	client, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return withContext(ctx, &beforeMessage{fmt.Errorf("smtp connect to %s: %w", client.ServerAddr(), err)})
	}
	if gm != nil {
		if err := client.SendWithSMTPClient(session, gm); err != nil {
			return withContext(ctx, fmt.Errorf("smtp send: %w", err))
		}
	}
	// The server has accepted the message (or the sign-in); a failed QUIT changes nothing.
	_ = client.CloseWithSMTPClient(session)
	return nil
}

// dial opens the TCP connection, and speaks TLS at once in implicit mode.
func (m *Mailer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil || m.cfg.TLS != TLSImplicit {
		return conn, err
	}
	tlsConn := tls.Client(conn, m.tlsConfig)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tlsConn, nil
}

// withContext makes a failure caused by ctx match errors.Is(err, ctx.Err()).
func withContext(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// trackedConn remembers the connection a dialer opened so it can be closed
// from another goroutine.
type trackedConn struct {
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func (t *trackedConn) dialer(dial gomail.DialContextFunc) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			_ = conn.Close()
			return nil, net.ErrClosed
		}
		t.conn = conn
		return conn, nil
	}
}

func (t *trackedConn) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if t.conn != nil {
		_ = t.conn.Close()
	}
}

// compose builds the email: UTF-8 plain text, quoted-printable, with
// Message-ID, Date and Auto-Submitted so auto-responders do not answer.
func (m *Mailer) compose(msg Message) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(strings.TrimSpace(msg.To))
	if err != nil {
		return nil, fmt.Errorf("smtp recipient %q: %w", msg.To, err)
	}
	gm := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	from := m.from
	if name := oneLine(msg.FromName); name != "" {
		from = &mail.Address{Name: name, Address: m.from.Address}
	}
	gm.FromMailAddress(from)
	gm.ToMailAddress(to)
	gm.Subject(oneLine(msg.Subject))
	id := msg.MessageID
	if id == "" {
		id = randomToken() + "@" + m.domain
	}
	gm.SetMessageIDWithValue(id)
	if msg.InReplyTo != "" {
		gm.SetGenHeader(gomail.HeaderInReplyTo, "<"+msg.InReplyTo+">")
	}
	if len(msg.References) > 0 {
		refs := make([]string, len(msg.References))
		for i, r := range msg.References {
			refs[i] = "<" + r + ">"
		}
		gm.SetGenHeader(gomail.Header("References"), strings.Join(refs, " "))
	}
	gm.SetDate()
	if !msg.Person {
		gm.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	}
	gm.SetUserAgent(userAgent)
	gm.SetBodyString(gomail.TypeTextPlain, msg.Text)
	for _, f := range msg.Files {
		opts := []gomail.FileOption{}
		if f.ContentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(f.ContentType)))
		}
		if err := gm.AttachReader(f.Name, bytes.NewReader(f.Data), opts...); err != nil {
			return nil, fmt.Errorf("attach %s: %w", f.Name, err)
		}
	}
	return gm, nil
}

// oneLine keeps a subject on one header line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
