package meta_test

import (
	"strings"
	"testing"

	"github.com/linedesk/linedesk/connectors/meta"
)

// FuzzVerifySignature: X-Hub-Signature-256 verifies exactly when it is "sha256=" and the hex
// HMAC of the body under the app secret (hex in either case); an empty secret never verifies,
// the signature Sign makes always does, and it does not verify another body.
func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"object":"page","entry":[]}`)
	f.Add("app-secret", body, meta.Sign("app-secret", body))
	f.Add("app-secret", body, strings.ToUpper(meta.Sign("app-secret", body)))
	f.Add("", body, meta.Sign("", body))
	f.Add("s", []byte{}, "sha256=")
	f.Add("s", body, "sha256=zz")
	f.Add("s", body, "SHA256="+strings.TrimPrefix(meta.Sign("s", body), "sha256="))
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		want := meta.Sign(secret, body)
		hexSum, prefixed := strings.CutPrefix(header, "sha256=")
		matches := secret != "" && prefixed && strings.EqualFold(hexSum, strings.TrimPrefix(want, "sha256="))
		if got := meta.VerifySignature(secret, body, header); got != matches {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v, want %v", secret, body, header, got, matches)
		}
		if secret != "" {
			if !meta.VerifySignature(secret, body, want) {
				t.Fatalf("Sign's own signature %q does not verify", want)
			}
			if meta.VerifySignature(secret, append(body, '.'), want) {
				t.Fatalf("signature %q verifies another body", want)
			}
		}
	})
}
