package demo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/demo"
	"github.com/entraweb/entraweb/session/memstore"
)

// stack is the demo app signing in against an emulator, both on
// 127.0.0.1, as `entraweb demo` runs them.
type stack struct {
	emu   *entratest.Server
	auth  *entraweb.Auth
	store *sessionStore
	url   string // http://127.0.0.1:PORT
	// hideDataCookies makes the dashboard's data requests arrive without
	// cookies, so they are refused however often the user signs in.
	hideDataCookies atomic.Bool
}

// stackOptions change the stack for a test; the zero value is the demo
// as `entraweb demo` runs it.
type stackOptions struct {
	now      func() time.Time // the demo's clock; nil for time.Now
	versions demo.Versions    // zero for testVersions
	// graphURL, when set, is the Graph address the demo is given (and
	// shows on the profile page); its requests still go to the emulator.
	graphURL string
}

func startStack(t testing.TB) *stack {
	t.Helper()
	return startStackWith(t, stackOptions{})
}

func startStackWith(t testing.TB, o stackOptions) *stack {
	t.Helper()
	// As the demo command runs it: the browser's pages over plain HTTP.
	emu := entratest.NewServer(t, &entratest.Options{BrowserAddr: "127.0.0.1:0"})
	cfg := demo.EmulatorConfig(emu)
	st := &stack{emu: emu, store: &sessionStore{Store: memstore.New(), keys: map[string]bool{}}}
	cfg.Store = st.store
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	st.auth = auth
	opts := demo.Options{
		Auth: auth, GraphURL: emu.GraphURL(), HTTPClient: emu.Client(), AuthorityHost: emu.BrowserURL(),
		Tenant: "the Entra ID emulator (in-process)", Accounts: demo.EmulatorAccounts(emu),
		Versions: o.versions, Now: o.now,
	}
	if opts.Versions == (demo.Versions{}) {
		opts.Versions = testVersions(t)
	}
	if o.graphURL != "" {
		shown, err := url.Parse(o.graphURL)
		if err != nil {
			t.Fatal(err)
		}
		emulator, _ := url.Parse(emu.GraphURL())
		client := *emu.Client()
		client.Transport = rehost{from: shown.Host, to: emulator.Host, next: client.Transport}
		opts.GraphURL, opts.HTTPClient = o.graphURL, &client
	}
	h, err := demo.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st.hideDataCookies.Load() && r.URL.Path == "/dash/api/data" {
			r.Header.Del("Cookie")
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	st.url = hs.URL
	if err := emu.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].FrontChannelLogoutURL = hs.URL + "/auth/frontchannel-logout"
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// rehost sends the requests for one host to another.
type rehost struct {
	from, to string
	next     http.RoundTripper
}

func (h rehost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == h.from {
		r = r.Clone(r.Context())
		r.URL.Host, r.Host = h.to, h.to
	}
	return h.next.RoundTrip(r)
}

// testVersions are the versions a built demo shows. A test binary records
// no dependencies (debug.ReadBuildInfo), so MSAL Go's comes from go.mod.
func testVersions(t testing.TB) demo.Versions {
	v := demo.BuildVersions()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^\s*github\.com/AzureAD/microsoft-authentication-library-for-go (v\S+)`).FindSubmatch(b); m != nil {
		v.MSAL = string(m[1])
	}
	return v
}

// sessionStore is a memory store whose sessions a test can end at will,
// as an idle timeout or a restart of the server would, while the
// emulator's single sign-on session stays.
type sessionStore struct {
	*memstore.Store
	mu   sync.Mutex
	keys map[string]bool
}

func (s *sessionStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if strings.HasPrefix(key, "s:") {
		s.mu.Lock()
		s.keys[key] = true
		s.mu.Unlock()
	}
	return s.Store.Commit(ctx, key, data, expiry)
}

// endSessions deletes every app session; tokens stay, as they would after
// an idle timeout.
func (s *sessionStore) endSessions(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.keys {
		if err := s.Store.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		delete(s.keys, k)
	}
}

// user is a demo user and what the demo must show them.
type user struct {
	name, display string
	roles         []string // expanded
	opens         []string // of /read, /write, /admin
}

func (u user) username() string { return u.name + "@" + entratest.DemoTenantDomain }

var demoUsers = []user{
	{"alice", "Alice Admin", []string{"DemoApp.Admin", "DemoApp.Read", "DemoApp.Write"}, []string{"/read", "/write", "/admin"}},
	{"bob", "Bob Writer", []string{"DemoApp.Read", "DemoApp.Write"}, []string{"/read", "/write"}},
	{"carol", "Carol Reader", []string{"DemoApp.Read"}, []string{"/read"}},
	{"dave", "Dave No-Role", nil, nil},
}

var rolePaths = map[string]string{"/read": "DemoApp.Read", "/write": "DemoApp.Write", "/admin": "DemoApp.Admin"}
