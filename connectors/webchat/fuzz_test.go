package webchat

import (
	"strings"
	"testing"
)

// FuzzVerifyIdentity: a page's user_hash is accepted exactly when the secret, the user id and the
// hash are given and the hash, trimmed and lower-cased, is hex(HMAC-SHA256(secret, user id)); the
// hash a site's server computes is always accepted, and never for another user id.
func FuzzVerifyIdentity(f *testing.F) {
	f.Add("site-secret", "user-42", IdentityHash("site-secret", "user-42"))
	f.Add("site-secret", "user-42", " "+strings.ToUpper(IdentityHash("site-secret", "user-42"))+"\n")
	f.Add("", "user-42", IdentityHash("", "user-42"))
	f.Add("site-secret", "", IdentityHash("site-secret", ""))
	f.Add("s", "u", "")
	f.Fuzz(func(t *testing.T, secret, userID, hash string) {
		want := IdentityHash(secret, userID)
		matches := secret != "" && userID != "" && hash != "" && strings.ToLower(strings.TrimSpace(hash)) == want
		if got := VerifyIdentity(secret, userID, hash); got != matches {
			t.Fatalf("VerifyIdentity(%q, %q, %q) = %v, want %v", secret, userID, hash, got, matches)
		}
		if secret != "" && userID != "" {
			if !VerifyIdentity(secret, userID, want) {
				t.Fatalf("the site's own hash %q is refused", want)
			}
			if VerifyIdentity(secret, userID+"x", want) {
				t.Fatalf("hash %q accepted for another user id", want)
			}
		}
	})
}
