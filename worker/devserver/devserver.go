// Package devserver runs an embedded Temporal server for `linedesk dev`: all services in this
// process, state in a SQLite file (or in PostgreSQL databases) so workflows and timers survive a
// restart, and optionally the Temporal Web UI beside it. Production deployments use a Temporal
// cluster instead.
package devserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const host = "127.0.0.1"

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file holding all Temporal state (the sqlite profile).
	DatabaseFile string
	// Postgres, when set, keeps the state in PostgreSQL instead of DatabaseFile.
	Postgres *Postgres
	// Namespace is created on start if missing.
	Namespace string
	// UIAddr, when not empty, serves the Temporal Web UI there (host:port).
	UIAddr string
	// CacheSize is how many workflows' mutable state the history service keeps in memory
	// (0: 8096).
	CacheSize int
	// FrontendAddr, when not empty, is where the frontend's gRPC listens (a loopback host:port),
	// so tools such as linedesk-bench can reach this server; empty picks a free port.
	FrontendAddr string
	Logger       *slog.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	hostPort string
	server   temporal.Server
	ui       *uiserver.Server
	uiErr    chan error
	stopping *atomic.Bool
}

// HostPort is the frontend's gRPC address for clients.
func (s *Server) HostPort() string { return s.hostPort }

// Start creates the SQLite schema on first use, registers the namespace and starts every
// Temporal service on loopback ports.
func Start(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	frontendPort, httpPort := ports[0], ports[1]
	if opts.FrontendAddr != "" {
		if frontendPort, err = loopbackPort(opts.FrontendAddr); err != nil {
			return nil, err
		}
	}
	hostPort := net.JoinHostPort(host, strconv.Itoa(frontendPort))

	const clusterName = "active"
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("namespace config: %w", err)
	}
	stopping := &atomic.Bool{}
	logger := slogAdapter{log: opts.Logger.With("component", "temporal"), stopping: stopping}

	var conf config.Config
	if opts.Postgres != nil {
		if err := opts.Postgres.setup(&conf.Persistence, ns, logger); err != nil {
			return nil, err
		}
	} else if err := setupSQLite(&conf.Persistence, opts.DatabaseFile, ns); err != nil {
		return nil, err
	}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hostPort,
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(httpPort)),
				ClusterID:              "5b0e1ed2-0dd5-4c56-9d58-6c1c0a2b7a10", // fixed: one dev cluster per data dir
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(grpcPort, httpPort int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpcPort, HTTPPort: httpPort, BindOnIP: host}}
	}
	conf.Services = map[string]config.Service{
		"frontend": service(frontendPort, httpPort),
		"history":  service(ports[2], 0),
		"matching": service(ports[3], 0),
		"worker":   service(ports[4], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = hostPort

	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	hostsOf := func(svc string) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(conf.Services[svc].RPC.GRPCPort)))
	}
	cacheSize := opts.CacheSize
	if cacheSize <= 0 {
		cacheSize = 8096
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 cacheSize,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// The XDC cache keeps the last 20 s of written history events (8 MB by default) for
		// replication to other clusters; the embedded server is a single cluster and never reads
		// it, so it gets the smallest size the server allows (64 KB).
		dynamicconfig.XDCCacheMaxSizeBytes.Key(): 64 * 1024,
	}
	server, err := temporal.NewServer(
		temporal.WithConfig(&conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: hostsOf("frontend"),
			primitives.HistoryService:  hostsOf("history"),
			primitives.MatchingService: hostsOf("matching"),
			primitives.WorkerService:   hostsOf("worker"),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("new temporal server: %w", err)
	}
	if err := server.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{hostPort: hostPort, server: server, stopping: stopping}
	if opts.UIAddr != "" {
		if err := s.startUI(opts.UIAddr); err != nil {
			_ = server.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) startUI(addr string) error {
	uiHost, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("temporal ui address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("temporal ui port %q: %w", portStr, err)
	}
	// Fail fast with a clear message if the port is taken, rather than in the UI's goroutine.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("temporal ui address %s: %w", addr, err)
	}
	_ = l.Close()
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                uiHost,
		Port:                port,
		TemporalGRPCAddress: s.hostPort,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	s.uiErr = make(chan error, 1)
	go func() { s.uiErr <- s.ui.Start() }()
	return nil
}

// setupSQLite creates the SQLite schema on first use and the namespace if missing.
func setupSQLite(p *config.Persistence, file string, ns *sqliteschema.NamespaceConfig) error {
	main, visibility := sqliteConfig(file), sqliteConfig(VisibilityFile(file))
	for _, conf := range []*config.SQL{main, visibility} {
		if _, err := os.Stat(conf.DatabaseName); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(conf.DatabaseName), 0o755); err != nil {
				return fmt.Errorf("create temporal data dir: %w", err)
			}
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return fmt.Errorf("create temporal sqlite schema in %s: %w", conf.DatabaseName, err)
			}
		}
	}
	if err := sqliteschema.CreateNamespaces(main, ns); err != nil {
		return fmt.Errorf("create namespace: %w", err)
	}
	p.DefaultStore = "sqlite-default"
	// Visibility (Temporal's own list of workflows, for its UI; linedesk lists from PostgreSQL)
	// has a file and a connection of its own. Sharing the one connection of the main file, its
	// indexed inserts held up the history writes: measured with linedesk-bench while new chats
	// arrived, 30 % of the server's CPU went to visibility inserts, queued on the same writer.
	p.VisibilityStore = "sqlite-visibility"
	// SQLite has one writer, so more shards would only queue behind each other.
	p.NumHistoryShards = 1
	p.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: main}, "sqlite-visibility": {SQL: visibility}}
	return nil
}

