package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/linedesk/linedesk/activities"
	"github.com/linedesk/linedesk/api"
	"github.com/linedesk/linedesk/blobstore"
	"github.com/linedesk/linedesk/connectors/smtpmail"
	"github.com/linedesk/linedesk/inbound"
	"github.com/linedesk/linedesk/netguard"
	"github.com/linedesk/linedesk/secretbox"
	"github.com/linedesk/linedesk/store"
	"github.com/linedesk/linedesk/store/localpg"
	"github.com/linedesk/linedesk/worker"
	"github.com/linedesk/linedesk/worker/devserver"
	"github.com/linedesk/linedesk/worker/webhooks"
)

// shutdownTimeout bounds how long in-flight HTTP requests may take to finish on stop.
const shutdownTimeout = 10 * time.Second

// runDev runs the whole product in one process: PostgreSQL (found or started), the embedded
// Temporal server with its state in the data dir, the worker, the API and the Temporal UI.
func runDev(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	started := time.Now()
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	release, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	// Stop order on exit is the reverse of start: HTTP, worker, Temporal, then PostgreSQL, so
	// nothing loses its database while it still works; the data dir's lock goes last.
	cleanup := newStack(logger)
	defer cleanup.run()
	cleanup.push("data dir lock", func() error { release(); return nil })

	pg, err := localpg.Discover(ctx, localpg.Options{
		DatabaseURL:  cfg.DatabaseURL,
		DataDir:      dataDir,
		SharedDBName: devDatabaseName(dataDir),
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	cleanup.push("postgres", func() error { return pg.Stop(context.WithoutCancel(ctx)) })

	tstore, err := newTemporalStore(cfg, dataDir, pg.URL)
	if err != nil {
		return err
	}
	if cfg.Reset {
		if err := store.Wipe(ctx, pg.URL); err != nil {
			return err
		}
		if err := tstore.Wipe(ctx); err != nil {
			return err
		}
		logger.Warn("reset: deleted the database's linedesk data and the Temporal store",
			"database", localpg.Redact(pg.URL), "temporal_store", tstore.String())
	}
	box, err := devSecretsBox(cfg, dataDir)
	if err != nil {
		return err
	}
	storageURL := cfg.StorageURL
	if storageURL == "" {
		storageURL = "file://" + filepath.Join(dataDir, "files")
	}
	blobs, err := blobstore.Open(storageURL)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, pg.URL, box, blobs, logger)
	if err != nil {
		return err
	}
	cleanup.push("database pool", func() error { st.Pool().Close(); return nil })
	if err := pairInstance(ctx, st, tstore, localpg.Redact(pg.URL), logger); err != nil {
		return err
	}
	if err := ensureAdmin(ctx, st, cfg, logger); err != nil {
		return err
	}

	tsOpts, err := tstore.Open(ctx)
	if err != nil {
		return err
	}
	tsOpts.Namespace = cfg.TemporalNamespace
	tsOpts.UIAddr = cfg.TemporalUIAddr
	tsOpts.FrontendAddr = cfg.TemporalAddr
	tsOpts.Logger = logger
	tsOpts.CacheSize = cfg.WorkflowCache
	// The SDK keeps one sticky cache per process, sized by whichever worker starts first: the
	// embedded server's own system workers start before linedesk's, so the size is set here.
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCache)
	ts, err := devserver.Start(tsOpts)
	if err != nil {
		return err
	}
	cleanup.push("temporal", ts.Stop)

	m, err := newMetrics()
	if err != nil {
		return err
	}
	tc, err := client.DialContext(ctx, client.Options{
		HostPort:       ts.HostPort(),
		Namespace:      cfg.TemporalNamespace,
		Logger:         sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		MetricsHandler: m.temporal,
	})
	if err != nil {
		return fmt.Errorf("connect to the embedded temporal: %w", err)
	}
	cleanup.push("temporal client", func() error { tc.Close(); return nil })

	mail, err := newMailer(cfg)
	if err != nil {
		return err
	}
	callbacks := netguard.Policy{AllowPrivate: cfg.AllowPrivateCallbacks}.Client()
	w := worker.New(tc, worker.Deps{Store: st, Logger: logger, Mail: mail, HTTPClient: callbacks})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	cleanup.push("worker", func() error { w.Stop(); return nil })
	go webhooks.New(st, callbacks, logger).Run(ctx)

	if err := refuseDefaultPasswordBeyondLoopback(ctx, st, cfg); err != nil {
		return err
	}
	hand := inbound.New(st, tc, logger)
	go hand.Run(ctx)
	deps := api.Deps{Store: st, Temporal: tc, Logger: logger, Metrics: m.handler, SecureCookies: cfg.SecureCookies, Inbound: hand,
		AllowedHosts: cfg.allowedHosts(), MetricsToken: cfg.MetricsToken, AllowPrivateCallbacks: cfg.AllowPrivateCallbacks, TrustedProxies: cfg.TrustedProxies,
		PublicURL: cfg.PublicURL, VK: cfg.VK, SSO: cfg.SSO}
	handler := api.New(deps)
	// Telegram channels set to long polling pull their updates from here.
	go api.RunPolling(ctx, deps)
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	fmt.Fprintf(stdout, "\nlinedesk is ready in %s\n", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "  console:     http://%s/\n", ln.Addr())
	fmt.Fprintf(stdout, "  login:       %s / %s\n", cfg.AdminEmail, adminPasswordHint(cfg))
	if cfg.TemporalUIAddr != "" {
		fmt.Fprintf(stdout, "  temporal ui: http://%s/\n", cfg.TemporalUIAddr)
	}
	fmt.Fprintf(stdout, "  data:        %s\n  database:    %s\nPress Ctrl-C to stop.\n\n", dataDir, localpg.Redact(pg.URL))
	return serveHTTP(ctx, ln, handler, logger)
}

