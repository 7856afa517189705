package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/connectors/smtpmail"
	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/telemetry"
)

// Config is every setting linedesk reads, from the environment with command-line flags on top.
// README.md's configuration table lists the same variables.
type Config struct {
	Command string

	DataDir        string // LINEDESK_DATA_DIR
	DatabaseURL    string // DATABASE_URL
	HTTPAddr       string // LINEDESK_HTTP_ADDR
	TemporalUIAddr string // LINEDESK_TEMPORAL_UI_ADDR (dev only)
	TemporalAddr   string // LINEDESK_TEMPORAL_ADDR (dev only): the embedded frontend's gRPC address, empty picks a free port
	AdminEmail     string // LINEDESK_ADMIN_EMAIL
	AdminPassword  string // LINEDESK_ADMIN_PASSWORD
	// AdminPasswordSet is true when the password was given rather than defaulted; migrate
	// creates the first admin only then, so production never gets admin/admin.
	AdminPasswordSet bool
	LogFormat        string // LINEDESK_LOG_FORMAT: text or json
	LogLevel         slog.Level
	SecureCookies    bool   // LINEDESK_SECURE_COOKIES
	PprofAddr        string // LINEDESK_PPROF_ADDR: Go profiling endpoints, off when empty
	// PublicURL is the address people and platforms reach linedesk at (LINEDESK_PUBLIC_URL);
	// requests for any other host are refused. Empty: dev answers only for loopback names, api
	// for any host.
	PublicURL string
	// VK is the VK app communities connect through with VK's OAuth (LINEDESK_VK_APP_ID,
	// LINEDESK_VK_APP_SECRET; LINEDESK_VK_OAUTH_URL and LINEDESK_VK_API_URL point at a fake in
	// tests and staging). Without one, admins paste community tokens.
	VK api.VKApp
	// SSO is the OpenID Connect provider operators sign in through (LINEDESK_OIDC_*,
	// config_sso.go); an empty issuer turns it off.
	SSO api.SSOConfig
	// MetricsToken is the bearer token /metrics wants (LINEDESK_METRICS_TOKEN). api serves
	// /metrics only with one; dev and the worker's ops address serve it without one unless it is set.
	MetricsToken string
	// AllowPrivateCallbacks lets callback and webhook URLs point at loopback, private and
	// link-local addresses (LINEDESK_ALLOW_PRIVATE_CALLBACKS); metadata addresses stay refused.
	// Default false, true in dev (integrations on a laptop run on localhost).
	AllowPrivateCallbacks bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client
	// (LINEDESK_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges). Empty: the
	// connection's peer is the client.
	TrustedProxies []*net.IPNet

	// SecretsKey seals the secrets kept in PostgreSQL (LINEDESK_SECRETS_KEY: 32 random bytes in
	// base64); SecretsOldKeys (LINEDESK_SECRETS_OLD_KEYS, comma-separated) still open values
	// sealed before a rotation. Required for api, worker and migrate; dev keeps one in its data dir.
	SecretsKey     []byte
	SecretsOldKeys [][]byte

	// StorageURL is where attachments' bytes live (LINEDESK_STORAGE_URL): file:///dir (a volume
	// every api and worker shares) or s3://bucket/prefix?endpoint=…; dev defaults to its data
	// dir's files directory.
	StorageURL string

	// SMTP is the system mail server for emailing solutions (LINEDESK_SMTP_*); Host "" turns mail off.
	SMTP smtpmail.Config

	// TemporalDB is where dev's embedded Temporal server keeps its state (LINEDESK_TEMPORAL_DB):
	// "sqlite", a file in the data dir, or "postgres", databases beside linedesk's.
	TemporalDB string
	// WorkflowCache is how many workflows the worker keeps in memory between their events (the
	// SDK's sticky cache) and, in dev, how many the embedded server caches too. An evicted one is
	// replayed from its history on its next event.
	WorkflowCache int

	// Reset (dev only, flag --reset) wipes dev's database and Temporal store before starting.
	// It has no environment variable on purpose: one left set in a shell would wipe every start.
	Reset bool

	// DryRun (rotate-key only, flag --dry-run) checks that every stored secret opens and counts
	// what a rotation would re-seal, changing nothing.
	DryRun bool
	// Backup is what `linedesk backup` dumps and where (backup.go).
	Backup BackupConfig

	// TemporalNamespace is the namespace the embedded dev server creates; api and worker read
	// TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the SDK's other TEMPORAL_* variables themselves.
	TemporalNamespace string
}

// The stores dev's embedded Temporal server can keep its state in.
const (
	temporalDBSQLite   = "sqlite"
	temporalDBPostgres = "postgres"
)

