package entratest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is a usable emulator with
// the Default configuration on a random loopback port.
type Options struct {
	// Config is the world the emulator serves; nil means Default(). The
	// server keeps its own copy.
	Config *Config
	// Addr is the TCP address to listen on; "127.0.0.1:0" when empty.
	Addr string
	// Now is the emulator's clock (token lifetimes, code expiry); time.Now
	// when nil. Tests move it to make tokens expire.
	Now func() time.Time
	// Logger receives one Info line per request the emulator refuses,
	// saying why with structured keys (aadsts, client_id, reason...), and
	// never a secret, password, code or token; nil discards them.
	Logger *slog.Logger
	// MaxCodes bounds the authorization codes waiting to be redeemed;
	// 100000 when zero. Past it, authorize answers temporarily_unavailable.
	MaxCodes int
	// BrowserAddr, when set, is a loopback address where the emulator also
	// serves plain HTTP for the pages a person's browser visits: the
	// discovery document then names it for the authorize and end-session
	// endpoints, so a browser that does not trust the emulator's CA shows
	// no certificate warning (the demo uses this). Tokens, keys and Graph
	// stay on TLS, where MSAL requires them.
	BrowserAddr string

	// timeouts replaces the servers' connection timeouts; only this
	// package's tests set it, to see slow clients cut off quickly.
	timeouts *serverTimeouts
}

// serverTimeouts bound what a client can hold of the emulator's servers:
// a connection that sends its request slowly, or never, or sits idle. The
// emulator may be reachable by other programs on the machine (the
// entraweb command can serve it to a network), so none may pin a
// connection for ever.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// defaultTimeouts leave a generous margin for the emulator's own slowness
// (SetLatency) and for a person reading a page between two requests.
var defaultTimeouts = serverTimeouts{readHeader: 10 * time.Second, read: 30 * time.Second, write: time.Minute, idle: 2 * time.Minute}

// newHTTPServer is an http.Server with the timeouts and header limit
// every server of the emulator uses.
func newHTTPServer(h http.Handler, errorLog *log.Logger, t serverTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errorLog,
	}
}

// Server is a running emulator of the Microsoft identity platform.
type Server struct {
	// URL is the base URL, https://127.0.0.1:PORT: the authority host.
	URL string

	opts   Options
	now    func() time.Time
	log    *slog.Logger
	caPEM  []byte
	pool   *x509.CertPool
	client *http.Client
	seal   *sealer
	// identityHeader is the managed identity endpoint's secret (IDENTITY_HEADER).
	identityHeader string
	srv            *http.Server
	ln             net.Listener
	// browserURL is where browsers are sent (authorize, sign-in pages,
	// logout): URL, or the plain-HTTP loopback listener of BrowserAddr.
	browserURL string
	browser    *http.Server
	world      atomic.Pointer[world]

	mu            sync.Mutex
	keys          []*signingKey // keys[0] signs; all are published
	codes         map[string]*authCode
	families      map[string]time.Time // token families revoked, until when to remember them
	redeemedCodes map[string]redeemed
	revoked       map[string]int64 // user oid -> RevokeUser calls so far; grants issued under an older count are revoked
	consents      map[string]bool  // clientID + " " + oid + " " + full scope -> granted by the user
	faults        faultState

	calls    [numEndpoints]atomic.Int64
	skew     atomic.Int64 // SetClockSkew, in nanoseconds
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// TB is the part of *testing.T (and *testing.B, *testing.F) that
// NewServer uses. It is an interface of our own so that programs linking
// the emulator (the entraweb command) do not link package testing.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// NewServer starts an emulator for a test and closes it when the test
// ends. opts may be nil.
func NewServer(tb TB, opts *Options) *Server {
	tb.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	s, err := Start(o)
	if err != nil {
		tb.Fatalf("entratest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts an emulator; Close stops it.
func Start(opts Options) (*Server, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = Default()
	}
	cfg = cfg.clone()
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:           opts,
		now:            opts.Now,
		log:            opts.Logger,
		seal:           newSealer(),
		identityHeader: randomID(32),
		codes:          map[string]*authCode{},
		families:       map[string]time.Time{},
		redeemedCodes:  map[string]redeemed{},
		revoked:        map[string]int64{},
		consents:       map[string]bool{},
		stop:           make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	base := s.now
	s.now = func() time.Time { return base().Add(time.Duration(s.skew.Load())) }
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.opts.MaxCodes <= 0 {
		s.opts.MaxCodes = 100000
	}
	key, err := newSigningKey(time.Now())
	if err != nil {
		return nil, err
	}
	s.keys = []*signingKey{key}
	caPEM, leaf, pool, err := newCA(time.Now())
	if err != nil {
		return nil, err
	}
	s.caPEM, s.pool = caPEM, pool
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("entratest: listen on %s: %w", addr, err)
	}
	s.ln = ln
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.URL = "https://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
	s.browserURL = s.URL
	var bln net.Listener
	if opts.BrowserAddr != "" {
		if bln, err = listenLoopback(opts.BrowserAddr); err != nil {
			ln.Close()
			return nil, err
		}
		s.browserURL = "http://" + bln.Addr().String()
	}
	s.world.Store(newWorld(cfg))
	s.client = &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: 64,
			ForceAttemptHTTP2:   true,
		},
		Timeout: 30 * time.Second,
	}
	timeouts := defaultTimeouts
	if opts.timeouts != nil {
		timeouts = *opts.timeouts
	}
	s.srv = newHTTPServer(s.routes(), slog.NewLogLogger(s.log.Handler(), slog.LevelDebug), timeouts)
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("entratest: serve", "err", err)
		}
	}()
	if bln != nil {
		s.browser = newHTTPServer(s.srv.Handler, s.srv.ErrorLog, timeouts)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.browser.Serve(bln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("entratest: serve browser pages", "err", err)
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		s.sweepLoop()
	}()
	return s, nil
}

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		if s.browser != nil {
			if err := s.browser.Shutdown(ctx); err != nil {
				s.browser.Close()
			}
		}
		s.wg.Wait()
	})
}

