package email

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // koi8-r, windows-1251 and every other charset mail uses
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Address is a mailbox in a header.
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// String is the address as a From line shows it.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return fmt.Sprintf("%s <%s>", a.Name, a.Address)
}

// File is an attachment of a received mail.
type File struct {
	Name        string
	ContentType string
	Data        []byte
	// Dropped says why the file was not kept (larger than the limit); Data is then nil.
	Dropped string
}

// Bounce is what a delivery status notification says about a mail that did not arrive.
type Bounce struct {
	// Original are the Message-IDs of the mail that bounced (from the report's copy of its
	// headers, In-Reply-To and References).
	Original []string
	// Recipient, Status and Reason are the report's Final-Recipient, Status (5.1.1) and
	// Diagnostic-Code.
	Recipient string
	Status    string
	Reason    string
}

// Mail is one received mail, read.
type Mail struct {
	// MessageID is the mail's Message-ID without angle brackets ("" when it has none).
	MessageID  string
	InReplyTo  []string
	References []string
	From       Address
	To         []Address
	Cc         []Address
	Subject    string
	Date       time.Time
	// Text is the body as text: text/plain when the mail has it, else its HTML turned into text.
	Text string
	// New is Text without the quoted history of a reply (what the client wrote this time).
	New string
	// HTML is the mail's HTML body, sanitised for display ("" when it has none).
	HTML  string
	Files []File
	// Auto says why the mail is automatic ("auto-reply", "bounce", "bulk"): it is recorded and
	// answers nothing.
	Auto   string
	Bounce *Bounce
	// Hash is the SHA-256 of the raw mail, hex: its identity when it has no Message-ID.
	Hash string
}

// Key is the mail's dedupe key on its channel: its Message-ID, or the hash of its bytes when it
// has none. The same mail met again (another UID after a UIDVALIDITY change, a second copy as
// To and Cc) has the same key.
func (m *Mail) Key() string {
	if m.MessageID != "" {
		return "mid:" + m.MessageID
	}
	return "sha:" + m.Hash
}

// maxID bounds a Message-ID or address kept as it is; a longer one (no real mailer writes one)
// is replaced by its hash, so it still identifies the mail but fits the desk's keys.
const maxID = 200

func shortID(id string) string {
	if len(id) <= maxID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:]) + "@long.invalid"
}

// clean drops what PostgreSQL text cannot hold (NUL) and invalid UTF-8.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// maxMultipart bounds the multipart parts a mail may declare: nested multiparts cost the reader
// time growing with the square of the depth, and no real mail has more than a few dozen.
const maxMultipart = 64

// Thread lists the mails this one answers, nearest first (In-Reply-To, then References from the
// last).
func (m *Mail) Thread() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range m.InReplyTo {
		add(id)
	}
	for i := len(m.References) - 1; i >= 0; i-- {
		add(m.References[i])
	}
	return out
}

// maxTextPart bounds a text part's size: mail bodies past it are cut.
const maxTextPart = 1 << 20

