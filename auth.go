package entraweb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/session"
	_ "github.com/entraweb/entraweb/session/memstore" // the store of last resort
)

// Auth is entraweb configured for one app: its routes, its middleware
// and its sessions. It is safe for concurrent use.
type Auth struct {
	s        *settings
	log      *slog.Logger
	sessions *session.Manager
	pending  *pendingJar
	tokens   *tokenStore
	users    userCache
	verifier *idTokenVerifier
	msal     *clientPool
	cred     confidential.Credential
	x5c      bool
	app      appClient

	authorizeURL  string
	endSessionURL string
	signOutOrigin string // where sign-out's form post is redirected: its pages' form-action

	closeOnce sync.Once
	closers   []func() error
}

// providerMetadata is the part of the OpenID discovery document used.
type providerMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// New validates cfg, reads the identity provider's discovery document and
// signing keys, and prepares everything requests need. Every configuration
// problem is reported at once. The network calls run under ctx: a
// deadline or cancellation on it bounds how long New may take.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("entraweb: configuration:\n%w", err)
	}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	s.httpClient = cfg.HTTPClient
	if s.httpClient == nil {
		s.httpClient = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
				TLSHandshakeTimeout: 10 * time.Second,
				MaxIdleConnsPerHost: 16,
				ForceAttemptHTTP2:   true,
			},
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	a := &Auth{s: s, log: s.log}
	if err := a.openStore(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	md, err := discover(ctx, s)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.authorizeURL, a.endSessionURL = md.AuthorizationEndpoint, md.EndSessionEndpoint
	a.signOutOrigin = s.authorityHost
	if eu, err := url.Parse(md.EndSessionEndpoint); err == nil && eu.Host != "" {
		a.signOutOrigin = eu.Scheme + "://" + eu.Host
	}
	a.verifier = &idTokenVerifier{
		keys:           newKeySet(md.JWKSURI, s.httpClient, s.now, s.log),
		clientID:       strings.ToLower(cfg.ClientID),
		issuer:         md.Issuer,
		allowedTenants: s.allowed,
		skew:           2 * time.Minute,
		now:            s.now,
	}
	a.cred, a.x5c, err = credential(cfg, s.now())
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("entraweb: %w", err)
	}
	a.msal = newClientPool(a.newMSAL)
	// Load the signing keys now, so a sign-in never waits for them; a
	// failure here is retried on first use.
	if err := a.verifier.keys.refresh(ctx); err != nil {
		s.log.Warn("entraweb: could not fetch the signing keys yet; will retry at the first sign-in", "url", md.JWKSURI, "err", err)
	}
	return a, nil
}

