// Package email is the mail channel: a mailbox read over IMAP (go-imap v2) and answered over SMTP
// (go-mail). It reads mail (MIME, charsets, HTML, quoted history, auto-replies and bounces), keeps
// the IMAP side's protocol (UIDVALIDITY, UID ranges, IDLE) and sends replies threaded with
// In-Reply-To and References. It imports neither Temporal nor SQL: the desk's intake keeps the
// cursor and hands each mail over.
package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/linedesk/linedesk/connectors"
	"github.com/linedesk/linedesk/connectors/smtpmail"
)

// Kind is the channel kind.
const Kind = "email"

// CredentialPassword is the mailbox's password (IMAP and SMTP sign in with it).
const CredentialPassword = "password"

// Encryption modes of a connection (seed 000: SSL/TLS, STARTTLS, none).
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityNone     = "none"
)

// Settings are an email channel's settings as the admin saves them.
type Settings struct {
	// Address is the mailbox clients write to; replies come from it.
	Address string `json:"address"`
	// Username signs in to IMAP and SMTP; empty means Address.
	Username     string `json:"username,omitempty"`
	IMAPHost     string `json:"imap_host"`
	IMAPPort     int    `json:"imap_port,omitempty"`
	IMAPSecurity string `json:"imap_security,omitempty"`
	// Folder is the mailbox folder read (INBOX when empty).
	Folder       string `json:"folder,omitempty"`
	SMTPHost     string `json:"smtp_host"`
	SMTPPort     int    `json:"smtp_port,omitempty"`
	SMTPSecurity string `json:"smtp_security,omitempty"`
	// Signature ends every reply.
	Signature string `json:"signature,omitempty"`
	// PollSeconds is how often a server without IDLE is asked for new mail (60 when 0).
	PollSeconds int `json:"poll_seconds,omitempty"`
}

// ReadSettings reads a channel's settings with defaults filled in.
func ReadSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("settings must be an object: %v", err)
	}
	s.Address = strings.ToLower(strings.TrimSpace(s.Address))
	s.IMAPHost, s.SMTPHost = strings.TrimSpace(s.IMAPHost), strings.TrimSpace(s.SMTPHost)
	if s.Username == "" {
		s.Username = s.Address
	}
	if s.IMAPSecurity == "" {
		s.IMAPSecurity = SecurityTLS
	}
	if s.SMTPSecurity == "" {
		s.SMTPSecurity = SecurityTLS
	}
	if s.IMAPPort == 0 {
		s.IMAPPort = map[string]int{SecurityTLS: 993, SecurityStartTLS: 143, SecurityNone: 143}[s.IMAPSecurity]
	}
	if s.SMTPPort == 0 {
		s.SMTPPort = map[string]int{SecurityTLS: 465, SecurityStartTLS: 587, SecurityNone: 25}[s.SMTPSecurity]
	}
	if s.Folder == "" {
		s.Folder = "INBOX"
	}
	if s.PollSeconds == 0 {
		s.PollSeconds = 60
	}
	return s, nil
}

// Validate names every setting that is wrong.
func (s Settings) Validate(password string) error {
	var errs []error
	if a, err := mail.ParseAddress(s.Address); err != nil || a.Address != s.Address {
		errs = append(errs, fmt.Errorf("settings.address %q is not an email address", s.Address))
	}
	for _, h := range []struct {
		name, host, security string
		port                 int
	}{{"imap", s.IMAPHost, s.IMAPSecurity, s.IMAPPort}, {"smtp", s.SMTPHost, s.SMTPSecurity, s.SMTPPort}} {
		if h.host == "" || strings.ContainsAny(h.host, " /:@") {
			errs = append(errs, fmt.Errorf("settings.%s_host %q is not a host name", h.name, h.host))
		}
		if h.port < 1 || h.port > 65535 {
			errs = append(errs, fmt.Errorf("settings.%s_port %d is out of range 1..65535", h.name, h.port))
		}
		switch h.security {
		case SecurityTLS, SecurityStartTLS, SecurityNone:
		default:
			errs = append(errs, fmt.Errorf("settings.%s_security %q is not one of tls, starttls, none", h.name, h.security))
		}
	}
	if s.PollSeconds < 5 || s.PollSeconds > 3600 {
		errs = append(errs, fmt.Errorf("settings.poll_seconds %d is out of range 5..3600", s.PollSeconds))
	}
	if len(s.Signature) > 4000 {
		errs = append(errs, errors.New("settings.signature is longer than 4000 characters"))
	}
	if password == "" {
		errs = append(errs, errors.New("credentials.password is required"))
	}
	return errors.Join(errs...)
}

// Connector is the email channel behind the desk's connector interface: it sends replies; mail
// comes in through the desk's IMAP intake, not webhooks.
type Connector struct {
	// Timeout bounds a connection test and each SMTP command (20 s when 0).
	Timeout time.Duration
}

// Kind implements connectors.Connector.
func (c *Connector) Kind() string { return Kind }

// NoWebhooks marks that mail arrives through the mailbox, never at /hooks.
func (c *Connector) NoWebhooks() {}

// ValidateSettings implements connectors.Connector.
func (c *Connector) ValidateSettings(raw json.RawMessage, creds map[string]string) error {
	s, err := ReadSettings(raw)
	if err != nil {
		return err
	}
	return s.Validate(creds[CredentialPassword])
}

// Receive refuses: mail is read from the mailbox.
func (c *Connector) Receive(connectors.Channel, connectors.Request) (connectors.Response, []connectors.Event, error) {
	return connectors.Response{}, nil, &connectors.BadRequest{Reason: "an email channel reads its mailbox; it takes no webhooks"}
}

