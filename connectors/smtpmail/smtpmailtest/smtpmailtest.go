// Package smtpmailtest runs a real SMTP server (go-smtp) on 127.0.0.1 that keeps what it
// receives, for tests of code that sends mail.
package smtpmailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one received message.
type Mail struct {
	From    string
	To      []string
	Message *mail.Message
	// Body is the decoded text body.
	Body string
	// Raw is the message as it came (DATA).
	Raw []byte
}

// Server is a running SMTP server.
type Server struct {
	port int
	mu   sync.Mutex
	mail []Mail
	// user and password, when set, are the only sign-in AUTH PLAIN accepts, and it is required.
	user, password string
	// refuse, when set, answers every RCPT with this error (a mail server that is down or
	// refuses the recipient).
	refuse error
}

// New starts a server that accepts any sender and recipient without authentication; it stops
// when the test ends.
func New(t testing.TB) *Server {
	return start(t, &Server{})
}

// NewWithAuth starts a server that takes mail only after AUTH PLAIN as user with password.
func NewWithAuth(t testing.TB, user, password string) *Server {
	return start(t, &Server{user: user, password: password})
}

// Refuse makes the server answer every recipient with err (nil: accept again); an
// *smtp.SMTPError with a 4xx code is a temporary refusal.
func (s *Server) Refuse(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = err
}

func start(t testing.TB, s *Server) *Server {
	t.Helper()
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpmailtest: listen: %v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Port is the server's port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Received returns the mail received so far.
func (s *Server) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

// WaitFor waits until n messages arrived and returns them.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtpmailtest: %d message(s) arrived, want %d", len(s.Received()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s      *Server
	from   string
	to     []string
	authed bool
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.user != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	refuse := x.s.refuse
	x.s.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// AuthMechanisms and Auth make the session an smtp.AuthSession: PLAIN, when the server has a
// user.
func (x *session) AuthMechanisms() []string {
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != x.s.user || password != x.s.password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var bodyReader io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		bodyReader = quotedprintable.NewReader(msg.Body)
	case "base64":
		bodyReader = base64.NewDecoder(base64.StdEncoding, msg.Body)
	}
	body, err := io.ReadAll(bodyReader)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.mail = append(x.s.mail, Mail{From: x.from, To: x.to, Message: msg, Body: string(body), Raw: raw})
	return nil
}