// runAPI serves the HTTP API against an external Temporal and PostgreSQL.
func runAPI(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, tc, m, err := connectExternal(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Pool().Close()
	defer tc.Close()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	logger.Info("api listening", "addr", ln.Addr().String())
	// Every api replica dispatches: it hands its own messages over at once, and takes over what
	// another left behind.
	hand := inbound.New(st, tc, logger)
	go hand.Run(ctx)
	deps := api.Deps{Store: st, Temporal: tc, Logger: logger, SecureCookies: cfg.SecureCookies, Inbound: hand,
		AllowedHosts: cfg.allowedHosts(), MetricsToken: cfg.MetricsToken, AllowPrivateCallbacks: cfg.AllowPrivateCallbacks, TrustedProxies: cfg.TrustedProxies,
		PublicURL: cfg.PublicURL, VK: cfg.VK, SSO: cfg.SSO}
	if cfg.PublicURL == "" {
		logger.Warn("LINEDESK_PUBLIC_URL is not set: the API answers for any host name, which DNS rebinding can abuse")
	}
	// The api listener is public: /metrics is served on it only behind a token.
	if cfg.MetricsToken != "" {
		deps.Metrics = m.handler
	} else {
		logger.Info("/metrics is off on the api listener; set LINEDESK_METRICS_TOKEN to serve it")
	}
	// Telegram channels set to long polling pull their updates from one api replica at a time.
	go api.RunPolling(ctx, deps)
	return serveHTTP(ctx, ln, api.New(deps), logger)
}

// runWorker runs the Temporal worker; its HTTP address serves only health and metrics.
func runWorker(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, tc, m, err := connectExternal(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Pool().Close()
	defer tc.Close()
	mail, err := newMailer(cfg)
	if err != nil {
		return err
	}
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCache)
	// Callbacks and webhooks go to URLs admins typed in: only through the guarded client.
	callbacks := netguard.Policy{AllowPrivate: cfg.AllowPrivateCallbacks}.Client()
	w := worker.New(tc, worker.Deps{Store: st, Logger: logger, Mail: mail, HTTPClient: callbacks})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	// Every worker replica dispatches webhooks; claims keep them from sending one delivery twice.
	go webhooks.New(st, callbacks, logger).Run(ctx)
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	logger.Info("worker running", "task_queue", worker.TaskQueue(), "ops_addr", ln.Addr().String())
	return serveHTTP(ctx, ln, api.NewOps(api.Deps{Store: st, Temporal: tc, Logger: logger, Metrics: m.handler, MetricsToken: cfg.MetricsToken}), logger)
}

func runMigrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if err := localpg.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	box, err := secretbox.New(cfg.SecretsKey, cfg.SecretsOldKeys...)
	if err != nil {
		return err
	}
	var blobs blobstore.Store
	if cfg.StorageURL != "" {
		if blobs, err = blobstore.Open(cfg.StorageURL); err != nil {
			return err
		}
	} else {
		logger.Info("LINEDESK_STORAGE_URL is not set: files stored in the database before stay there until migrate runs with it")
	}
	st, err := openStore(ctx, cfg.DatabaseURL, box, blobs, logger)
	if err != nil {
		return err
	}
	defer st.Pool().Close()
	logger.Info("migrations applied")
	if !cfg.AdminPasswordSet {
		logger.Info("no first admin created: set LINEDESK_ADMIN_EMAIL and LINEDESK_ADMIN_PASSWORD to create one on an empty database")
		return nil
	}
	return ensureAdmin(ctx, st, cfg, logger)
}

// newMailer returns the system mailer, or nil when LINEDESK_SMTP_HOST is not set.
func newMailer(cfg Config) (activities.Mailer, error) {
	if cfg.SMTP.Host == "" {
		return nil, nil
	}
	m, err := smtpmail.New(cfg.SMTP)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return m, nil
}