// Download is not used: a mail carries its files.
func (c *Connector) Download(context.Context, connectors.Channel, connectors.FileRef, int64) ([]byte, error) {
	return nil, errors.New("an email channel's files come with the mail")
}

// Acknowledge implements connectors.Connector (nothing to acknowledge).
func (c *Connector) Acknowledge(context.Context, connectors.Channel, connectors.Event) error {
	return nil
}

// Connect tests the mailbox: it signs in to IMAP and opens the folder, and signs in to SMTP.
func (c *Connector) Connect(ctx context.Context, ch connectors.Channel, _ string) (connectors.Connection, error) {
	s, err := ReadSettings(ch.Settings)
	if err != nil {
		return connectors.Connection{}, err
	}
	if f := Test(ctx, s, ch.Credentials[CredentialPassword], c.timeout()); f != nil {
		return connectors.Connection{}, f
	}
	return connectors.Connection{Account: s.Address, Steps: []string{}}, nil
}

func (c *Connector) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 20 * time.Second
}

// Mailer returns the SMTP sender of a channel.
func Mailer(s Settings, password string, timeout time.Duration) (*smtpmail.Mailer, error) {
	tls := map[string]string{SecurityTLS: smtpmail.TLSImplicit, SecurityStartTLS: smtpmail.TLSStartTLS, SecurityNone: smtpmail.TLSNone}[s.SMTPSecurity]
	return smtpmail.New(smtpmail.Config{Host: s.SMTPHost, Port: s.SMTPPort, Username: s.Username, Password: password,
		From: s.Address, TLS: tls, Timeout: timeout})
}

// Send sends a reply: from the channel's address under the operator's or the line's name, to
// the client, threaded under the mail it answers, with the channel's signature and the files.
func (c *Connector) Send(ctx context.Context, ch connectors.Channel, m connectors.Outbound) (connectors.Sent, error) {
	s, err := ReadSettings(ch.Settings)
	if err != nil {
		return connectors.Sent{}, &connectors.SendError{Err: err}
	}
	if m.Mail == nil || m.Mail.To == "" {
		return connectors.Sent{}, &connectors.SendError{Err: errors.New("the chat has no client address to answer")}
	}
	mailer, err := Mailer(s, ch.Credentials[CredentialPassword], c.timeout())
	if err != nil {
		return connectors.Sent{}, &connectors.SendError{Err: err}
	}
	text := m.Text
	if sig := strings.TrimSpace(s.Signature); sig != "" {
		text += "\n\n-- \n" + sig
	}
	msg := smtpmail.Message{To: m.Mail.To, Subject: ReplySubject(m.Mail.Subject), Text: text, FromName: m.Sender,
		MessageID: m.Mail.MessageID, References: m.Mail.References, Person: m.Human}
	if len(m.Mail.References) > 0 {
		msg.InReplyTo = m.Mail.References[len(m.Mail.References)-1]
	}
	for _, f := range m.Files {
		msg.Files = append(msg.Files, smtpmail.File{Name: f.Name, ContentType: f.ContentType, Data: f.Data})
	}
	if err := mailer.Send(ctx, msg); err != nil {
		return connectors.Sent{}, &connectors.SendError{Temporary: smtpmail.Temporary(err), Err: err}
	}
	return connectors.Sent{ExternalID: m.Mail.MessageID}, nil
}

// ReplySubject is the subject of a reply: "Re: " before the thread's subject, once.
func ReplySubject(s string) string {
	s = strings.TrimSpace(s)
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "ответ:") {
		return s
	}
	if s == "" {
		return "Re: your request"
	}
	return "Re: " + s
}

// MessageID is the Message-ID of linedesk's mail with id, on the channel's domain: the same
// message sent again has the same id, and a client's answer to it names it.
func MessageID(id, address string) string {
	_, domain, _ := strings.Cut(address, "@")
	if domain == "" {
		domain = "linedesk.invalid"
	}
	return id + "@" + domain
}

// Failure is where a connection test stopped.
type Failure struct {
	// Step is dns, connect, tls, login, folder (IMAP) or smtp_dns, smtp_connect, smtp_login.
	Step string
	Err  error
}

func (f *Failure) Error() string { return f.Step + ": " + f.Err.Error() }

func (f *Failure) Unwrap() error { return f.Err }

// Test checks a mailbox the way the desk uses it and says exactly where it fails.
func Test(ctx context.Context, s Settings, password string, timeout time.Duration) *Failure {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, s.IMAPHost); err != nil {
		return &Failure{Step: "dns", Err: fmt.Errorf("IMAP server %s: %w", s.IMAPHost, err)}
	}
	box, err := Dial(ctx, s, password)
	if err != nil {
		return failure(err)
	}
	stop := context.AfterFunc(ctx, func() { _ = box.Close() }) // the timeout bounds the folder too
	_, err = box.Select(s.Folder)
	stop()
	_ = box.Close()
	if err != nil {
		return &Failure{Step: "folder", Err: err}
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, s.SMTPHost); err != nil {
		return &Failure{Step: "smtp_dns", Err: fmt.Errorf("SMTP server %s: %w", s.SMTPHost, err)}
	}
	mailer, err := Mailer(s, password, timeout)
	if err != nil {
		return &Failure{Step: "smtp_connect", Err: err}
	}
	if err := mailer.Check(ctx); err != nil {
		step := "smtp_connect"
		if strings.Contains(strings.ToLower(err.Error()), "auth") {
			step = "smtp_login"
		}
		return &Failure{Step: step, Err: err}
	}
	return nil
}

func failure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Step: "connect", Err: err}
}

// hostPort joins a host and port.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