// loadConfig reads the environment through lookupEnv (os.LookupEnv in main) and then the
// command's flags from args. A variable set to "" counts as set: LINEDESK_TEMPORAL_UI_ADDR=""
// turns the UI off.
func loadConfig(command string, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v, ok := lookupEnv(key); ok {
			return v
		}
		return def
	}
	defaultHTTP := "127.0.0.1:8080"
	if command == "worker" {
		defaultHTTP = "127.0.0.1:8081" // the worker serves only /healthz, /readyz and /metrics
	}
	defaultFormat := "json"
	if command == "dev" {
		defaultFormat = "text"
	}
	cfg := Config{Command: command}
	fs := flag.NewFlagSet("linedesk "+command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", env("LINEDESK_DATA_DIR", ".linedesk"), "directory for dev state (Temporal SQLite file, private PostgreSQL)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL URL")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", env("LINEDESK_HTTP_ADDR", defaultHTTP), "HTTP listen address")
	fs.StringVar(&cfg.TemporalUIAddr, "temporal-ui-addr", env("LINEDESK_TEMPORAL_UI_ADDR", "127.0.0.1:8233"), "Temporal Web UI address in dev (empty turns it off)")
	fs.StringVar(&cfg.TemporalAddr, "temporal-addr", env("LINEDESK_TEMPORAL_ADDR", ""), "embedded Temporal frontend's gRPC address in dev (empty: a free loopback port)")
	fs.StringVar(&cfg.AdminEmail, "admin-email", env("LINEDESK_ADMIN_EMAIL", "admin@example.com"), "first admin's email, created on an empty database")
	fs.StringVar(&cfg.AdminPassword, "admin-password", env("LINEDESK_ADMIN_PASSWORD", defaultAdminPassword), "first admin's password")
	fs.StringVar(&cfg.LogFormat, "log-format", env("LINEDESK_LOG_FORMAT", defaultFormat), "log format: text or json")
	level := fs.String("log-level", env("LINEDESK_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	secure := fs.String("secure-cookies", env("LINEDESK_SECURE_COOKIES", "false"), "mark session cookies Secure (behind HTTPS)")
	secretsKey := fs.String("secrets-key", env("LINEDESK_SECRETS_KEY", ""), "key sealing channel credentials and secrets in the database: 32 random bytes in base64 (openssl rand -base64 32); dev keeps one in its data dir")
	secretsOld := fs.String("secrets-old-keys", env("LINEDESK_SECRETS_OLD_KEYS", ""), "comma-separated keys used before the current one (values sealed with them still open; linedesk rotate-key re-seals them with the current key)")
	fs.StringVar(&cfg.StorageURL, "storage-url", env("LINEDESK_STORAGE_URL", ""), "where attachments live: file:///dir or s3://bucket/prefix?endpoint=host&region=…; dev: <data dir>/files")
	fs.StringVar(&cfg.SMTP.Host, "smtp-host", env("LINEDESK_SMTP_HOST", ""), "SMTP server for emailing solutions (empty: no mail)")
	smtpPort := fs.String("smtp-port", env("LINEDESK_SMTP_PORT", ""), "SMTP port (default 587, or 465 with tls)")
	fs.StringVar(&cfg.SMTP.Username, "smtp-username", env("LINEDESK_SMTP_USERNAME", ""), "SMTP user (empty: no authentication)")
	fs.StringVar(&cfg.SMTP.Password, "smtp-password", env("LINEDESK_SMTP_PASSWORD", ""), "SMTP password")
	fs.StringVar(&cfg.SMTP.From, "smtp-from", env("LINEDESK_SMTP_FROM", ""), "sender address, e.g. \"Support <support@example.com>\"")
	fs.StringVar(&cfg.SMTP.TLS, "smtp-tls", env("LINEDESK_SMTP_TLS", "starttls"), "starttls, tls or none")
	fs.StringVar(&cfg.PublicURL, "public-url", env("LINEDESK_PUBLIC_URL", ""), "the address people and platforms reach linedesk at, e.g. https://desk.example.com (requests for other hosts are refused)")
	fs.StringVar(&cfg.VK.AppID, "vk-app-id", env("LINEDESK_VK_APP_ID", ""), "VK app id for connecting communities through VK's OAuth (empty: admins paste community tokens)")
	fs.StringVar(&cfg.VK.AppSecret, "vk-app-secret", env("LINEDESK_VK_APP_SECRET", ""), "the VK app's secure key")
	fs.StringVar(&cfg.VK.OAuthURL, "vk-oauth-url", env("LINEDESK_VK_OAUTH_URL", ""), "VK's OAuth server (empty: https://oauth.vk.com)")
	fs.StringVar(&cfg.VK.APIURL, "vk-api-url", env("LINEDESK_VK_API_URL", ""), "VK's API (empty: https://api.vk.com)")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", env("LINEDESK_METRICS_TOKEN", ""), "bearer token for /metrics (api serves /metrics only with one)")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", env("LINEDESK_PPROF_ADDR", ""), "serve Go's /debug/pprof here (empty: off)")
	fs.StringVar(&cfg.TemporalNamespace, "temporal-namespace", env("TEMPORAL_NAMESPACE", "default"), "Temporal namespace")
	fs.StringVar(&cfg.TemporalDB, "temporal-db", env("LINEDESK_TEMPORAL_DB", temporalDBSQLite),
		"dev only: where the embedded Temporal keeps its state: sqlite (a file in the data dir) or postgres (databases <db>_temporal and <db>_temporal_visibility beside linedesk's)")
	defaultPrivate := "false"
	if command == "dev" {
		defaultPrivate = "true"
	}
	allowPrivate := fs.String("allow-private-callbacks", env("LINEDESK_ALLOW_PRIVATE_CALLBACKS", defaultPrivate),
		"let callback and webhook URLs point at loopback, private and link-local addresses (never cloud metadata)")
	proxies := fs.String("trusted-proxies", env("LINEDESK_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDR ranges of the reverse proxies in front of linedesk; their X-Forwarded-For names the client (empty: the connection's peer is the client)")
	workflowCache := fs.String("workflow-cache", env("LINEDESK_WORKFLOW_CACHE", "1000"),
		"workflows kept in memory between events by the worker (and, in dev, the embedded Temporal)")
	readSSO := ssoFlags(fs, env)
	if command == "dev" {
		fs.BoolVar(&cfg.Reset, "reset", false, "delete the database's linedesk data and the Temporal store, then start clean "+
			"(the way out when the database belongs to another data dir; flag only, no environment variable)")
	}
	switch command {
	case "rotate-key":
		fs.BoolVar(&cfg.DryRun, "dry-run", false, "check that every stored secret opens and count what would be re-sealed, changing nothing")
	case "backup":
		cfg.Backup.addFlags(fs, env)
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	_, cfg.AdminPasswordSet = lookupEnv("LINEDESK_ADMIN_PASSWORD")
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "admin-password" {
			cfg.AdminPasswordSet = true
		}
	})
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	var problems []error
	if n, err := strconv.Atoi(*workflowCache); err != nil || n < 1 {
		problems = append(problems, fmt.Errorf("LINEDESK_WORKFLOW_CACHE: %q is not a positive number", *workflowCache))
	} else {
		cfg.WorkflowCache = n
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		problems = append(problems, fmt.Errorf("LINEDESK_LOG_LEVEL: %q is not debug, info, warn or error", *level))
	}
	switch strings.ToLower(*secure) {
	case "1", "true", "yes", "on":
		cfg.SecureCookies = true
	case "0", "false", "no", "off", "":
	default:
		problems = append(problems, fmt.Errorf("LINEDESK_SECURE_COOKIES: %q is not true or false", *secure))
	}
	switch strings.ToLower(*allowPrivate) {
	case "1", "true", "yes", "on":
		cfg.AllowPrivateCallbacks = true
	case "0", "false", "no", "off", "":
	default:
		problems = append(problems, fmt.Errorf("LINEDESK_ALLOW_PRIVATE_CALLBACKS: %q is not true or false", *allowPrivate))
	}
	for _, given := range strings.Split(*proxies, ",") {
		given = strings.TrimSpace(given)
		if given == "" {
			continue
		}
		n, err := proxyRange(given)
		if err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_TRUSTED_PROXIES: %q is not an address or a CIDR range like 192.0.2.10 or 10.1.2.0/24", given))
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, n)
	}
	if *smtpPort != "" {
		p, err := strconv.Atoi(*smtpPort)
		if err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_SMTP_PORT: %q is not a number", *smtpPort))
		}
		cfg.SMTP.Port = p
	}
	if cfg.SMTP.Host != "" {
		if err := cfg.SMTP.Validate(); err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_SMTP_*: %w", err))
		}
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		problems = append(problems, fmt.Errorf("LINEDESK_LOG_FORMAT: %q is not text or json", cfg.LogFormat))
	}
	if _, _, err := net.SplitHostPort(cfg.HTTPAddr); err != nil {
		problems = append(problems, fmt.Errorf("LINEDESK_HTTP_ADDR: %q is not host:port", cfg.HTTPAddr))
	}
	if cfg.TemporalUIAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.TemporalUIAddr); err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_TEMPORAL_UI_ADDR: %q is not host:port", cfg.TemporalUIAddr))
		}
	}
	if command == "dev" && !cfg.AdminPasswordSet && !cfg.listensOnLoopbackOnly() {
		problems = append(problems, fmt.Errorf("LINEDESK_HTTP_ADDR %s is reachable beyond this machine: set LINEDESK_ADMIN_PASSWORD "+
			"(the default %q is only for loopback)", cfg.HTTPAddr, defaultAdminPassword))
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			problems = append(problems, fmt.Errorf("LINEDESK_PUBLIC_URL: %q is not an http(s) URL like https://desk.example.com", cfg.PublicURL))
		}
	}
	sso, ssoProblems := readSSO(cfg.PublicURL)
	cfg.SSO, problems = sso, append(problems, ssoProblems...)
	if cfg.TemporalDB != temporalDBSQLite && cfg.TemporalDB != temporalDBPostgres {
		problems = append(problems, fmt.Errorf("LINEDESK_TEMPORAL_DB: %q is not sqlite or postgres", cfg.TemporalDB))
	}
	if *secretsKey != "" {
		k, err := secretbox.ParseKey(*secretsKey)
		if err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_SECRETS_KEY: %w", err))
		}
		cfg.SecretsKey = k
	} else if command != "dev" && command != "backup" {
		problems = append(problems, errors.New("LINEDESK_SECRETS_KEY is required for linedesk "+command+
			": 32 random bytes in base64 that seal channel credentials in the database (make one with `openssl rand -base64 32`; every api, worker and migrate needs the same)"))
	}
	for _, s := range strings.Split(*secretsOld, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		k, err := secretbox.ParseKey(s)
		if err != nil {
			problems = append(problems, fmt.Errorf("LINEDESK_SECRETS_OLD_KEYS: %w", err))
			continue
		}
		cfg.SecretsOldKeys = append(cfg.SecretsOldKeys, k)
	}
	switch {
	case cfg.StorageURL != "":
		if u, err := url.Parse(cfg.StorageURL); err != nil || (u.Scheme != "file" && u.Scheme != "s3") {
			problems = append(problems, fmt.Errorf("LINEDESK_STORAGE_URL: %q is not file:///dir or s3://bucket/prefix?endpoint=…", cfg.StorageURL))
		}
	case command == "api" || command == "worker":
		problems = append(problems, errors.New("LINEDESK_STORAGE_URL is required for linedesk "+command+
			": where attachments live, the same for every api and worker (file:///var/lib/linedesk/files on a shared volume, or s3://bucket/prefix?endpoint=host for S3-compatible storage)"))
	}
	if command == "backup" {
		problems = append(problems, cfg.Backup.problems(cfg.DatabaseURL)...)
	}
	if command != "dev" && cfg.DatabaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is required for linedesk "+command))
	}
	if (command == "dev" || command == "migrate") && (cfg.AdminEmail == "" || cfg.AdminPassword == "") {
		problems = append(problems, errors.New("LINEDESK_ADMIN_EMAIL and LINEDESK_ADMIN_PASSWORD must not be empty"))
	}
	return cfg, errors.Join(problems...)
}

