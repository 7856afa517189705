package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// MailResult is M1: a mailbox holding a backlog of mail when its channel is connected, and how
// fast the desk imports it.
type MailResult struct {
	Mails int `json:"mails"`
	// Seconds is from the intake's first sign-in to the last mail stored; PerSecond is Mails
	// over it.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"mails_per_second"`
	// StartSeconds is from the channel's creation to the intake's first sign-in (the intake looks
	// for new channels every few seconds).
	StartSeconds float64 `json:"start_seconds"`
	// CPUMillisPerMail is the linedesk process's CPU time (user + system, Temporal and the
	// workflows opening each mail's conversation included) over the import, per mail; 0 when
	// the stack was given with -target.
	CPUMillisPerMail float64 `json:"cpu_ms_per_mail"`
	// RoutedSeconds is from the first sign-in until every mail is in an open conversation.
	RoutedSeconds float64 `json:"routed_seconds"`
	Stored        int     `json:"stored"`
	Doubled       int     `json:"doubled"`
}

// runM1 fills an IMAP mailbox (go-imap's server, in this process, on loopback) with MailCount
// mails — multipart text and HTML, Cyrillic subjects, every tenth with a 20 KB attachment — and
// then connects an email channel to it: the desk must import every mail once.
func (b *bench) runM1(ctx context.Context) error {
	n := b.o.MailCount
	const address, password = "support@bench.example", "bench-mailbox-password"
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(address, password)
	if err := user.Create("INBOX", nil); err != nil {
		return err
	}
	mem.AddUser(user)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       quietLogger{},
	})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	attachment := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("linedesk bench attachment "), 800))
	for i := range n {
		raw := benchMail(b.run, i, address, attachment)
		if _, err := user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: time.Now()}); err != nil {
			return err
		}
	}

	b.progress("M1: %d mails waiting in the mailbox; connecting an email channel", n)
	var created struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
	}
	cpu0 := processCPU(b.st.pid)
	t0 := time.Now()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := b.api.do(ctx, b.api.session, http.MethodPost, "/api/v1/channels", map[string]any{"kind": "email", "name": "email " + b.run,
		"line_id": b.lineID, "credentials": map[string]string{"password": password},
		"settings": map[string]any{"address": address, "imap_host": "127.0.0.1", "imap_port": port, "imap_security": "none",
			"smtp_host": "127.0.0.1", "smtp_port": 25, "smtp_security": "none"}}, nil, http.StatusCreated, &created); err != nil {
		return err
	}
	id := created.Channel.ID
	res := MailResult{Mails: n}
	var started time.Time
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if started.IsZero() {
			var ok bool
			_ = b.st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mailbox_state WHERE channel_id = $1)`, id).Scan(&ok)
			if ok {
				started = time.Now()
			}
		}
		if err := b.st.pool.QueryRow(ctx, `SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
			WHERE c.channel_id = $1 AND m.direction = 'in'`, id).Scan(&res.Stored); err != nil {
			return err
		}
		if res.Stored >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := time.Now()
	cpu1 := processCPU(b.st.pid)
	if started.IsZero() {
		started = t0
	}
	res.StartSeconds = started.Sub(t0).Seconds()
	res.Seconds = done.Sub(started).Seconds()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Stored) / res.Seconds
	}
	if cpu0 >= 0 && cpu1 >= 0 && res.Stored > 0 {
		res.CPUMillisPerMail = float64(cpu1-cpu0) / float64(res.Stored)
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var waiting int
		if err := b.st.pool.QueryRow(ctx, `SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id
			WHERE c.channel_id = $1 AND m.direction = 'in' AND m.conversation_number IS NULL`, id).Scan(&waiting); err != nil || waiting == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.RoutedSeconds = time.Since(started).Seconds()
	if err := b.st.pool.QueryRow(ctx, `SELECT count(*) - count(DISTINCT m.text) FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE c.channel_id = $1 AND m.direction = 'in'`, id).Scan(&res.Doubled); err != nil {
		return err
	}
	if res.Stored != n || res.Doubled != 0 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("M1: %d messages stored for %d mails, %d doubled", res.Stored, n, res.Doubled))
	}
	// The channel is switched off so its intake stops before the next workload.
	_ = b.api.do(ctx, b.api.session, http.MethodPatch, "/api/v1/channels/"+strconv.FormatInt(id, 10), map[string]any{"enabled": false}, nil, http.StatusOK, nil)
	b.rep.M1 = &res
	return nil
}

// benchMail is the i-th mail of the backlog: a new thread from one of 50 clients.
func benchMail(run string, i int, to, attachment string) []byte {
	var m bytes.Buffer
	subject := mime.BEncoding.Encode("utf-8", fmt.Sprintf("Вопрос по заказу %d", i))
	fmt.Fprintf(&m, "From: %s <client%02d@example.com>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s.%d@example.com>\r\n",
		mime.BEncoding.Encode("utf-8", "Клиент "+strconv.Itoa(i%50)), i%50, to, subject, time.Now().Format(time.RFC1123Z), run, i)
	m.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n--mixed\r\n")
	m.WriteString("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	body := fmt.Sprintf("%s mail %d: здравствуйте! Заказ %d не пришёл, оплачен неделю назад.\r\n", run, i, i)
	m.WriteString(body + strings.Repeat("Подробности заказа и адрес доставки.\r\n", 20))
	m.WriteString("\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + body + "</p>")
	m.WriteString(strings.Repeat("<p>Подробности заказа и адрес доставки.</p>", 20) + "</body></html>\r\n--alt--\r\n")
	if i%10 == 0 {
		m.WriteString("--mixed\r\nContent-Type: text/plain; name=\"order.txt\"\r\nContent-Disposition: attachment; filename=\"order.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		for len(attachment) > 76 {
			m.WriteString(attachment[:76] + "\r\n")
			attachment = attachment[76:]
		}
		m.WriteString(attachment + "\r\n")
	}
	m.WriteString("--mixed--\r\n")
	return m.Bytes()
}

// processCPU is a process's user + system CPU time in milliseconds (-1 when unknown).
func processCPU(pid int) int64 {
	if pid <= 0 {
		return -1
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name may hold spaces: the fields counted start after its closing parenthesis.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return -1
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return (utime + stime) * 1000 / ticksPerSecond
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return int64(l.Len()) }

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
