package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Fuzz tests of what the API reads from outside before it touches the store: request bodies,
// headers and the knowledge base's Markdown. The handlers' own paths, with the store
// behind them, are fuzzed in fuzz_handlers_test.go.

// bodyContext is an Echo context for a request with body and Content-Type ct ("" for none).
func bodyContext(method, ct string, body []byte) (echo.Context, *httptest.ResponseRecorder) {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	if ct != "" {
		req.Header.Set(echo.HeaderContentType, ct)
	}
	rec := httptest.NewRecorder()
	return echo.New().NewContext(req, rec), rec
}

// clientError asserts err is the API's own error with a 4xx status and a code, never something the
// error handler would answer with a 500, and returns it.
func clientError(t *testing.T, err error, statuses ...int) *Error {
	t.Helper()
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("%v (%T) is not an *Error: the client would get a 500", err, err)
	}
	if !contains(statuses, apiErr.Status) || apiErr.Code == "" || apiErr.Message == "" {
		t.Fatalf("error %d %q %q, want one of %v with a code and a message", apiErr.Status, apiErr.Code, apiErr.Message, statuses)
	}
	return apiErr
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// hasNUL tells whether a decoded JSON value holds a NUL in any string or key.
func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case []any:
		for _, x := range v {
			if hasNUL(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, 0) || hasNUL(x) {
				return true
			}
		}
	}
	return false
}

// FuzzRequestDecoding: what every API request's headers and JSON body are read with.
//   - decodeJSON accepts a body exactly when its Content-Type (if any) is JSON, it is UTF-8
//     holding one JSON value, and no string in it holds NUL; what it refuses comes back as a 400
//     *Error; what it accepts, encoded again, decodes to the same value. Decoding into a typed
//     body (the bulk action's, which embeds assign's and close's) refuses with a 400 too.
//   - `Prefer: wait=<seconds>` (the inbound API; several headers one a line) is refused with a
//     400, or read as a wait from 0 to maxInboundWait: the seconds asked for when within it.
func FuzzRequestDecoding(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"text":"hello","attachments":[{"url":"https://x.example/a.png"}]}`},
		{"", `{"action":"close","numbers":[1,2,2],"type":"Support","client_rating":3}`},
		{"application/merge-patch+json; charset=utf-8", `{"name":null}`},
		{"text/plain", `{}`},
		{"application/json", `{"text":"a\u0000b"}`},
		{"application/json", `{"text":"C:\\u0000 is how JSON writes NUL"}`},
		{"application/json", `{"text":"\\\u0000"}`},
		{"application/json", "{\"text\":\"\xff\"}"},
		{"application/json", `{"numbers":[1e400]}`},
		{"application/json", ``},
		{"application/json", `{"\u0000":1}`},
		{"application/json", `"\ud800"`},
	} {
		f.Add(seed.ct, "", []byte(seed.body))
	}
	for _, prefer := range []string{"respond-async, wait=10", `WAIT = "2.5"`, "wait=-1", "wait=1e300", "wait=NaN", "handling=lenient\nwait=31"} {
		f.Add("application/json", prefer, []byte(`{"text":"hi"}`))
	}
	f.Fuzz(func(t *testing.T, ct, prefer string, body []byte) {
		checkPreferWait(t, prefer)

		c, _ := bodyContext(http.MethodPost, ct, body)
		var v any
		err := decodeJSON(c, &v)

		ctOK := ct == ""
		if mt, _, perr := mime.ParseMediaType(ct); perr == nil && (mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")) {
			ctOK = true
		}
		var want any
		valid := ctOK && utf8.Valid(body) && json.Unmarshal(body, &want) == nil && !hasNUL(want)
		if err != nil {
			clientError(t, err, http.StatusBadRequest)
			if valid {
				t.Fatalf("refused a valid body %q (Content-Type %q): %v", body, ct, err)
			}
		} else {
			if !valid {
				t.Fatalf("accepted %q (Content-Type %q) as %#v", body, ct, v)
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("decoded %q as %#v, encoding/json reads %#v", body, v, want)
			}
			again, merr := json.Marshal(v)
			if merr != nil {
				t.Fatalf("encode %#v: %v", v, merr)
			}
			c2, _ := bodyContext(http.MethodPost, echo.MIMEApplicationJSON, again)
			var v2 any
			if err := decodeJSON(c2, &v2); err != nil || !reflect.DeepEqual(v, v2) {
				t.Fatalf("round trip of %q: %s read as %#v, %v", body, again, v2, err)
			}
		}

		c3, _ := bodyContext(http.MethodPost, ct, body)
		var typed bulkBody
		if err := decodeJSON(c3, &typed); err != nil {
			clientError(t, err, http.StatusBadRequest)
		}
	})
}

// replyValid is the rule for an operator's message: text or a file, the text at most 20000 bytes,
// files only on a reply (not a note), each at an http or https URL.
func replyValid(b messageBody, note bool) bool {
	if strings.TrimSpace(b.Text) == "" && len(b.Attachments) == 0 {
		return false
	}
	if len(b.Text) > 20000 || (note && len(b.Attachments) > 0) {
		return false
	}
	for _, a := range b.Attachments {
		if !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
			return false
		}
	}
	return true
}

// checkPreferWait asserts what preferWait reads of the Prefer headers, one a line in header.
func checkPreferWait(t *testing.T, header string) {
	t.Helper()
	h := http.Header{}
	for _, v := range strings.Split(header, "\n") {
		h.Add("Prefer", v)
	}
	d, err := preferWait(h)
	if err != nil {
		clientError(t, err, http.StatusBadRequest)
		return
	}
	if d < 0 || d > maxInboundWait {
		t.Fatalf("Prefer %q read as a wait of %v", header, d)
	}
	// The first wait preference is the one read; a plain number within the bound is kept.
	for _, v := range h.Values("Prefer") {
		for pref := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(pref), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			secs, perr := strconv.ParseFloat(strings.Trim(strings.TrimSpace(val), `"`), 64)
			if perr == nil && secs >= 0 && secs <= maxInboundWait.Seconds() && math.Abs(d.Seconds()-secs) > 1e-6 {
				t.Fatalf("Prefer %q asks for %vs, read as %v", header, secs, d)
			}
			return
		}
	}
	if d != 0 {
		t.Fatalf("no wait asked in %q, read as %v", header, d)
	}
}

