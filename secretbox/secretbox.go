// Package secretbox seals the secrets linedesk keeps in PostgreSQL — channel credentials (bot
// tokens, app secrets, access tokens), webhook signing secrets — with AES-256-GCM under a key
// from configuration, so a copy of the database (a backup, a replica, a leaked dump) does not
// give anyone the desk's channels.
//
// A sealed value is "ldx1" + the key's 4-byte id + a 12-byte random nonce + the ciphertext and
// tag. The key id lets a Box hold older keys for opening while it seals with the newest one,
// which is what key rotation needs. A value without the prefix was stored before sealing
// existed; Open returns it as it is and Legacy reports it, so a migration can seal it.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the key length: AES-256.
const KeySize = 32

var magic = []byte("ldx1")

const idSize = 4

// ErrWrongKey means a value was sealed with a key this Box does not hold, or was altered.
var ErrWrongKey = errors.New("secretbox: the value was sealed with another key or was altered")

// Box seals with its first key and opens with any of its keys.
type Box struct {
	keys []key
	// seeds are the keys themselves, primary first, kept for Derive and DeriveAll.
	seeds [][]byte
}

type key struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// New returns a Box sealing with primary and opening with primary or any of older.
func New(primary []byte, older ...[]byte) (*Box, error) {
	b := &Box{}
	for i, k := range append([][]byte{primary}, older...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		b.seeds = append(b.seeds, append([]byte(nil), k...))
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		kk := key{id: keyID(k), aead: aead}
		b.keys = append(b.keys, kk)
	}
	return b, nil
}

func keyID(k []byte) [idSize]byte {
	var id [idSize]byte
	sum := sha256.Sum256(k)
	copy(id[:], sum[:idSize])
	return id
}

// KeyID names a key without revealing it: the id sealed values carry (8 hex digits), which
// tells an operator which key a value needs, or which of their keys is which.
func KeyID(k []byte) string {
	id := keyID(k)
	return hex.EncodeToString(id[:])
}

// SealedKeyID returns the id of the key a sealed value names, "" for a legacy or truncated one.
func SealedKeyID(v []byte) string {
	if Legacy(v) || len(v) < len(magic)+idSize {
		return ""
	}
	return hex.EncodeToString(v[len(magic) : len(magic)+idSize])
}

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}

// Ephemeral returns a Box with a random key that lives as long as the process: for tests and
// tools that keep nothing. A desk always configures its key (the commands refuse to start
// without one).
func Ephemeral() *Box {
	b, _ := New(NewKey()) // a fresh key has the right size
	return b
}

// ParseKey reads a key as configured: 32 bytes in standard or URL-safe base64, or 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	if len(s) == 2*KeySize {
		k := make([]byte, KeySize)
		if _, err := fmt.Sscanf(s, "%x", &k); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("a secrets key is %d random bytes in base64 (e.g. `openssl rand -base64 32`) or 64 hex digits", KeySize)
}

// EncodeKey writes a key the way ParseKey reads it.
func EncodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// Seal encrypts plain with the primary key. purpose (a table and column, say) is bound to the
// value, so a sealed value copied into another place does not open there. An empty plain stays
// empty: "no secret" needs no encryption.
func (b *Box) Seal(purpose string, plain []byte) []byte {
	if len(plain) == 0 {
		return nil
	}
	k := b.keys[0]
	out := make([]byte, 0, len(magic)+idSize+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out = append(out, magic...)
	out = append(out, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plain, []byte(purpose))
}

// Open decrypts a sealed value; a legacy (unsealed) value comes back as it is.
func (b *Box) Open(purpose string, sealed []byte) ([]byte, error) {
	if Legacy(sealed) {
		return sealed, nil
	}
	rest := sealed[len(magic):]
	if len(rest) < idSize {
		return nil, ErrWrongKey
	}
	for _, k := range b.keys {
		if !bytes.Equal(rest[:idSize], k.id[:]) {
			continue
		}
		body := rest[idSize:]
		if len(body) < k.aead.NonceSize() {
			return nil, ErrWrongKey
		}
		plain, err := k.aead.Open(nil, body[:k.aead.NonceSize()], body[k.aead.NonceSize():], []byte(purpose))
		if err != nil {
			return nil, ErrWrongKey
		}
		return plain, nil
	}
	return nil, ErrWrongKey
}

// Legacy reports whether a stored value predates sealing (or is empty).
func Legacy(v []byte) bool { return !bytes.HasPrefix(v, magic) }

// SealedWithPrimary reports whether v is sealed with the Box's newest key (rotation re-seals
// the others).
func (b *Box) SealedWithPrimary(v []byte) bool {
	return !Legacy(v) && len(v) >= len(magic)+idSize && bytes.Equal(v[len(magic):len(magic)+idSize], b.keys[0].id[:])
}

// Derive returns a key for another use (signing file links, say), derived from the primary key
// and purpose, so one configured secret serves every need without any two sharing a key.
func (b *Box) Derive(purpose string) []byte { return derive(b.seeds[0], purpose) }

// DeriveAll returns the key for purpose derived from each of the Box's keys, the primary's
// first: what checks a signature made before a key rotation (a signed file link, say) while the
// old key is still configured.
func (b *Box) DeriveAll(purpose string) [][]byte {
	out := make([][]byte, len(b.seeds))
	for i, seed := range b.seeds {
		out[i] = derive(seed, purpose)
	}
	return out
}

func derive(seed []byte, purpose string) []byte {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte("linedesk derive\x00" + purpose))
	return m.Sum(nil)
}
