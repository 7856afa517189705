package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseEventCursor: a Last-Event-ID either is refused or reads as a position whose id is not
// negative and whose String reads back as the same position; a position is never before itself.
func FuzzParseEventCursor(f *testing.F) {
	for _, s := range []string{"0.0", "1234.56", "18446744073709551615.9223372036854775807", "1.-1", "1", ".", "+1.+2",
		"1.2.3", " 1.2", "0x1.2", "01.002", "18446744073709551616.0", "1.9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseEventCursor(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if c.ID < 0 {
			t.Fatalf("%q read as a negative id: %+v", s, c)
		}
		again, err := ParseEventCursor(c.String())
		if err != nil || again != c {
			t.Fatalf("%q read as %+v, whose String %q reads as %+v, %v", s, c, c.String(), again, err)
		}
		if c.Less(c) {
			t.Fatalf("%+v is before itself", c)
		}
	})
}

// FuzzContactQuery: the contact search's query is "" or a tsquery of at most eight terms joined
// by " & ", each a quoted prefix term or two of them in parentheses joined by " | ", whose
// quoted words are never empty and are escaped so the words cannot break out of their quotes.
func FuzzContactQuery(f *testing.F) {
	for _, s := range []string{"иван", "Ivan Petrov", "+7 916 123-45-67", "8 916 123 45 67", "9161234567", "ivan@ex",
		"o'brien", `back\slash`, "a b c d e f g h i j", "!!!", "#42", "'':*&|!()", "8", "Ёлка-Палка 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
			return // the API refuses these before a search
		}
		out := contactQuery(q)
		if out == "" {
			return
		}
		terms := splitOutside(out, " & ")
		if len(terms) > 8 {
			t.Fatalf("contactQuery(%q) = %q has %d terms", q, out, len(terms))
		}
		for _, term := range terms {
			alts := []string{term}
			if strings.HasPrefix(term, "(") && strings.HasSuffix(term, ")") {
				alts = splitOutside(term[1:len(term)-1], " | ")
				if len(alts) != 2 {
					t.Fatalf("contactQuery(%q) = %q: group %q", q, out, term)
				}
			}
			for _, a := range alts {
				word, ok := unquotePrefixTerm(a)
				if !ok || word == "" {
					t.Fatalf("contactQuery(%q) = %q: %q is not a quoted prefix term", q, out, a)
				}
			}
		}
	})
}

// splitOutside splits s at sep where sep is not inside a quoted word.
func splitOutside(s, sep string) []string {
	var parts []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '\'':
			if quoted && i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			quoted = !quoted
		case !quoted && strings.HasPrefix(s[i:], sep):
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}

// unquotePrefixTerm reads 'word':* as tsquery does (a doubled quote or a backslash escapes)
// and returns the word.
func unquotePrefixTerm(s string) (string, bool) {
	body, ok := strings.CutSuffix(s, "':*")
	if !ok || !strings.HasPrefix(body, "'") {
		return "", false
	}
	body = body[1:]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\\':
			if i+1 == len(body) {
				return "", false
			}
			i++
		case '\'':
			if i+1 == len(body) || body[i+1] != '\'' {
				return "", false // a quote that ends the word early
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}