// FuzzRenderMarkdown: whatever Markdown an article holds, its HTML (shown in the console, on the
// public /kb page and in the widget) runs nothing: no script or other active element, no event
// handler, no javascript:, vbscript: or non-image data: link; rendering is deterministic.
func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{
		"# Оплата\n\nНажмите **Оплатить**, затем [инструкция](https://example.com/help).",
		"<script>alert(1)</script>",
		"[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](&#106;avascript:alert(1)) [d](java&NewLine;script:alert(1))",
		"[a](<\x01javascript:alert(1)>) [b](\\javascript:alert(1)) <javascript:alert(1)> <vbscript:msgbox(1)>",
		"![x](data:image/png;base64,AAAA) ![y](data:text/html,<script>alert(1)</script>) ![z](data:image/svg+xml,<svg onload=alert(1)>)",
		"[ref]\n\n[ref]: &#x6A;avascript:alert(1) \"t\"",
		"<img src=x onerror=alert(1)>\n\n<a href=\"javascript:alert(1)\">x</a>",
		"`<script>` and ```\n<script>\n```",
		"<div\nonclick=alert(1)>x</div>",
		"[a](https://example.com \"\\\" onmouseover=alert(1) \\\"\")",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := renderMarkdown(body)
		if err != nil {
			t.Fatalf("render %q: %v", body, err)
		}
		if bad := unsafeHTML(out); bad != "" {
			t.Fatalf("Markdown %q renders %s: %q", body, bad, out)
		}
		if again, _ := renderMarkdown(body); again != out {
			t.Fatalf("Markdown %q renders two ways", body)
		}
	})
}

// unsafeHTML names what in s could run script or load a page in a browser: an element that runs
// or embeds, an event handler, or a link or source whose scheme, read as a browser reads it
// (entities decoded, leading controls and spaces dropped, tabs and newlines removed), is
// javascript:, vbscript:, or data: other than a raster image (PNG, GIF, JPEG, WebP: goldmark
// lets those through, and they hold no script). "" when there is none.
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
				atom.Form, atom.Meta, atom.Link, atom.Svg, atom.Math, atom.Style:
				return "<" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" {
					return "attribute " + key
				}
				switch key {
				case "href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset", "data", "cite":
					v := strings.ToLower(strings.TrimLeft(a.Val, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
					v = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)
					image := false
					for _, t := range []string{"png", "gif", "jpeg", "webp"} {
						image = image || strings.HasPrefix(v, "data:image/"+t)
					}
					if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || (strings.HasPrefix(v, "data:") && !image) {
						return key + "=" + a.Val
					}
				}
			}
		}
	}
}
