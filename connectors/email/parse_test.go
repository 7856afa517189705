package email

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func parseFile(t *testing.T, name string) *Mail {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	m, err := Parse(raw, 1<<20)
	require.NoError(t, err)
	return m
}

func TestParseMultipartWithAttachments(t *testing.T) {
	m := parseFile(t, "multipart.eml")
	require.Equal(t, "CAJ1anna.0001@mail.example.com", m.MessageID)
	require.Equal(t, "Не работает оплата картой", m.Subject, "RFC 2047 subject decoded")
	require.Equal(t, Address{Name: "Анна Петрова", Address: "anna@example.com"}, m.From, "address lower-cased, name decoded")
	require.Equal(t, "Здравствуйте!\nПри оплате картой появляется ошибка 502.\nСкриншот и счёт во вложении.", m.Text, "text/plain preferred")
	require.Empty(t, m.Auto)
	require.Contains(t, m.HTML, "<b>ошибка 502</b>")
	require.NotContains(t, m.HTML, "script")
	require.NotContains(t, m.HTML, "onclick")
	require.Len(t, m.Files, 2)
	require.Equal(t, "screen.png", m.Files[0].Name)
	require.Equal(t, "image/png", m.Files[0].ContentType)
	require.Equal(t, []byte("\x89PNG"), m.Files[0].Data[:4])
	require.Equal(t, "счёт.pdf", m.Files[1].Name, "RFC 2231 file name decoded")
	require.True(t, strings.HasPrefix(string(m.Files[1].Data), "%PDF"))
	require.Equal(t, "mid:CAJ1anna.0001@mail.example.com", m.Key())
}

func TestParseHTMLOnly(t *testing.T) {
	m := parseFile(t, "html-only.eml")
	require.Equal(t, "Hello,\nmy order #1042 (https://shop.example/orders/1042) has not arrived.\n• paid on 20 Nov\n• tracking: none", m.Text)
	require.NotContains(t, m.HTML, "iframe")
	require.NotContains(t, m.HTML, "<style")
	require.Contains(t, m.HTML, `href="https://shop.example/orders/1042"`)
	require.Contains(t, m.HTML, `noreferrer`)
}

func TestParseCyrillicCharsets(t *testing.T) {
	k := parseFile(t, "koi8r.eml")
	require.Equal(t, "Вопрос по договору", k.Subject)
	require.Equal(t, "Иван", k.From.Name)
	require.Equal(t, "Добрый день! Прошу выслать копию договора N17.", k.Text)

	w := parseFile(t, "cp1251.eml")
	require.Equal(t, "Счёт на оплату", w.Subject)
	require.Equal(t, "Пришлите, пожалуйста, счёт на оплату для ООО «Ромашка».", w.Text)
}

func TestParseOutlookReply(t *testing.T) {
	m := parseFile(t, "outlook-reply.eml")
	require.Equal(t, []string{"REPLYID@desk.example"}, m.InReplyTo)
	require.Equal(t, []string{"REPLYID@desk.example", "CAJ1anna.0001@mail.example.com"}, m.Thread(), "nearest first")
	require.Equal(t, "Спасибо, теперь всё работает.\n\nАнна", m.New, "the quoted history is cut off")
	require.Contains(t, m.Text, "Попробуйте ещё раз", "the whole text keeps it")
}

func TestParseForwardedMailIsKept(t *testing.T) {
	m := parseFile(t, "forwarded.eml")
	require.Empty(t, m.Auto)
	require.Equal(t, "Please look at the mail below: the invoice total is wrong.", m.Text)
	require.Len(t, m.Files, 1)
	require.Equal(t, "message/rfc822", m.Files[0].ContentType)
	require.Contains(t, string(m.Files[0].Data), "Total: 1,000,000 EUR")
}

func TestParseAutoReplyAndBounce(t *testing.T) {
	a := parseFile(t, "auto-reply.eml")
	require.Equal(t, "auto-reply", a.Auto)

	b := parseFile(t, "bounce.eml")
	require.Equal(t, "bounce", b.Auto)
	require.NotNil(t, b.Bounce)
	require.Contains(t, b.Bounce.Original, "BOUNCEDID@desk.example")
	require.Equal(t, "nobody@example.com", b.Bounce.Recipient)
	require.Equal(t, "5.1.1", b.Bounce.Status)
	require.Contains(t, b.Bounce.Reason, "User unknown")
}