// discover reads and checks the OpenID discovery document.
func discover(ctx context.Context, s *settings) (*providerMetadata, error) {
	u := s.authority + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w (check AzureAd:Instance, the network, and for a custom CA SSL_CERT_FILE)", ErrProviderUnavailable, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
			Codes []int  `json:"error_codes"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			ae := &AADSTSError{Err: e.Error, Description: e.Desc, Status: resp.StatusCode, Code: codeFromDescription(e.Desc)}
			h := aadstsMeaning(ae.Code)
			return nil, fmt.Errorf("entraweb: discovery at %s refused: %w. %s", u, ae, h.fix)
		}
		if resp.StatusCode >= 500 {
			return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrProviderUnavailable, u, resp.StatusCode)
		}
		return nil, fmt.Errorf("entraweb: GET %s: HTTP %d (check AzureAd:Instance and AzureAd:TenantId)", u, resp.StatusCode)
	}
	var md providerMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("entraweb: the discovery document at %s is not JSON: %w", u, err)
	}
	for name, v := range map[string]string{"issuer": md.Issuer, "authorization_endpoint": md.AuthorizationEndpoint,
		"token_endpoint": md.TokenEndpoint, "jwks_uri": md.JWKSURI, "end_session_endpoint": md.EndSessionEndpoint} {
		if v == "" && name == "end_session_endpoint" {
			continue
		}
		pu, err := url.Parse(v)
		ok := err == nil && pu.Host != "" && pu.Scheme == "https"
		// Pages a browser visits may be plain HTTP on loopback only: an
		// emulator on this machine (entraweb demo) serves them so, to spare
		// the browser a certificate warning. Tokens and keys never travel so.
		if !ok && err == nil && pu.Scheme == "http" && (name == "authorization_endpoint" || name == "end_session_endpoint") {
			ok = isLoopbackHost(pu.Hostname())
		}
		if !ok {
			return nil, fmt.Errorf("entraweb: the discovery document at %s has no valid https %s", u, name)
		}
	}
	if s.multiTenant != strings.Contains(md.Issuer, tenantPlaceholder) {
		return nil, fmt.Errorf("entraweb: the discovery document's issuer %q does not fit TenantId %q", md.Issuer, s.tenant)
	}
	return &md, nil
}

// openStore builds the session manager on the configured store.
func (a *Auth) openStore(ctx context.Context, cfg Config) error {
	s := a.s
	keys := s.sessionKeys
	store := cfg.Store
	kind := s.store
	if store == nil && kind == "" {
		kind = "memory"
		if _, ok := session.Opener("bolt"); ok {
			kind = "bolt"
		}
	}
	if store == nil {
		switch kind {
		case "memory":
			open, _ := session.Opener("memory")
			st, closer, err := open("")
			if err != nil {
				return err
			}
			store = st
			a.closers = append(a.closers, closer)
			if len(keys) == 0 {
				keys = [][]byte{randomKey()}
			}
		case "bolt":
			open, ok := session.Opener("bolt")
			if !ok {
				return errors.New(`entraweb: Entraweb:Session:Store is "bolt" but the bolt store is not linked in: add: import _ "github.com/entraweb/entraweb/session/boltstore"`)
			}
			path := cfg.Session.Path
			if path == "" {
				path = "entraweb-sessions.db"
			}
			st, closer, err := open(path)
			if err != nil {
				return fmt.Errorf("entraweb: session store: %w", err)
			}
			store = st
			a.closers = append(a.closers, closer)
			if len(keys) == 0 {
				k, err := keyBeside(path)
				if err != nil {
					a.Close()
					return err
				}
				s.log.Warn("entraweb: sessions are encrypted with a key generated beside the store; production needs its own key in Entraweb:Session:Key (openssl rand -base64 32)", "key_file", path+".key")
				keys = [][]byte{k}
			}
		case "redis":
			open, ok := session.Opener("redis")
			if !ok {
				return errors.New(`entraweb: Entraweb:Session:Store is "redis" but the redis store is not linked in: add: import _ "github.com/entraweb/entraweb/session/redisstore"`)
			}
			dsn, err := redisDSN(string(cfg.Session.RedisURL), cfg.Session.KeyPrefix)
			if err != nil {
				return err
			}
			// redisstore's errors show the URL with its password redacted.
			st, closer, err := open(dsn)
			if err != nil {
				return fmt.Errorf("entraweb: session store: %w", err)
			}
			store = st
			a.closers = append(a.closers, closer)
			// validate made sure of a configured key: a random one per
			// process would strand every session on its instance.
		}
	}
	if p, ok := store.(interface{ Ping(context.Context) error }); ok {
		// A store that is down at start-up is not fatal (it may come back
		// before the first request), but it should not go unnoticed.
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			s.log.Warn("entraweb: the session store does not answer; requests that need it get 503 until it does", "err", err)
		}
	}
	if len(keys) == 0 {
		return errors.New("entraweb: Entraweb:Session:Key is required with a store built in code (make one with: openssl rand -base64 32)")
	}
	box, err := session.NewBox(keys...)
	if err != nil {
		return fmt.Errorf("entraweb: session key: %w", err)
	}
	a.sessions = &session.Manager{
		Store:       store,
		Box:         box,
		IdleTimeout: s.idle,
		Lifetime:    s.life,
		IsSecure:    s.secure,
		Now:         func() time.Time { return s.now() },
		Logger:      s.log,
	}
	a.pending = &pendingJar{box: box, now: func() time.Time { return s.now() }}
	a.tokens = &tokenStore{store: store, box: box, life: s.life, now: func() time.Time { return s.now() }}
	return nil
}

// redisDSN adds the configured key prefix to a Redis URL as the
// key_prefix parameter redisstore reads.
func redisDSN(raw, prefix string) (string, error) {
	if prefix == "" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw, nil // redisstore explains, without the password
	}
	q := u.Query()
	if p := q.Get("key_prefix"); p != "" && p != prefix {
		return "", fmt.Errorf("entraweb: Entraweb:Session:KeyPrefix %q differs from the RedisUrl's key_prefix %q: keep one", prefix, p)
	}
	q.Set("key_prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// keyBeside reads the key kept next to a store file, making it on first
// use (readable by the owner only).
func keyBeside(path string) ([]byte, error) {
	kf := path + ".key"
	b, err := os.ReadFile(kf)
	if err == nil {
		k, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("entraweb: %s: %w", kf, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("entraweb: session key file: %w", err)
	}
	k := randomKey()
	if err := os.MkdirAll(filepath.Dir(kf), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(kf, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("entraweb: session key file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, nil
}

// Close releases the session store.
func (a *Auth) Close() error {
	var errs []error
	a.closeOnce.Do(func() {
		for _, c := range a.closers {
			if c != nil {
				errs = append(errs, c())
			}
		}
	})
	return errors.Join(errs...)
}
