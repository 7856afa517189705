// Package emailtest runs a real IMAP server (go-imap's imapserver with its in-memory backend,
// IDLE included) on 127.0.0.1 for tests of the mail intake: mail is delivered into INBOX as an
// MTA would, marked read as another client would, the server goes down and comes back on the
// same port, and the folder can be re-created with a new UIDVALIDITY.
package emailtest

import (
	"bytes"
	"mime"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAP is a running IMAP server with one user.
type IMAP struct {
	t        testing.TB
	User     string
	Password string
	user     *imapmemserver.User
	mem      *imapmemserver.Server
	port     int

	mu     sync.Mutex
	server *imapserver.Server
	// kept is every mail delivered, for re-creating the folder.
	kept [][]byte
}

// NewIMAP starts a server for user with password; it stops when the test ends.
func NewIMAP(t testing.TB, user, password string) *IMAP {
	t.Helper()
	s := &IMAP{t: t, User: user, Password: password, mem: imapmemserver.New(), user: imapmemserver.NewUser(user, password)}
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatalf("emailtest: create INBOX: %v", err)
	}
	s.mem.AddUser(s.user)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Port is the server's port on 127.0.0.1 (the same across Stop and Start).
func (s *IMAP) Port() int { return s.port }

// Start serves (again, after Stop) on the server's port.
func (s *IMAP) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		return
	}
	addr := "127.0.0.1:0"
	if s.port != 0 {
		addr = "127.0.0.1:" + strconv.Itoa(s.port)
	}
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a stopped server may take a moment to free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("emailtest: listen: %v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	s.server = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discard{},
	})
	go func(srv *imapserver.Server) { _ = srv.Serve(l) }(s.server)
}

// Stop closes the server and every connection to it (an outage); the mail stays.
func (s *IMAP) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server != nil {
		_ = s.server.Close()
		s.server = nil
	}
}

// Deliver puts a mail into INBOX, as the mail server does when it arrives; seen marks it read
// (another client has opened it).
func (s *IMAP) Deliver(raw []byte, seen bool) {
	s.t.Helper()
	opts := &imap.AppendOptions{Time: time.Now()}
	if seen {
		opts.Flags = []imap.Flag{imap.FlagSeen}
	}
	if _, err := s.user.Append("INBOX", literal{bytes.NewReader(raw)}, opts); err != nil {
		s.t.Fatalf("emailtest: deliver: %v", err)
	}
	s.mu.Lock()
	s.kept = append(s.kept, raw)
	s.mu.Unlock()
}

// Recreate deletes INBOX and creates it again with the same mail: the folder's UIDVALIDITY
// changes and every mail has a new UID, as after a server migration.
func (s *IMAP) Recreate() {
	s.t.Helper()
	s.mu.Lock()
	kept := s.kept
	s.kept = nil
	s.mu.Unlock()
	if err := s.user.Delete("INBOX"); err != nil {
		s.t.Fatalf("emailtest: delete INBOX: %v", err)
	}
	if err := s.user.Create("INBOX", nil); err != nil {
		s.t.Fatalf("emailtest: create INBOX: %v", err)
	}
	for _, raw := range kept {
		s.Deliver(raw, true)
	}
}

// UIDValidity is INBOX's UIDVALIDITY now.
func (s *IMAP) UIDValidity() uint32 {
	st, err := s.user.Status("INBOX", &imap.StatusOptions{UIDValidity: true})
	if err != nil {
		s.t.Fatalf("emailtest: status: %v", err)
	}
	return st.UIDValidity
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return int64(l.Len()) }

type discard struct{}

func (discard) Printf(string, ...any) {}

// Message builds a plain-text mail as a mail client sends it; extra are more header lines
// ("In-Reply-To: <…>").
func Message(from, to, subject, messageID, body string, extra ...string) []byte {
	var b bytes.Buffer
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) + "\r\n")
	b.WriteString("Date: " + time.Now().Format(time.RFC1123Z) + "\r\n")
	if messageID != "" {
		b.WriteString("Message-ID: <" + messageID + ">\r\n")
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.Bytes()
}
