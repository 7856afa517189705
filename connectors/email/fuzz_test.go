package email

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// checkMail asserts what the desk's intake relies on in a parsed mail: every text it stores is
// valid UTF-8 without NUL (PostgreSQL text takes nothing else, and a mail it refuses would be
// read again and again), ids and the sender's address fit the desk's keys, a dropped file keeps
// no bytes and a kept one is within the limit, and the HTML is safe to show.
func checkMail(t *testing.T, m *Mail) {
	t.Helper()
	texts := map[string]string{"Message-ID": m.MessageID, "Subject": m.Subject, "text": m.Text, "new text": m.New,
		"HTML": m.HTML, "From name": m.From.Name, "From address": m.From.Address, "auto": m.Auto, "key": m.Key()}
	for i, id := range m.InReplyTo {
		texts["In-Reply-To "+string(rune('0'+i%10))] = id
	}
	for i, id := range m.References {
		texts["References "+string(rune('0'+i%10))] = id
	}
	for _, a := range append(append([]Address{}, m.To...), m.Cc...) {
		texts["To/Cc "+a.Address] = a.Name + a.Address
	}
	for _, f := range m.Files {
		texts["file "+f.Name] = f.Name + f.ContentType
		if f.Dropped != "" && f.Data != nil {
			t.Fatalf("dropped file %q keeps %d bytes", f.Name, len(f.Data))
		}
		if len(f.Data) > 1<<16 {
			t.Fatalf("file %q has %d bytes, over the limit", f.Name, len(f.Data))
		}
		if f.Name == "" {
			t.Fatal("a file without a name")
		}
	}
	if b := m.Bounce; b != nil {
		// Recipient, Status and Reason are cleaned where the intake joins them into its record;
		// the bounced mail's ids are looked up as they are.
		for _, id := range b.Original {
			texts["bounced id "+id] = id
		}
	}
	for what, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("%s %q is not text PostgreSQL stores (invalid UTF-8 or NUL)", what, s)
		}
	}
	if len(m.MessageID) > maxID || len(m.From.Address) > maxID {
		t.Fatalf("Message-ID %q or sender %q is longer than %d bytes", m.MessageID, m.From.Address, maxID)
	}
	for _, id := range m.Thread() {
		if id == "" || len(id) > maxID {
			t.Fatalf("thread id %q", id)
		}
	}
	if bad := unsafeHTML(m.HTML); bad != "" {
		t.Fatalf("the mail's HTML keeps %s: %q", bad, m.HTML)
	}
}

// unsafeHTML names what in s could run script or load a page in a browser: an element that runs
// or embeds, an event handler, or a link or source whose scheme, read as a browser reads it
// (entities decoded, leading controls and spaces dropped, tabs and newlines removed), is
// javascript:, vbscript:, or data: other than an image. "" when there is none.
func unsafeHTML(s string) string {
	if strings.Contains(strings.ToLower(s), "<script") {
		return "<script"
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.DataAtom {
			case atom.Script, atom.Iframe, atom.Frame, atom.Frameset, atom.Object, atom.Embed, atom.Applet, atom.Base,
				atom.Form, atom.Meta, atom.Link, atom.Svg, atom.Math:
				return "<" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					return "handler " + key
				}
				if key == "style" && strings.Contains(strings.ToLower(a.Val), "url(") {
					return "style with url()"
				}
				switch key {
				case "href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset", "data", "cite":
					scheme := urlScheme(a.Val)
					image := tok.DataAtom == atom.Img && key == "src" && strings.HasPrefix(strings.ToLower(strings.TrimLeft(a.Val, " \t\n\r\f")), "data:image/") &&
						!strings.HasPrefix(strings.ToLower(strings.TrimLeft(a.Val, " \t\n\r\f")), "data:image/svg")
					if scheme == "javascript" || scheme == "vbscript" || (scheme == "data" && !image) {
						return key + "=" + a.Val
					}
				}
			}
		}
	}
}

// urlScheme is the scheme a browser reads in a URL attribute's (already entity-decoded) value,
// lower-cased; "" when it has none.
func urlScheme(v string) string {
	v = strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	v = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)
	scheme, _, ok := strings.Cut(v, ":")
	if !ok || strings.ContainsAny(scheme, "/?#") {
		return ""
	}
	return strings.ToLower(scheme)
}

// FuzzSanitize: whatever HTML a mail carries, what the console shows of it runs nothing and loads
// no page by itself, and the text made of it is bounded, has at most one blank line in a row and
// no trailing spaces.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		`<p>Hello <b>there</b><script>alert(1)</script></p>`,
		`<a href="javascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a><a href="jav&#x09;ascript:alert(1)">z</a>`,
		`<img src="data:image/png;base64,iVBORw0KGgo=" onerror="alert(1)"><img src="data:text/html,<script>">`,
		`<div style="color:red;background-image:url(javascript:alert(1))">s</div>`,
		`<blockquote>quoted<blockquote>deeper</blockquote></blockquote><ul><li>one<li>two</ul>`,
		`<svg><script>alert(1)</script></svg><math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
		`<iframe src="https://evil.example"></iframe><form action="https://evil.example"><input></form>`,
		`<a href="cid:part1">inline</a><a href="mailto:a@example.com">mail</a><a href="https://example.com">https://example.com</a>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if bad := unsafeHTML(out); bad != "" {
			t.Fatalf("Sanitize(%q) keeps %s: %q", s, bad, out)
		}
		text := HTMLText(s)
		if len(text) > maxTextPart {
			t.Fatalf("HTMLText gave %d bytes, over %d", len(text), maxTextPart)
		}
		if strings.Contains(text, "\n\n\n") {
			t.Fatalf("HTMLText(%q) = %q has two blank lines in a row", s, text)
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.HasSuffix(l, " ") {
				t.Fatalf("HTMLText(%q) has a line ending in a space: %q", s, l)
			}
		}
	})
}
