package email

import (
	"bytes"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy keeps what a mail's layout needs and nothing that runs or calls out on its own: no
// scripts, styles, forms or frames; links open in a new tab without a referrer.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("style").Globally()
	p.AllowStyles("color", "background-color", "font-weight", "font-style", "text-decoration", "text-align").Globally()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowDataURIImages()
	return p
}()

// Sanitize makes a mail's HTML safe to show inside the console.
func Sanitize(s string) string {
	return strings.TrimSpace(policy.Sanitize(s))
}

// maxQuoteDepth bounds the "> " prefixes of nested quotes; deeper ones read as that deep.
const maxQuoteDepth = 8

// HTMLText turns a mail's HTML into plain text: paragraphs and line breaks kept, links as
// "text (url)", quoted blocks as "> " lines, scripts and styles dropped. The text is cut at
// maxTextPart.
func HTMLText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return ""
	}
	var b []byte
	full := func() bool { return len(b) >= maxTextPart }
	suffix := func(x string) bool { return bytes.HasSuffix(b, []byte(x)) }
	newline := func() {
		if len(b) > 0 && !suffix("\n") {
			b = append(b, '\n')
		}
	}
	trimSpace := func() {
		for len(b) > 0 && b[len(b)-1] == ' ' {
			b = b[:len(b)-1]
		}
	}
	prefix := func(quote int) {
		if quote > 0 && (len(b) == 0 || suffix("\n")) {
			b = append(b, strings.Repeat("> ", min(quote, maxQuoteDepth))...)
		}
	}
	var walk func(n *html.Node, quote int)
	walk = func(n *html.Node, quote int) {
		if full() {
			return
		}
		switch n.Type {
		case html.TextNode:
			text := strings.Join(strings.Fields(n.Data), " ")
			if text == "" {
				if n.Data != "" && len(b) > 0 && !suffix("\n") && !suffix(" ") {
					b = append(b, ' ')
				}
				return
			}
			prefix(quote)
			if strings.HasPrefix(n.Data, " ") || strings.HasPrefix(n.Data, "\n") {
				if len(b) > 0 && !suffix(" ") && !suffix("\n") && !suffix("> ") {
					b = append(b, ' ')
				}
			}
			b = append(b, text...)
			if strings.HasSuffix(n.Data, " ") || strings.HasSuffix(n.Data, "\n") {
				b = append(b, ' ')
			}
			return
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
				return
			case atom.Br:
				trimSpace()
				b = append(b, '\n')
				return
			case atom.Blockquote:
				newline()
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c, quote+1)
				}
				newline()
				return
			case atom.A:
				start := len(b)
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c, quote)
				}
				href := attr(n, "href")
				label := strings.TrimSpace(string(b[min(start, len(b)):]))
				if href != "" && !strings.HasPrefix(href, "mailto:") && href != label && strings.HasPrefix(href, "http") {
					trimSpace()
					b = append(b, " ("+href+")"...)
				}
				return
			case atom.Li:
				newline()
				prefix(quote)
				b = append(b, "• "...)
			case atom.Img:
				if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
					b = append(b, "["+alt+"]"...)
				}
				return
			}
		}
		block := n.Type == html.ElementNode && isBlock(n.DataAtom)
		if block {
			trimSpace()
			newline()
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, quote)
		}
		if block {
			trimSpace()
			newline()
			if n.DataAtom == atom.P || n.DataAtom == atom.Table {
				b = append(b, '\n')
			}
		}
	}
	walk(doc, 0)
	if len(b) > maxTextPart {
		b = b[:maxTextPart]
	}
	lines := strings.Split(string(b), "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		if strings.TrimSpace(strings.Trim(l, "> ")) == "" && strings.TrimSpace(l) != ">" {
			blank++
			if blank > 1 {
				continue
			}
			l = ""
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Table, atom.Tr, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Pre, atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Body:
		return true
	}
	return false
}
