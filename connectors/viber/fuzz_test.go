package viber_test

import (
	"strings"
	"testing"

	"github.com/linedesk/linedesk/connectors/viber"
)

// FuzzVerifySignature: X-Viber-Content-Signature verifies exactly when it is the hex HMAC of the
// body under the bot's token (hex in either case); an empty token never verifies, the signature
// Sign makes always does, and it does not verify another body.
func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"event":"seen","timestamp":1457764197627,"message_token":1,"user_id":"u"}`)
	f.Add("token-1", body, viber.Sign("token-1", body))
	f.Add("token-1", body, strings.ToUpper(viber.Sign("token-1", body)))
	f.Add("", body, viber.Sign("", body))
	f.Add("t", []byte{}, "")
	f.Add("t", body, "zz")
	f.Add("t", body, " "+viber.Sign("t", body))
	f.Fuzz(func(t *testing.T, token string, body []byte, header string) {
		want := viber.Sign(token, body)
		matches := token != "" && strings.EqualFold(header, want)
		if got := viber.VerifySignature(token, body, header); got != matches {
			t.Fatalf("VerifySignature(%q, %q, %q) = %v, want %v", token, body, header, got, matches)
		}
		if token != "" {
			if !viber.VerifySignature(token, body, want) {
				t.Fatalf("Sign's own signature %q does not verify", want)
			}
			if viber.VerifySignature(token, append(body, '.'), want) {
				t.Fatalf("signature %q verifies another body", want)
			}
		}
	})
}