// BrowserURL is where the emulator sends browsers: URL, or the plain-HTTP
// loopback address of Options.BrowserAddr.
func (s *Server) BrowserURL() string { return s.browserURL }

// listenLoopback listens on a loopback address only: the plain-HTTP pages
// carry sign-in forms and must never be offered to a network.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("entratest: BrowserAddr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("entratest: BrowserAddr %q must be a loopback address such as 127.0.0.1:0", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("entratest: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Authority is the authority URL of the default tenant
// (https://127.0.0.1:PORT/<tenant id>).
func (s *Server) Authority() string { return s.AuthorityFor(s.world.Load().cfg.Tenants[0].ID) }

// AuthorityFor is the authority URL for a tenant id, domain,
// "organizations" or "common".
func (s *Server) AuthorityFor(tenant string) string { return s.URL + "/" + tenant }

// Issuer is the issuer of tokens for a tenant id.
func (s *Server) Issuer(tenantID string) string { return s.URL + "/" + tenantID + "/v2.0" }

// GraphURL is the base URL of the emulated Microsoft Graph, in place of
// https://graph.microsoft.com: GraphURL()+"/v1.0/me".
func (s *Server) GraphURL() string { return s.URL }

// Client returns an HTTP client that trusts the emulator's CA.
func (s *Server) Client() *http.Client { return s.client }

// CertPool returns a pool holding the emulator's CA.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// CACertPEM returns the emulator's CA certificate in PEM; point
// SSL_CERT_FILE (Go) or NODE_EXTRA_CA_CERTS (Node) at a file holding it.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// Config returns a copy of the configuration in force.
func (s *Server) Config() *Config { return s.world.Load().cfg.clone() }

// Update changes the configuration at run time (add a redirect URI, revoke
// a role, disable a user). fn gets a copy; it is validated before it takes
// effect.
func (s *Server) Update(fn func(*Config)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.world.Load().cfg.clone()
	fn(cfg)
	if err := cfg.normalize(); err != nil {
		return err
	}
	s.world.Store(newWorld(cfg))
	return nil
}

// routes maps the platform's paths. Tenant segments are matched case
// insensitively by the handlers.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(ep Endpoint, f http.HandlerFunc) http.Handler { return s.instrument(ep, f) }
	mux.Handle("GET /{tenant}/v2.0/.well-known/openid-configuration", h(EndpointDiscovery, s.handleDiscovery))
	mux.Handle("GET /{tenant}/discovery/v2.0/keys", h(EndpointKeys, s.handleKeys))
	mux.Handle("GET /{tenant}/oauth2/v2.0/authorize", h(EndpointAuthorize, s.handleAuthorize))
	mux.Handle("POST /{tenant}/oauth2/v2.0/authorize", h(EndpointAuthorize, s.handleAuthorize))
	mux.Handle("POST /{tenant}/login", h(EndpointAuthorize, s.handleLogin))
	mux.Handle("POST /{tenant}/consent", h(EndpointAuthorize, s.handleConsent))
	mux.Handle("POST /{tenant}/oauth2/v2.0/token", h(EndpointToken, s.handleToken))
	mux.Handle("GET /{tenant}/oauth2/v2.0/logout", h(EndpointLogout, s.handleLogout))
	mux.Handle("POST /{tenant}/oauth2/v2.0/logout", h(EndpointLogout, s.handleLogout))
	mux.Handle("GET /common/discovery/instance", h(EndpointInstance, s.handleInstance))
	mux.Handle("GET /oidc/userinfo", h(EndpointUserInfo, s.handleUserInfo))
	mux.Handle("POST /oidc/userinfo", h(EndpointUserInfo, s.handleUserInfo))
	mux.Handle("GET /v1.0/me", h(EndpointGraph, s.handleGraphMe))
	mux.Handle("GET /v1.0/me/transitiveMemberOf", h(EndpointGraph, s.handleGraphMemberOf))
	mux.Handle("GET /v1.0/me/memberOf", h(EndpointGraph, s.handleGraphMemberOf))
	mux.Handle("POST /v1.0/me/getMemberObjects", h(EndpointGraph, s.handleGetMemberObjects))
	mux.Handle("POST /v1.0/users/{id}/getMemberObjects", h(EndpointGraph, s.handleGetMemberObjects))
	mux.Handle("GET /v1.0/applications", h(EndpointGraph, s.handleGraphApplications))
	mux.Handle("GET /v1.0/{key}", h(EndpointGraph, s.handleGraphApplication))
	mux.Handle("GET /msi/token", h(EndpointManagedIdentity, s.handleManagedIdentity))
	mux.HandleFunc("GET /error", s.handleErrorLookup)
	mux.HandleFunc("GET /{$}", s.handleHome)
	return s.dated(securityHeaders(mux))
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// world is an immutable snapshot of the configuration with its indexes.
type world struct {
	cfg      *Config
	tenants  map[string]*Tenant // by lower-case id and domain
	apps     map[string]*appRef // by client id
	byIDURI  map[string]*appRef // by lower-case identifier URI
	users    map[string]*userRef
	usersOID map[string]*userRef
	groups   map[string]*Group
	mis      []*miRef
}

