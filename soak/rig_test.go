package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/proxy"

	_ "github.com/entraweb/entraweb/session/redisstore"
)

// sessionKey is the session key all three instances (and the proxy)
// share, as one deployment's instances do.
const sessionKey = "c29hay10ZXN0LWtleS0zMi1ieXRlcy1sb25nLi4uLi4="

// tokenLifetime is the access tokens' lifetime in the emulator: 15 s more
// than entraweb's refresh margin (5 min), so a token is served from the
// cache for 15 s and then refreshed: every user's AccessToken calls
// include forced refreshes.
const tokenLifetime = 5*time.Minute + 15*time.Second

// rig is everything the users talk to: the emulator, Redis, three app
// instances behind a round-robin front, and the proxy before an echo
// upstream.
type rig struct {
	t   *testing.T
	srv *entratest.Server
	// srvHost is the emulator's host:port, to tell its pages from the apps'.
	srvHost string
	redis   *redistest.Server
	stats   *stats

	front    *httptest.Server
	inst     [3]atomic.Pointer[instance] // nil while an instance is down
	next     atomic.Uint64
	frontErr atomic.Int64 // answers the front gave itself (no instance reachable)

	echo  *httptest.Server
	proxy *proxy.Handler
	pxSrv *httptest.Server

	// transport carries the users' own requests to the front and the
	// proxy; frontTransport the front's to the instances.
	transport, frontTransport *http.Transport
}

// instance is one running app.
type instance struct {
	name string
	auth *entraweb.Auth
	srv  *httptest.Server
	url  *url.URL
}

// userName is the username of virtual user i.
func userName(i int) string { return fmt.Sprintf("vu%03d@%s", i, entratest.DemoTenantDomain) }

// emulatorConfig is the default world with n more users, each holding
// DemoApp.Read.
func emulatorConfig(n int) *entratest.Config {
	cfg := entratest.Default()
	cfg.AccessTokenLifetime = entratest.Duration(tokenLifetime)
	t := &cfg.Tenants[0]
	for i := range n {
		t.Users = append(t.Users, entratest.User{
			DisplayName: fmt.Sprintf("Virtual User %03d", i),
			Username:    userName(i),
			Password:    entratest.DemoPassword,
			AppRoles:    map[string][]string{entratest.DemoClientID: {"DemoApp.Read"}},
		})
	}
	return cfg
}

func newRig(t *testing.T, users int, st *stats) *rig {
	t.Helper()
	r := &rig{t: t, stats: st}
	r.redis = redistest.Start(t, redistest.Options{})
	srv, err := entratest.Start(entratest.Options{Config: emulatorConfig(users)})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	t.Cleanup(srv.Close) // when the test stops before close; Close twice is fine
	r.srvHost = strings.TrimPrefix(srv.URL, "https://")
	r.transport = &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}
	r.frontTransport = &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}

	r.front = httptest.NewServer(r.counted(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			in := r.pick()
			if in == nil {
				pr.Out.URL.Host = "127.0.0.1:1" // nothing listens there: the error page below
				pr.Out.URL.Scheme = "http"
				return
			}
			pr.SetURL(in.url)
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			// The front's own page when the instance it chose is gone, as a
			// load balancer shows one.
			r.frontErr.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<p>The app did not answer. <a href=\"\">Try again</a></p>")
		},
		Transport: r.frontTransport,
	}))
	for i := range r.inst {
		in, err := r.startInstance(i)
		if err != nil {
			t.Fatal(err)
		}
		r.inst[i].Store(in)
	}

	r.echo = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(req.Header)
	}))
	px, err := proxy.New(context.Background(), proxy.Config{
		Entra:             r.entraConfig("soakproxy:", ""),
		Upstream:          r.echo.URL,
		AccessTokenScopes: []string{"User.Read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.proxy = px
	r.pxSrv = httptest.NewServer(r.counted(px))
	return r
}

// entraConfig is the configuration of the apps (prefix "entraweb:") and
// of the proxy (its own prefix: its sessions and token caches are its
// own, as a separate app's are).
func (r *rig) entraConfig(prefix, publicBase string) entraweb.Config {
	return entraweb.Config{
		Instance:      r.srv.URL + "/",
		TenantID:      entratest.DemoTenantID,
		ClientID:      entratest.DemoClientID,
		ClientSecret:  entratest.DemoClientSecret,
		HTTPClient:    r.srv.Client(),
		GraphURL:      r.srv.GraphURL(),
		PublicBaseURL: publicBase,
		Scopes:        []string{"User.Read"},
		Session:       entraweb.SessionConfig{Store: "redis", RedisURL: entraweb.Secret(r.redis.URL()), Key: sessionKey, KeyPrefix: prefix},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe:       r.stats.observe,
	}
}

// startInstance builds app instance i: a page showing who is signed in,
// and a page showing whose access token AccessToken gave.
func (r *rig) startInstance(i int) (*instance, error) {
	name := string(rune('A' + i))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	auth, err := entraweb.New(ctx, r.entraConfig("", r.front.URL))
	if err != nil {
		return nil, fmt.Errorf("instance %s: %w", name, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/page", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u := entraweb.UserFrom(req.Context())
		fmt.Fprintf(w, "soak oid=%s user=%s inst=%s\n", u.ObjectID, u.Username, name)
	})))
	mux.Handle("/token", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tok, err := auth.AccessToken(req, "User.Read")
		if auth.Challenge(w, req, err) {
			return
		}
		u := entraweb.UserFrom(req.Context())
		// The token's digest, never the token, leaves the app.
		fmt.Fprintf(w, "soak oid=%s user=%s token-oid=%s token=%s inst=%s\n", u.ObjectID, u.Username, tokenOID(tok), digest(tok), name)
	})))
	hs := httptest.NewServer(mux)
	u, _ := url.Parse(hs.URL)
	return &instance{name: name, auth: auth, srv: hs, url: u}, nil
}