// Parse reads a raw mail (RFC 5322 with MIME). Attachments larger than maxFile are listed as
// dropped. A mail whose header cannot be read at all is an error; a broken part is skipped.
func Parse(raw []byte, maxFile int64) (*Mail, error) {
	sum := sha256.Sum256(raw)
	m := &Mail{Hash: hex.EncodeToString(sum[:])}
	if bytes.Count(bytes.ToLower(raw), []byte("multipart/")) > maxMultipart {
		return nil, fmt.Errorf("read mail: more than %d multipart parts", maxMultipart)
	}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("read mail: %w", err)
	}
	if r == nil {
		return nil, errors.New("read mail: no header")
	}
	h := r.Header
	m.MessageID, _ = h.MessageID()
	m.MessageID = shortID(m.MessageID)
	m.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	m.References, _ = h.MsgIDList("References")
	for _, l := range [][]string{m.InReplyTo, m.References} {
		for i := range l {
			l[i] = shortID(l[i])
		}
	}
	m.Subject = subject(h)
	m.Date, _ = h.Date()
	if from := addresses(h, "From"); len(from) > 0 {
		m.From = from[0]
	}
	if rt := addresses(h, "Reply-To"); len(rt) > 0 && rt[0].Address != "" {
		// Replies go where the sender asked; the name stays the sender's when Reply-To has none.
		if rt[0].Name == "" {
			rt[0].Name = m.From.Name
		}
		m.From = rt[0]
	}
	m.To = addresses(h, "To")
	m.Cc = addresses(h, "Cc")
	m.Auto = automatic(h)

	var plain, html string
	var report *Bounce
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if message.IsUnknownCharset(err) || message.IsUnknownEncoding(err) {
				continue
			}
			break // a broken multipart: keep what was read
		}
		ct, params, _ := p.Header.(interface {
			ContentType() (string, map[string]string, error)
		}).ContentType()
		ct = strings.ToLower(ct)
		isMessage := ct == "message/rfc822" || ct == "message/global"
		switch {
		case ct == "message/delivery-status" || ct == "message/global-delivery-status":
			report = deliveryStatus(p.Body, report)
			continue
		case ct == "text/rfc822-headers" || ct == "message/global-headers" || (isMessage && (m.Auto == "bounce" || report != nil)):
			report = originalHeaders(p.Body, report)
			continue
		}
		switch ph := p.Header.(type) {
		case *mail.AttachmentHeader:
			name, _ := ph.Filename()
			if name == "" && isMessage {
				name = forwardedName(params)
			}
			m.Files = append(m.Files, readFile(p.Body, name, ct, maxFile))
			continue
		case *mail.InlineHeader:
			switch {
			case ct == "text/plain":
				// A body split around inline images (Apple Mail) comes as several parts.
				if t := readText(p.Body); plain == "" {
					plain = t
				} else if len(plain) < maxTextPart {
					plain += "\n" + t
				}
				continue
			case ct == "text/html" && html == "":
				html = readText(p.Body)
				continue
			case isMessage:
				// A forwarded mail is kept as a file the operator can open.
				m.Files = append(m.Files, readFile(p.Body, forwardedName(params), "message/rfc822", maxFile))
				continue
			case strings.HasPrefix(ct, "text/"):
				continue // calendar parts, vcards inline…: not the body
			}
			// An inline image or other part (multipart/related): a file too.
			name := params["name"]
			if _, dp, err := ph.ContentDisposition(); err == nil && dp["filename"] != "" {
				name = dp["filename"]
			}
			m.Files = append(m.Files, readFile(p.Body, name, ct, maxFile))
		}
	}
	if report != nil {
		m.Auto = "bounce"
		report.Original = append(report.Original, m.InReplyTo...)
		report.Original = append(report.Original, m.References...)
		m.Bounce = report
	}
	if html != "" {
		m.HTML = Sanitize(html)
	}
	switch {
	case strings.TrimSpace(plain) != "":
		m.Text = normalizeText(plain)
	case html != "":
		m.Text = HTMLText(html)
	}
	m.New = TrimQuoted(m.Text)
	m.Subject, m.Text, m.New, m.HTML = clean(m.Subject), clean(m.Text), clean(m.New), clean(m.HTML)
	for _, a := range []*Address{&m.From} {
		a.Name, a.Address = clean(a.Name), clean(a.Address)
	}
	for _, l := range [][]Address{m.To, m.Cc} {
		for i := range l {
			l[i].Name, l[i].Address = clean(l[i].Name), clean(l[i].Address)
		}
	}
	if len(m.From.Address) > maxID {
		m.From.Address = "" // no real address is this long: the mail is treated as having no sender
	}
	for i := range m.Files {
		// The declared type goes to the desk as it is when the file is refused (too large, a
		// program): a NUL in it would make the whole mail unstorable.
		m.Files[i].Name, m.Files[i].ContentType = clean(m.Files[i].Name), clean(m.Files[i].ContentType)
	}
	return m, nil
}

func subject(h mail.Header) string {
	s, err := h.Subject()
	if err != nil {
		// An encoded word in an unknown charset: the raw header is better than nothing.
		s = h.Get("Subject")
	}
	return strings.Join(strings.Fields(s), " ")
}

func addresses(h mail.Header, key string) []Address {
	list, err := h.AddressList(key)
	if err != nil {
		// A malformed list: take what looks like an address.
		if a := looseAddress(h.Get(key)); a != "" {
			return []Address{{Address: a}}
		}
		return nil
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		out = append(out, Address{Name: a.Name, Address: strings.ToLower(a.Address)})
	}
	return out
}

var looseAddressRE = regexp.MustCompile(`[^\s<>"',;:]+@[^\s<>"',;:]+`)

func looseAddress(s string) string {
	return strings.ToLower(looseAddressRE.FindString(s))
}

// automatic says why a mail was sent by a program, not a person: RFC 3834's Auto-Submitted,
// the headers vacation responders set, bulk precedence, or a bounce from a mailer daemon.
func automatic(h mail.Header) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return "auto-reply"
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"} {
		if h.Get(k) != "" {
			return "auto-reply"
		}
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("X-Auto-Response-Suppress")), "oof") && strings.Contains(strings.ToLower(h.Get("Content-Class")), "oof") {
		return "auto-reply"
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "auto_reply":
		return "bulk"
	}
	if ct, params, err := h.ContentType(); err == nil && strings.EqualFold(ct, "multipart/report") && strings.EqualFold(params["report-type"], "delivery-status") {
		return "bounce"
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return "bounce"
	}
	from := ""
	if list, err := h.AddressList("From"); err == nil && len(list) > 0 {
		from = strings.ToLower(list[0].Address)
	}
	if local, _, ok := strings.Cut(from, "@"); ok && (local == "mailer-daemon" || local == "postmaster") {
		return "bounce"
	}
	return ""
}

func readText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxTextPart))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func readFile(r io.Reader, name, ct string, max int64) File {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "attachment"
		if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
			name += exts[0]
		}
	}
	data, _ := io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(data)) > max {
		_, _ = io.Copy(io.Discard, r)
		return File{Name: name, ContentType: ct, Dropped: fmt.Sprintf("larger than %d MB", max>>20)}
	}
	return File{Name: name, ContentType: ct, Data: data}
}