// VisibilityFile is the SQLite file beside file that holds Temporal's visibility records.
func VisibilityFile(file string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + "-visibility" + filepath.Ext(file)
}

func sqliteConfig(file string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: file,
		// WAL keeps readers and the writer apart; synchronous=NORMAL in WAL mode never corrupts
		// the file and survives a crash of the process (only a power cut may lose the last
		// transactions). Keys other than SQLite URI parameters are passed as pragmas.
		// One connection: SQLite has one writer, and a second connection only adds lock errors.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"},
	}
}

// Stop stops the UI and every Temporal service, flushing state to its store.
func (s *Server) Stop() error {
	// Services stopping one by one complain that the others are gone; that is not news.
	s.stopping.Store(true)
	if s.ui != nil {
		s.ui.Stop()
	}
	return s.server.Stop()
}

// loopbackPort checks that addr is host:port on this server's loopback host and returns the port.
func loopbackPort(addr string) (int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("temporal frontend address %q: %w", addr, err)
	}
	if h != host && h != "localhost" {
		return 0, fmt.Errorf("temporal frontend address %q: the embedded server listens on %s only", addr, host)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return 0, fmt.Errorf("temporal frontend address %q: bad port", addr)
	}
	return port, nil
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// slogAdapter routes the Temporal server's log to linedesk's slog logger. The server is chatty at
// info level, so only warnings and errors pass.
type slogAdapter struct {
	log      *slog.Logger
	stopping *atomic.Bool
}

var _ tlog.Logger = slogAdapter{}

func (a slogAdapter) attrs(tags []tag.Tag) []any {
	out := make([]any, 0, 2*len(tags))
	for _, t := range tags {
		out = append(out, t.Key(), t.Value())
	}
	return out
}

func (a slogAdapter) Debug(string, ...tag.Tag) {}
func (a slogAdapter) Info(string, ...tag.Tag)  {}
func (a slogAdapter) Warn(msg string, tags ...tag.Tag) {
	if !a.stopping.Load() {
		a.log.Warn(msg, a.attrs(tags)...)
	}
}

func (a slogAdapter) Error(msg string, tags ...tag.Tag) {
	if !a.stopping.Load() {
		a.log.Error(msg, a.attrs(tags)...)
	}
}
func (a slogAdapter) DPanic(msg string, tags ...tag.Tag) { a.Error(msg, tags...) }
func (a slogAdapter) Panic(msg string, tags ...tag.Tag)  { a.Error(msg, tags...); panic(msg) }
func (a slogAdapter) Fatal(msg string, tags ...tag.Tag)  { a.Error(msg, tags...); os.Exit(1) }
