// Package filelink signs links to the desk's files for those who fetch them without signing
// in — a platform fetching an attachment by URL (Viber), an integrator's system receiving an
// operator's reply — so such a link works until it expires and nobody can make one for another
// file. Operators read files with their session instead.
package filelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Signer signs and checks links with one key.
type Signer struct{ key []byte }

// New returns a Signer with key.
func New(key []byte) Signer { return Signer{key: key} }

func (s Signer) mac(id string, expires int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "\x00" + strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Sign returns link (…/files/<id>) with expires and sig parameters valid for ttl. Any query the
// link had is replaced.
func (s Signer) Sign(link, id string, ttl time.Duration, now time.Time) string {
	exp := now.Add(ttl).Unix()
	base, _, _ := strings.Cut(link, "?")
	return base + "?" + url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {s.mac(id, exp)}}.Encode()
}

// Valid reports whether expires and sig make a link to file id valid at now.
func (s Signer) Valid(id, expires, sig string, now time.Time) bool {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || sig == "" || now.Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.mac(id, exp)))
}