// connectExternal opens PostgreSQL (DATABASE_URL) and Temporal (the SDK's TEMPORAL_* variables
// and config file) for the split deployment. The schema must already be migrated.
func connectExternal(ctx context.Context, cfg Config, logger *slog.Logger) (*store.Store, client.Client, *metrics, error) {
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := newMetrics()
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("temporal client config: %w", err)
	}
	opts.Logger = sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk"))
	opts.MetricsHandler = m.temporal
	// After Temporal was away, try again every few seconds: gRPC's default backoff grows to two
	// minutes, so after a long outage messages accepted meanwhile could wait that much longer.
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
		MinConnectTimeout: 5 * time.Second,
	}))
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	box, err := secretbox.New(cfg.SecretsKey, cfg.SecretsOldKeys...)
	if err != nil {
		pool.Close()
		tc.Close()
		return nil, nil, nil, err
	}
	blobs, err := blobstore.Open(cfg.StorageURL)
	if err != nil {
		pool.Close()
		tc.Close()
		return nil, nil, nil, err
	}
	logger.Info("attachment storage", "storage", blobs.String())
	return store.New(pool).WithSecrets(box).WithBlobs(blobs), tc, m, nil
}

// openStore migrates the schema, then seals the secrets stored before sealing existed or under
// an older key, so the database holds only values the current key opens.
func openStore(ctx context.Context, databaseURL string, box *secretbox.Box, blobs blobstore.Store, logger *slog.Logger) (*store.Store, error) {
	if err := store.Migrate(ctx, databaseURL); err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	logger.Debug("database migrated")
	st := store.New(pool).WithSecrets(box)
	n, err := st.SealSecrets(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("seal stored secrets (is LINEDESK_SECRETS_KEY the key they were sealed with?): %w", err)
	}
	if n > 0 {
		logger.Info("sealed stored secrets with the current key", "values", n)
	}
	if blobs == nil {
		return st, nil
	}
	st = st.WithBlobs(blobs)
	moved, err := st.MoveFilesToBlobs(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("move stored files to %s: %w", blobs, err)
	}
	if moved > 0 {
		logger.Info("moved files from the database to the attachment storage", "files", moved, "storage", blobs.String())
	}
	return st, nil
}

// secretsKeyFile is where dev keeps its secrets key when LINEDESK_SECRETS_KEY is not set.
const secretsKeyFile = "secrets.key"

// devSecretsBox returns dev's secrets box: the configured key, or the data dir's own, made on
// the first start (readable by its owner only).
func devSecretsBox(cfg Config, dataDir string) (*secretbox.Box, error) {
	if cfg.SecretsKey != nil {
		return secretbox.New(cfg.SecretsKey, cfg.SecretsOldKeys...)
	}
	path := filepath.Join(dataDir, secretsKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		raw = []byte(secretbox.EncodeKey(secretbox.NewKey()) + "\n")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return nil, fmt.Errorf("write secrets key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read secrets key: %w", err)
	}
	k, err := secretbox.ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secretbox.New(k, cfg.SecretsOldKeys...)
}

// ensureAdmin creates the first admin on an empty database.
func ensureAdmin(ctx context.Context, st *store.Store, cfg Config, logger *slog.Logger) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	u, err := st.CreateUser(ctx, store.NewUser{Email: cfg.AdminEmail, Name: "Admin", Password: cfg.AdminPassword, Role: store.RoleAdmin})
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	logger.Info("created the first admin", "email", u.Email)
	return nil
}

// defaultAdminPassword is the first admin's password in dev when none is given.
const defaultAdminPassword = "admin"

// refuseDefaultPasswordBeyondLoopback stops dev from serving beyond this machine while the
// first admin still signs in with the default password.
func refuseDefaultPasswordBeyondLoopback(ctx context.Context, st *store.Store, cfg Config) error {
	if cfg.listensOnLoopbackOnly() {
		return nil
	}
	_, err := st.Authenticate(ctx, cfg.AdminEmail, defaultAdminPassword)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("linedesk dev listens on %s, beyond this machine, and %s still has the default password %q: "+
		"start it once on 127.0.0.1 and change the password, or start on an empty database with --admin-password",
		cfg.HTTPAddr, cfg.AdminEmail, defaultAdminPassword)
}

func adminPasswordHint(cfg Config) string {
	if cfg.AdminPasswordSet {
		return "(the password you set)"
	}
	return cfg.AdminPassword
}

// serveHTTP serves until ctx ends, then lets in-flight requests finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	closing := make(chan struct{})
	srv.BaseContext = func(net.Listener) context.Context { return api.WithShutdown(context.Background(), closing) }
	srv.RegisterOnShutdown(func() { close(closing) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// stack runs cleanup functions in reverse order, logging failures.
type stack struct {
	logger *slog.Logger
	names  []string
	fns    []func() error
}

func newStack(logger *slog.Logger) *stack { return &stack{logger: logger} }

func (s *stack) push(name string, fn func() error) {
	s.names = append(s.names, name)
	s.fns = append(s.fns, fn)
}

func (s *stack) run() {
	for i := len(s.fns) - 1; i >= 0; i-- {
		if err := s.fns[i](); err != nil {
			s.logger.Error("stop "+s.names[i], "error", err)
		}
	}
}