func forwardedName(params map[string]string) string {
	if n := params["name"]; n != "" {
		return n
	}
	return "forwarded.eml"
}

// deliveryStatus reads a message/delivery-status part (RFC 3464): per-message fields, then a
// block per recipient; the first failed recipient's fields are the report's.
func deliveryStatus(r io.Reader, b *Bounce) *Bounce {
	if b == nil {
		b = &Bounce{}
	}
	br := bufio.NewReader(io.LimitReader(r, 64<<10))
	for i := 0; i < 100; i++ { // a field block per recipient; a report names a few
		if _, err := br.Peek(1); err != nil {
			return b
		}
		h, err := textproto.ReadHeader(br)
		if h.Len() > 0 {
			if v := h.Get("Final-Recipient"); v != "" && b.Recipient == "" {
				_, addr, _ := strings.Cut(v, ";")
				b.Recipient = strings.ToLower(strings.TrimSpace(addr))
			}
			if v := h.Get("Status"); v != "" && b.Status == "" {
				b.Status = strings.TrimSpace(v)
			}
			if v := h.Get("Diagnostic-Code"); v != "" && b.Reason == "" {
				_, text, ok := strings.Cut(v, ";")
				if !ok {
					text = v
				}
				b.Reason = strings.Join(strings.Fields(text), " ")
			}
		}
		if err != nil {
			return b
		}
	}
	return b
}

// originalHeaders reads the bounced mail's headers (text/rfc822-headers or message/rfc822) for
// its Message-ID.
func originalHeaders(r io.Reader, b *Bounce) *Bounce {
	if b == nil {
		b = &Bounce{}
	}
	h, err := textproto.ReadHeader(bufio.NewReader(io.LimitReader(r, 256<<10)))
	if err != nil && h.Len() == 0 {
		return b
	}
	mh := mail.Header{Header: message.Header{Header: h}}
	if id, err := mh.MessageID(); err == nil && id != "" {
		b.Original = append(b.Original, id)
	}
	return b
}

// normalizeText makes line ends \n and drops trailing blank lines.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimRight(s, "\n\t ")
}

var (
	// replyHeaderRE is the line a mail client writes above a quoted reply ("On … wrote:", the
	// Russian clients' "… пишет:" / "написал(а):").
	replyHeaderRE = regexp.MustCompile(`(?i)(wrote|пишет|написал|написала|написал\(а\))\s*:\s*$`)
	// originalRE is Outlook's and The Bat's separator above the original message.
	originalRE = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|исходное сообщение)\s*-{2,}`)
	// outlookFromRE and outlookSentRE are Outlook's header block of the quoted mail
	// (From:/Sent: in English, От:/Отправлено: in Russian).
	outlookFromRE = regexp.MustCompile(`(?i)^\s*\*?(from|от)\s*:\*?\s`)
	outlookSentRE = regexp.MustCompile(`(?i)^\s*\*?(sent|date|отправлено|дата)\s*:\*?\s`)
)

// TrimQuoted cuts the quoted history off a reply: from the line a client writes above the quote
// ("On … wrote:", "-----Original Message-----", Outlook's From:/Sent: block), or a trailing block
// of "> " lines. A mail that is all quote keeps its text.
func TrimQuoted(text string) string {
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case originalRE.MatchString(t):
			cut = i
		case strings.HasPrefix(t, "________") && i+1 < len(lines) && outlookFromRE.MatchString(lines[i+1]):
			cut = i
		case outlookFromRE.MatchString(t) && headerBlockFollows(lines[i+1:]):
			cut = i
		case replyHeaderRE.MatchString(t) && quoteFollows(lines[i+1:]):
			cut = i
			if i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "On ") && !strings.HasPrefix(t, "On ") {
				cut = i - 1 // "On Mon, 1 Dec 2026 at 10:00, Anna Petrova <anna@example.com>\nwrote:"
			}
		}
		if cut < len(lines) {
			break
		}
	}
	if cut == len(lines) {
		// A trailing quote with no header line above it.
		end := len(lines)
		for end > 0 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		start := end
		for start > 0 && (strings.HasPrefix(strings.TrimSpace(lines[start-1]), ">") || (strings.TrimSpace(lines[start-1]) == "" && start < end)) {
			start--
		}
		for start < end && strings.TrimSpace(lines[start]) == "" {
			start++
		}
		if start < end && strings.HasPrefix(strings.TrimSpace(lines[start]), ">") {
			cut = start
		}
	}
	out := strings.TrimRight(strings.Join(lines[:cut], "\n"), "\n\t ")
	if strings.TrimSpace(out) == "" {
		return text
	}
	return out
}

func headerBlockFollows(rest []string) bool {
	for i, l := range rest {
		if i >= 4 {
			return false
		}
		if outlookSentRE.MatchString(l) {
			return true
		}
	}
	return false
}

func quoteFollows(rest []string) bool {
	for _, l := range rest {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		return strings.HasPrefix(t, ">")
	}
	return false
}
