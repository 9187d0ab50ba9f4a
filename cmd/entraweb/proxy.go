package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entraweb/entraweb/proxy"

	// The command offers every store; configuration chooses one.
	_ "github.com/entraweb/entraweb/session/boltstore"
	_ "github.com/entraweb/entraweb/session/memstore"
	_ "github.com/entraweb/entraweb/session/redisstore"
)

// runProxy serves the authenticating reverse proxy in front of -upstream.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	upstream := fs.String("upstream", "", "`URL` of the app to protect, such as http://127.0.0.1:8050 (or Proxy:Upstream)")
	listen := fs.String("listen", "127.0.0.1:4180", "`address` to serve on (plain http; put TLS in front)")
	stateDir := fs.String("state-dir", "", "`directory` for the session store and its key (default: the user's cache directory + /entraweb/proxy)")
	metricsAddr := fs.String("metrics-listen", "", "`address` to serve Prometheus metrics on at /metrics, such as 127.0.0.1:9090 (or Proxy:MetricsAddress); off when empty")
	quiet := fs.Bool("quiet", false, "no access log, only warnings and errors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: entraweb proxy -upstream URL [flags]\n\n"+
			"Serves Entra ID sign-in, with app roles, in front of a web app written in\n"+
			"anything, with App Service's authentication endpoints under /.auth/ and\n"+
			"its X-MS-CLIENT-PRINCIPAL headers to the app. It is configured like the\n"+
			"library (appsettings.json, AZURE_* and AzureAd__*/Entraweb__* variables)\n"+
			"plus a \"Proxy\" section (Upstream, Rules, PublicPaths, Headers...).\n\n"+
			"Sessions are kept in a bolt file in the state directory unless\n"+
			"Entraweb:Session:Store says otherwise, so a restart keeps users signed in.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "entraweb proxy: "+format+"\n", a...)
		return 1
	}

	cfg, err := proxy.LoadConfig()
	if err != nil {
		return fail("reading the configuration:\n%v", err)
	}
	if *upstream != "" {
		cfg.Upstream = *upstream
	}
	if cfg.Upstream == "" {
		fmt.Fprintln(stderr, "entraweb proxy: -upstream is required (or Proxy:Upstream in appsettings.json)")
		fs.Usage()
		return 2
	}
	if *metricsAddr != "" {
		cfg.MetricsAddress = *metricsAddr
	}
	cfg.Entra.Logger = logger
	cfg.AccessLog = !*quiet

	// Sessions, and the key that signs the identity assertion, outlive
	// the process unless configuration says otherwise.
	s := &cfg.Entra.Session
	boltDefault := cfg.Entra.Store == nil && (s.Store == "" && s.RedisURL == "" || s.Store == "bolt" && s.Path == "")
	keyDefault := !cfg.NoAssertion && cfg.AssertionKey == nil && cfg.AssertionKeyFile == ""
	var dir string
	if boltDefault || keyDefault {
		dir = *stateDir
		if dir == "" {
			if dir, err = defaultStateDir(); err != nil {
				return fail("%v; choose a directory with -state-dir", err)
			}
		}
		if err := makeStateDir(dir, logger); err != nil {
			return fail("state directory: %v", err)
		}
	}
	if keyDefault {
		cfg.AssertionKeyFile = filepath.Join(dir, assertionKeyFile)
	}
	if boltDefault {
		s.Store, s.Path = "bolt", filepath.Join(dir, "sessions.db")
		fmt.Fprintf(stdout, "entraweb proxy: state directory %s (sessions and their key: keep it, and keep it private)\n", dir)
	} else {
		store := s.Store
		if store == "" {
			store = "redis"
		}
		fmt.Fprintf(stdout, "entraweb proxy: sessions in the %s store (Entraweb:Session:Store)\n", store)
		if keyDefault {
			fmt.Fprintf(stdout, "entraweb proxy: state directory %s (the assertion's signing key: keep it private)\n", dir)
		}
	}

	h, err := proxy.New(ctx, cfg)
	if err != nil {
		return fail("%v", err)
	}
	defer h.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail("%v (choose another address with -listen, such as -listen 127.0.0.1:0)", err)
	}
	srv := newProxyServer(h, logger)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	if m := h.Metrics(); m != nil {
		mln, err := net.Listen("tcp", cfg.MetricsAddress)
		if err != nil {
			srv.Close()
			return fail("metrics: %v (choose another address with -metrics-listen)", err)
		}
		msrv := newMetricsServer(m, logger)
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("entraweb proxy: the metrics listener stopped", "err", err)
			}
		}()
		defer msrv.Close()
		fmt.Fprintf(stdout, "entraweb proxy: metrics on http://%s/metrics\n", displayAddr(mln.Addr().(*net.TCPAddr)))
	}

	base := strings.TrimSuffix(cfg.Entra.PublicBaseURL, "/")
	if base == "" {
		base = "http://" + displayAddr(ln.Addr().(*net.TCPAddr))
	}
	fmt.Fprintf(stdout, "entraweb proxy: listening on http://%s, passing signed-in requests to %s\n", displayAddr(ln.Addr().(*net.TCPAddr)), cfg.Upstream)
	fmt.Fprintf(stdout, "Register %s%s and %s%s as Web redirect URIs of app %s.\n", base, proxy.CallbackPath, base, proxy.SignedOutPath, cfg.Entra.ClientID)
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")

	select {
	case err := <-done:
		return fail("%v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail("shutting down: %v", err)
	}
	fmt.Fprintln(stdout, "entraweb proxy: stopped")
	return 0
}

// assertionKeyFile is the name of the identity assertion's signing key
// in the state directory. Several proxies in front of one upstream should
// share it (Proxy:AssertionKeyFile), so each publishes the key the others
// sign with.
const assertionKeyFile = "assertion-key.pem"

// newProxyServer is the server the proxy runs in. Each limit keeps a
// client from holding a connection, a goroutine and an upstream
// connection for as long as it likes.
func newProxyServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request, body included. Uploads pass through to the
		// app, so this is generous. It does not cut long responses, and a
		// WebSocket's connection is cleared of deadlines when it is
		// handed over.
		ReadTimeout: 5 * time.Minute,
		// Zero on purpose: a deadline on the whole response would cut
		// server-sent events, long downloads and long polls. The proxy
		// sets a deadline before each write instead
		// (Proxy:WriteIdleTimeout, 60s), so a client that stops reading
		// is dropped while a stream that flows is not.
		WriteTimeout:   0,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// newMetricsServer serves the metrics at /metrics and nothing else, with
// the limits of any server.
func newMetricsServer(m http.Handler, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// defaultStateDir is where the proxy keeps its state unless told: in the
// user's cache directory ($XDG_CACHE_HOME or ~/.cache on Linux).
func defaultStateDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no default state directory: %w", err)
	}
	return filepath.Join(d, "entraweb", "proxy"), nil
}

// makeStateDir creates the state directory readable by its owner only
// (it holds the session key), and reports an existing one that others
// can enter: the files in it are the owner's only, but the directory is
// the operator's to change.
func makeStateDir(dir string, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("entraweb proxy: the state directory can be entered by other users; chmod 700 it", "dir", dir, "mode", fi.Mode().Perm().String())
	}
	return nil
}
