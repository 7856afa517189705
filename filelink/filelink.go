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

// Signer signs links with one key and checks them with it or with keys used before it, so a
// link signed before a key rotation works until it expires while the old key is configured.
type Signer struct {
	key   []byte
	older [][]byte
}

// New returns a Signer signing with key and accepting links signed with key or any of older.
func New(key []byte, older ...[]byte) Signer { return Signer{key: key, older: older} }

func mac(key []byte, id string, expires int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "\x00" + strconv.FormatInt(expires, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Sign returns link (…/files/<id>) with expires and sig parameters valid for ttl. Any query the
// link had is replaced.
func (s Signer) Sign(link, id string, ttl time.Duration, now time.Time) string {
	exp := now.Add(ttl).Unix()
	base, _, _ := strings.Cut(link, "?")
	return base + "?" + url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {mac(s.key, id, exp)}}.Encode()
}

// Valid reports whether expires and sig make a link to file id valid at now.
func (s Signer) Valid(id, expires, sig string, now time.Time) bool {
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || sig == "" || now.Unix() > exp {
		return false
	}
	for _, k := range append([][]byte{s.key}, s.older...) {
		if hmac.Equal([]byte(sig), []byte(mac(k, id, exp))) {
			return true
		}
	}
	return false
}
