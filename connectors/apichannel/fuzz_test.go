package apichannel_test

import (
	"strings"
	"testing"

	"github.com/linedesk/linedesk/connectors/apichannel"
)

// FuzzVerifySignature: X-Linedesk-Signature verifies exactly when, spaces around it trimmed, it
// is "sha256=" and the hex HMAC of the body under the secret (hex in either case); an empty
// secret never verifies, the signature Sign makes always does, and it does not verify another
// body.
func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"event":"message","text":"hello"}`)
	f.Add("secret", body, apichannel.Sign("secret", body))
	f.Add("secret", body, " "+strings.ToUpper(strings.TrimPrefix(apichannel.Sign("secret", body), apichannel.SignaturePrefix))+"\t")
	f.Add("", body, apichannel.Sign("", body))
	f.Add("s", []byte{}, apichannel.SignaturePrefix)
	f.Add("s", body, "sha256=zz")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		want := apichannel.Sign(secret, body)
		hexSum, prefixed := strings.CutPrefix(strings.TrimSpace(header), apichannel.SignaturePrefix)
		matches := secret != "" && prefixed && strings.EqualFold(hexSum, strings.TrimPrefix(want, apichannel.SignaturePrefix))
		if got := apichannel.VerifySignature(secret, body, header); got != matches {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v, want %v", secret, body, header, got, matches)
		}
		if secret != "" {
			if !apichannel.VerifySignature(secret, body, want) {
				t.Fatalf("Sign's own signature %q does not verify", want)
			}
			if apichannel.VerifySignature(secret, append(body, '.'), want) {
				t.Fatalf("signature %q verifies another body", want)
			}
		}
	})
}
