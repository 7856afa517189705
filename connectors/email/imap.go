package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// MaxMail is the largest mail fetched whole; a bigger one is read by its header only and
// recorded as too large.
const MaxMail = 40 << 20

// Mailbox is a signed-in IMAP connection to a channel's mailbox.
type Mailbox struct {
	c *imapclient.Client
	// Changed receives (without blocking) when the server reports new mail while idling.
	Changed chan struct{}
}

// Dial connects with the channel's encryption and signs in. A *Failure says which step failed.
func Dial(ctx context.Context, s Settings, password string) (*Mailbox, error) {
	box := &Mailbox{Changed: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		TLSConfig: &tls.Config{ServerName: s.IMAPHost, MinVersion: tls.VersionTLS12},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case box.Changed <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostPort(s.IMAPHost, s.IMAPPort))
	if err != nil {
		return nil, &Failure{Step: "connect", Err: fmt.Errorf("IMAP server %s:%d: %w", s.IMAPHost, s.IMAPPort, err)}
	}
	// The context bounds the whole sign-in; afterwards each command is bounded by the caller.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	switch s.IMAPSecurity {
	case SecurityTLS:
		tc := tls.Client(conn, opts.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, &Failure{Step: "tls", Err: err}
		}
		box.c = imapclient.New(tc, opts)
	case SecurityStartTLS:
		c, err := imapclient.NewStartTLS(conn, opts)
		if err != nil {
			_ = conn.Close()
			return nil, &Failure{Step: "tls", Err: err}
		}
		box.c = c
	default:
		box.c = imapclient.New(conn, opts)
	}
	if err := box.c.WaitGreeting(); err != nil {
		_ = box.c.Close()
		return nil, &Failure{Step: "connect", Err: fmt.Errorf("IMAP greeting: %w", err)}
	}
	if err := box.c.Login(s.Username, password).Wait(); err != nil {
		_ = box.c.Close()
		return nil, &Failure{Step: "login", Err: err}
	}
	return box, nil
}

// Close logs out and closes the connection.
func (b *Mailbox) Close() error {
	done := make(chan struct{})
	go func() {
		_ = b.c.Logout().Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return b.c.Close()
}

// Done is closed when the connection is gone.
func (b *Mailbox) Done() <-chan struct{} { return b.c.Closed() }

// Selected is a selected folder's state.
type Selected struct {
	UIDValidity uint32
	UIDNext     uint32
	Messages    uint32
}

// Select opens a folder read-only (reading marks nothing as seen).
func (b *Mailbox) Select(folder string) (Selected, error) {
	d, err := b.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return Selected{}, fmt.Errorf("open folder %q: %w", folder, err)
	}
	return Selected{UIDValidity: d.UIDValidity, UIDNext: uint32(d.UIDNext), Messages: d.NumMessages}, nil
}

// Pending is a mail in the folder after the cursor.
type Pending struct {
	UID  uint32
	Size int64
}

// After lists the mails with a UID above last, in UID order. The range last+1:* also names the
// folder's last mail when its UID is lower (RFC 3501), so such results are dropped.
func (b *Mailbox) After(last uint32) ([]Pending, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	msgs, err := b.c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("list new mail: %w", err)
	}
	out := make([]Pending, 0, len(msgs))
	for _, m := range msgs {
		if uint32(m.UID) > last {
			out = append(out, Pending{UID: uint32(m.UID), Size: m.RFC822Size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, nil
}

// Raw is one fetched mail.
type Raw struct {
	UID uint32
	// Data is the whole mail, or its header only when HeaderOnly (larger than MaxMail).
	Data       []byte
	HeaderOnly bool
	// Received is the server's INTERNALDATE (when the mail arrived).
	Received time.Time
}

// Fetch reads the given mails whole (BODY.PEEK[]: the \Seen flag is left alone), or by their
// header when larger than MaxMail, in UID order.
func (b *Mailbox) Fetch(list []Pending) ([]Raw, error) {
	var whole, big imap.UIDSet
	for _, p := range list {
		if p.Size > MaxMail {
			big.AddNum(imap.UID(p.UID))
		} else {
			whole.AddNum(imap.UID(p.UID))
		}
	}
	var out []Raw
	for _, part := range []struct {
		set    imap.UIDSet
		header bool
	}{{whole, false}, {big, true}} {
		if len(part.set) == 0 {
			continue
		}
		section := &imap.FetchItemBodySection{Peek: true}
		if part.header {
			section.Specifier = imap.PartSpecifierHeader
		}
		msgs, err := b.c.Fetch(part.set, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return nil, fmt.Errorf("fetch mail: %w", err)
		}
		for _, m := range msgs {
			data := m.FindBodySection(section)
			if data == nil {
				return nil, fmt.Errorf("fetch mail: the server sent UID %d without its body", m.UID)
			}
			out = append(out, Raw{UID: uint32(m.UID), Data: data, HeaderOnly: part.header, Received: m.InternalDate})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, nil
}

// CanIdle reports whether the server supports IDLE.
func (b *Mailbox) CanIdle() bool {
	caps := b.c.Caps()
	return caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
}

// Wait waits for new mail: with IDLE until the server reports some, else (or at most) for d;
// it returns early when ctx ends.
func (b *Mailbox) Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	if !b.CanIdle() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-b.c.Closed():
			return errors.New("the IMAP server closed the connection")
		}
	}
	idle, err := b.c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	var closed bool
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-b.Changed:
	case <-b.c.Closed():
		closed = true
	}
	if closed {
		return errors.New("the IMAP server closed the connection")
	}
	if err := idle.Close(); err != nil {
		return fmt.Errorf("end idle: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return ctx.Err()
}

// Noop asks the server for news (new mail shows in Changed).
func (b *Mailbox) Noop() error { return b.c.Noop().Wait() }
