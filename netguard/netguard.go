// Package netguard keeps linedesk's outgoing HTTP calls to URLs that admins type in (an api
// channel's callback, outbound webhooks) away from this machine, its private network and the
// cloud's metadata service: a stored URL must not turn linedesk into a way to reach what only
// linedesk can reach.
//
// The URL is checked when it is saved (CheckURL, for a clear 400), and the address actually
// dialled is checked again on every connection (Policy.Client): a name that resolved to a public
// address at save time may resolve elsewhere later (DNS rebinding).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned (wrapped) for a target the policy refuses.
var ErrForbiddenAddress = errors.New("address not allowed")

// metadata are the cloud providers' instance metadata addresses. They are refused even when
// private targets are allowed: nothing an integrator runs lives there, and they hand out
// credentials.
var metadata = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, DigitalOcean…
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure host agent (wire server)
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// blocked are ranges that are never a public service, beyond what netip's predicates name.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2002::/16"),       // 6to4 can wrap any IPv4 address
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// nat64 is the well-known NAT64 prefix (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// CheckAddr says whether an address may be called: never a metadata address, an unspecified
// or multicast one; loopback, private, link-local and reserved ones only when allowPrivate.
func CheckAddr(ip netip.Addr, allowPrivate bool) error {
	ip = ip.Unmap()
	// The well-known NAT64 prefix reaches the IPv4 address in its last 32 bits: that address
	// is what gets called, so it answers to the same rules.
	if nat64.Contains(ip) {
		b := ip.As16()
		if err := CheckAddr(netip.AddrFrom4([4]byte(b[12:])), allowPrivate); err != nil {
			return fmt.Errorf("%s translates to %w", ip, err)
		}
		return nil
	}
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%s is a cloud metadata address: %w", ip, ErrForbiddenAddress)
		}
	}
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%s is not a unicast address: %w", ip, ErrForbiddenAddress)
	}
	if allowPrivate {
		return nil
	}
	switch {
	case ip.IsLoopback():
		return fmt.Errorf("%s is a loopback address: %w", ip, ErrForbiddenAddress)
	case ip.IsPrivate():
		return fmt.Errorf("%s is a private address: %w", ip, ErrForbiddenAddress)
	case ip.IsLinkLocalUnicast():
		return fmt.Errorf("%s is a link-local address: %w", ip, ErrForbiddenAddress)
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("%s is in reserved range %s: %w", ip, p, ErrForbiddenAddress)
		}
	}
	return nil
}

// Resolver looks up a host's addresses (net.DefaultResolver in production).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL checks a URL an admin saves: http or https, a host, no user name or password in it,
// and every address the host resolves to allowed (see CheckAddr). The error says what is wrong
// in words fit for the admin.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	return checkURL(ctx, net.DefaultResolver, raw, allowPrivate)
}

func checkURL(ctx context.Context, r Resolver, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an http or https URL")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password; authenticate with the signature instead")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("has no host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := CheckAddr(ip, allowPrivate); err != nil {
			return fmt.Errorf("is refused: %w", err)
		}
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); !allowPrivate && (h == "localhost" || strings.HasSuffix(h, ".localhost")) {
		return fmt.Errorf("points at this machine (%s): %w", host, ErrForbiddenAddress)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("host %q does not resolve", host)
	}
	for _, a := range addrs {
		if err := CheckAddr(a, allowPrivate); err != nil {
			return fmt.Errorf("is refused: host %q resolves to %s (%w)", host, a, err)
		}
	}
	return nil
}

// Policy builds HTTP clients for calls to admin-entered URLs.
type Policy struct {
	// AllowPrivate lets calls reach loopback, private and link-local addresses (a desk whose
	// integrations run on its own network, or a laptop). Metadata addresses stay refused.
	AllowPrivate bool
	// Timeout bounds one whole request, answer included (0: 15 s).
	Timeout time.Duration
}

// Control is a net.Dialer Control function that refuses a connection to an address the policy
// does not allow. It runs after name resolution, on the address actually dialled.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
	}
	if err := CheckAddr(ap.Addr(), p.AllowPrivate); err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	return nil
}

// Client returns an HTTP client whose every connection passes Control, with timeouts, no proxy
// (a proxy would dial on our behalf, out of Control's sight) and no redirects followed: a
// callback is a POST, and a redirect could point anywhere.
func (p Policy) Client() *http.Client {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: p.Control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