func TestParseDropsLargeFiles(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "multipart.eml"))
	require.NoError(t, err)
	m, err := Parse(raw, 16)
	require.NoError(t, err)
	require.Len(t, m.Files, 2)
	require.Nil(t, m.Files[0].Data)
	require.NotEmpty(t, m.Files[0].Dropped)
}

func TestParseWithoutMessageIDKeysByContent(t *testing.T) {
	raw := []byte("From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
	m, err := Parse(raw, 1<<20)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(m.Key(), "sha:"))
	m2, _ := Parse(raw, 1<<20)
	require.Equal(t, m.Key(), m2.Key())
}

func TestTrimQuoted(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"gmail":         {"Thanks!\n\nOn Tue, 1 Dec 2026 at 11:00, Support <support@desk.example> wrote:\n> Try again.\n> Bye", "Thanks!"},
		"gmail wrapped": {"Thanks!\n\nOn Tue, 1 Dec 2026 at 11:00, Support <support@desk.example>\nwrote:\n> Try again.", "Thanks!"},
		"russian":       {"Спасибо!\n\n1 декабря 2026 г., в 11:00, Поддержка <support@desk.example> написал(а):\n> Попробуйте ещё раз.", "Спасибо!"},
		"yandex":        {"Ок\n\n01.12.2026, 11:00, \"Поддержка\" <support@desk.example>:\n\n-----Original Message-----\nFrom: x", "Ок\n\n01.12.2026, 11:00, \"Поддержка\" <support@desk.example>:"},
		"outlook ru":    {"Готово.\n\nОт: Поддержка <support@desk.example>\nОтправлено: 1 декабря 2026 г. 11:00\nКому: me", "Готово."},
		"bare quote":    {"Yes, that one.\n\n> Which order?\n> The first?", "Yes, that one."},
		"all quote":     {"> only a quote", "> only a quote"},
		"interleaved":   {"> Which order?\nThe first.\n> And the date?\nMonday.", "> Which order?\nThe first.\n> And the date?\nMonday."},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, TrimQuoted(tc.in))
		})
	}
}

// TestParseCleansAFilesDeclaredType: a part's Content-Type may hold a NUL; the desk records a
// refused file with its declared type, and PostgreSQL would refuse the whole mail for it (found
// by FuzzParse).
func TestParseCleansAFilesDeclaredType(t *testing.T) {
	raw := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
		"Content-Type: application/x\xff\x00y\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nzz\r\n--B--\r\n"
	m, err := Parse([]byte(raw), 1<<16)
	require.NoError(t, err)
	require.Len(t, m.Files, 1)
	require.Equal(t, "application/x\uFFFDy", m.Files[0].ContentType)
	checkMail(t, m)
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		raw, _ := os.ReadFile(name)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, 1<<16)
		if err != nil {
			return
		}
		checkMail(t, m)
		again, err := Parse(raw, 1<<16)
		if err != nil || again.Key() != m.Key() {
			t.Fatalf("the same bytes read again: key %q, then %v %v", m.Key(), again, err)
		}
	})
}

// TestParseHostileMail: what would stop a mailbox's intake or hold it for long is refused or cut
// quickly: deep multipart nesting, NUL bytes, a Message-ID of kilobytes, HTML whose text grows
// past the limit.
func TestParseHostileMail(t *testing.T) {
	var deep strings.Builder
	deep.WriteString("From: a@example.com\r\nSubject: deep\r\n")
	for i := range 5000 {
		fmt.Fprintf(&deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	_, err := Parse([]byte(deep.String()), 1<<20)
	require.Error(t, err)

	long := strings.Repeat("x", 5000)
	m, err := Parse([]byte("From: a@example.com\r\nSubject: =?utf-8?q?a=00b?=\r\nMessage-ID: <"+long+"@example.com>\r\nIn-Reply-To: <"+long+"@desk>\r\n\r\nbody\x00with nul\r\n"), 1<<20)
	require.NoError(t, err)
	require.Equal(t, "ab", m.Subject)
	require.Equal(t, "bodywith nul", m.Text)
	require.Less(t, len(m.Key()), 300)
	require.Less(t, len(m.InReplyTo[0]), 300)

	html := "<html><body>" + strings.Repeat("<blockquote>", 400) + strings.Repeat("a <br>", 300000) + "</body></html>"
	text := HTMLText(html)
	require.LessOrEqual(t, len(text), maxTextPart)
}