// pick chooses the next running instance, round robin.
func (r *rig) pick() *instance {
	for range len(r.inst) {
		if in := r.inst[r.next.Add(1)%uint64(len(r.inst))].Load(); in != nil {
			return in
		}
	}
	return nil
}

// kill stops instance i abruptly: requests already routed to it may find
// nothing there (the front answers 502), its in-flight requests finish.
func (r *rig) kill(i int) {
	in := r.inst[i].Swap(nil)
	if in == nil {
		return
	}
	in.srv.CloseClientConnections()
	in.srv.Close()
	in.auth.Close()
}

// revive starts a new instance i in place of a killed one.
func (r *rig) revive(i int) error {
	in, err := r.startInstance(i)
	if err != nil {
		return err
	}
	r.inst[i].Store(in)
	return nil
}

// counted counts the answers h gives.
func (r *rig) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.stats.requests.Add(1)
		h.ServeHTTP(w, req)
	})
}

// close stops everything, in the order a deployment would shut down.
func (r *rig) close() {
	r.pxSrv.Close()
	r.proxy.Close()
	r.echo.Close()
	r.front.Close()
	var wg sync.WaitGroup
	for i := range r.inst {
		wg.Go(func() { r.kill(i) })
	}
	wg.Wait()
	r.transport.CloseIdleConnections()
	r.frontTransport.CloseIdleConnections()
	r.srv.Close()
	r.redis.Stop()
}

// headerIdentity reads who the proxy said the user is from the headers
// the echo upstream received.
func headerIdentity(body string) *identity {
	var h http.Header
	if json.Unmarshal([]byte(body), &h) != nil {
		return nil
	}
	id := identity{OID: h.Get("X-Ms-Client-Principal-Id"), Username: h.Get("X-Ms-Client-Principal-Name")}
	if id.OID == "" {
		return nil
	}
	if tok := h.Get("X-Ms-Token-Aad-Access-Token"); tok != "" {
		id.TokenOID, id.TokenSum = tokenOID(tok), digest(tok)
	}
	return &id
}

// pageIdentity reads an app page's "soak oid=... user=..." line.
func pageIdentity(body string) *identity {
	line, ok := strings.CutPrefix(body, "soak ")
	if !ok {
		return nil
	}
	var id identity
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "oid":
			id.OID = v
		case "user":
			id.Username = v
		case "token-oid":
			id.TokenOID = v
		case "token":
			id.TokenSum = v
		}
	}
	if id.OID == "" {
		return nil
	}
	return &id
}
