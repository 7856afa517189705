package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeResolver answers every name with the same addresses.
type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if len(f) == 0 {
		return nil, errors.New("no such host")
	}
	return f, nil
}

func TestCheckURL(t *testing.T) {
	public := fakeResolver{netip.MustParseAddr("93.184.215.14")}
	tests := []struct {
		name         string
		url          string
		resolver     fakeResolver
		allowPrivate bool
		wantErr      string // empty: allowed
	}{
		{name: "public https", url: "https://hooks.example.com/in", resolver: public},
		{name: "public http with port", url: "http://hooks.example.com:8080/in", resolver: public},
		{name: "public IP", url: "https://93.184.215.14/in"},
		{name: "credentials", url: "https://user:pass@hooks.example.com/in", resolver: public, wantErr: "user name or password"},
		{name: "user name only", url: "https://user@hooks.example.com/in", resolver: public, wantErr: "user name or password"},
		{name: "credentials even when private allowed", url: "http://u:p@127.0.0.1/", allowPrivate: true, wantErr: "user name or password"},
		{name: "ftp", url: "ftp://hooks.example.com/in", wantErr: "http or https"},
		{name: "no host", url: "https:///in", wantErr: "no host"},
		{name: "not a URL", url: "::", wantErr: "not a URL"},
		{name: "metadata", url: "http://169.254.169.254/latest/meta-data/", wantErr: "metadata"},
		{name: "metadata even when private allowed", url: "http://169.254.169.254/", allowPrivate: true, wantErr: "metadata"},
		{name: "metadata over IPv6", url: "http://[fd00:ec2::254]/", allowPrivate: true, wantErr: "metadata"},
		{name: "metadata through NAT64", url: "http://[64:ff9b::a9fe:a9fe]/", allowPrivate: true, wantErr: "translates to 169.254.169.254 is a cloud metadata address"},
		{name: "private through NAT64", url: "http://[64:ff9b::a00:1]/", wantErr: "translates to 10.0.0.1 is a private address"},
		{name: "public through NAT64", url: "http://[64:ff9b::5db8:d822]/"},
		{name: "Azure wire server", url: "http://168.63.129.16/", allowPrivate: true, wantErr: "metadata"},
		{name: "metadata as mapped IPv6", url: "http://[::ffff:169.254.169.254]/", allowPrivate: true, wantErr: "metadata"},
		{name: "loopback", url: "http://127.0.0.1:9000/cb", wantErr: "loopback"},
		{name: "loopback allowed", url: "http://127.0.0.1:9000/cb", allowPrivate: true},
		{name: "IPv6 loopback", url: "http://[::1]/cb", wantErr: "loopback"},
		{name: "localhost by name", url: "http://localhost:9000/cb", wantErr: "this machine"},
		{name: "private", url: "http://10.1.2.3/cb", wantErr: "private"},
		{name: "private allowed", url: "http://192.168.1.10/cb", allowPrivate: true},
		{name: "link-local", url: "http://169.254.1.1/cb", wantErr: "link-local"},
		{name: "unspecified", url: "http://0.0.0.0/cb", allowPrivate: true, wantErr: "not a unicast"},
		{name: "carrier-grade NAT", url: "http://100.64.0.1/cb", wantErr: "reserved"},
		{name: "name resolving to private", url: "https://intranet.example.com/", resolver: fakeResolver{netip.MustParseAddr("10.0.0.5")}, wantErr: "resolves to 10.0.0.5"},
		{name: "name resolving to public and metadata", url: "https://mixed.example.com/",
			resolver: fakeResolver{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("169.254.169.254")}, wantErr: "metadata"},
		{name: "name that does not resolve", url: "https://nowhere.example.com/", resolver: fakeResolver{}, wantErr: "does not resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkURL(t.Context(), tt.resolver, tt.url, tt.allowPrivate)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestClientRefusesAtDialTime: whatever a URL looked like when it was saved, the client refuses
// to connect to a loopback address (what a name rebound to 127.0.0.1 would reach).
func TestClientRefusesAtDialTime(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++ }))
	defer srv.Close()

	_, err := Policy{}.Client().Get(srv.URL)
	require.ErrorIs(t, err, ErrForbiddenAddress)
	require.Zero(t, hits, "the server was never reached")

	res, err := Policy{AllowPrivate: true}.Client().Get(srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 1, hits)
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	reached := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer srv.Close()

	res, err := Policy{AllowPrivate: true}.Client().Post(srv.URL, "application/json", nil)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.False(t, reached)
}