// newLogger builds the one logger passed down everywhere: text in dev, JSON otherwise.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	// Lines written with a request's or an activity's context carry its ids (request_id,
	// conversation, workflow_id): the telemetry handler adds them.
	if cfg.LogFormat == "text" {
		return slog.New(telemetry.NewHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(telemetry.NewHandler(slog.NewJSONHandler(w, opts)))
}

// loopbackHosts are the names a browser on this machine uses for a loopback server.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// allowedHosts are the host names the HTTP API answers for: the public URL's, and in dev the
// loopback names and the address dev listens on. Nil: any host (api without a public URL).
func (cfg Config) allowedHosts() []string {
	var hosts []string
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	if cfg.Command == "dev" {
		hosts = append(hosts, loopbackHosts...)
		if h, _, err := net.SplitHostPort(cfg.HTTPAddr); err == nil && h != "" {
			if ip := net.ParseIP(h); (ip == nil || !ip.IsUnspecified()) && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}

// listensOnLoopbackOnly reports whether the HTTP address is reachable only from this machine.
func (cfg Config) listensOnLoopbackOnly() bool {
	h, _, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// proxyRange reads a trusted proxy: an address (that address alone) or a CIDR range. An
// IPv4-mapped IPv6 form (::ffff:10.0.0.1) means the IPv4 address, as the peer is seen.
func proxyRange(s string) (*net.IPNet, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return nil, err
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%s reaches beyond the IPv4-mapped range", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}, nil
}