type appRef struct {
	*App
	home  *Tenant
	sp    string // object id of its service principal
	certs []*x509.Certificate
	fics  []fedCred
	mirid string // a managed identity's resource id (xms_mirid), else empty
	// frontChannel is FrontChannelLogoutURL ready for its iss and sid
	// parameters (ending in "?" or "&"), and frontChannelOrigin its origin
	// for the logout page's frame-src; both empty without one.
	frontChannel, frontChannelOrigin string
}

type userRef struct {
	*User
	tenant *Tenant
}

func newWorld(cfg *Config) *world {
	w := &world{cfg: cfg, tenants: map[string]*Tenant{}, apps: map[string]*appRef{}, byIDURI: map[string]*appRef{},
		users: map[string]*userRef{}, usersOID: map[string]*userRef{}, groups: map[string]*Group{}}
	for ti := range cfg.Tenants {
		t := &cfg.Tenants[ti]
		w.tenants[t.ID] = t
		w.tenants[t.Domain] = t
		for ai := range t.Apps {
			a := &appRef{App: &t.Apps[ai], home: t, sp: StableID("sp:" + t.Apps[ai].ClientID)}
			if fc := a.FrontChannelLogoutURL; fc != "" {
				if u, err := url.Parse(fc); err == nil { // normalize checked it
					a.frontChannelOrigin = u.Scheme + "://" + u.Host
					switch {
					case u.RawQuery == "":
						a.frontChannel = strings.TrimSuffix(fc, "?") + "?"
					case strings.HasSuffix(fc, "&"):
						a.frontChannel = fc
					default:
						a.frontChannel = fc + "&"
					}
				}
			}
			for _, p := range a.Certificates {
				if c, err := parseCertPEM(p); err == nil {
					a.certs = append(a.certs, c)
				}
			}
			for fi := range a.FederatedCredentials {
				fc := fedCred{FederatedCredential: &a.FederatedCredentials[fi]}
				if fc.PublicKeyPEM != "" {
					if k, err := parsePublicKeyPEM(fc.PublicKeyPEM); err == nil {
						fc.pub = k
					} else {
						continue // normalize refused it already
					}
				}
				a.fics = append(a.fics, fc)
			}
			w.apps[a.ClientID] = a
			w.byIDURI[strings.ToLower(a.IdentifierURI)] = a
		}
		for ui := range t.Users {
			u := &userRef{User: &t.Users[ui], tenant: t}
			w.users[strings.ToLower(u.Username)] = u
			w.usersOID[u.ObjectID] = u
		}
		for gi := range t.Groups {
			w.groups[strings.ToLower(t.Groups[gi].ID)] = &t.Groups[gi]
		}
		for mi := range t.ManagedIdentities {
			w.mis = append(w.mis, &miRef{ManagedIdentity: &t.ManagedIdentities[mi], tenant: t})
		}
	}
	return w
}

// authority is a resolved tenant path segment.
type authority struct {
	seg    string  // as requested, lower-cased
	tenant *Tenant // nil for organizations and common
}

func (a authority) multi() bool { return a.tenant == nil }

func (w *world) resolve(seg string) (authority, bool) {
	seg = strings.ToLower(seg)
	switch seg {
	case "organizations", "common":
		return authority{seg: seg}, true
	}
	t, ok := w.tenants[seg]
	return authority{seg: seg, tenant: t}, ok
}

// tenantOr returns the tenant id for endpoint URLs: the GUID for a tenant,
// the word itself for organizations and common.
func (a authority) pathSegment() string {
	if a.tenant != nil {
		return a.tenant.ID
	}
	return a.seg
}
