package entraweb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/tokencache"
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
	tokens   *tokencache.Cache
	users    userCache
	verifier *oidc.Verifier

	authorizeURL  string
	endSessionURL string
	signOutOrigin string // where sign-out's form post is redirected: its pages' form-action

	closeOnce sync.Once
	closers   []func() error
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
	md, err := oidc.Discover(ctx, s.httpClient, s.authority, s.multiTenant)
	if err != nil {
		a.Close()
		var er *oidc.ErrorResponse
		if errors.As(err, &er) {
			return nil, fmt.Errorf("entraweb: the discovery of %s was refused: %w", s.authority, providerError(er))
		}
		return nil, err
	}
	a.authorizeURL, a.endSessionURL = md.AuthorizationEndpoint, md.EndSessionEndpoint
	a.signOutOrigin = s.authorityHost
	if eu, err := url.Parse(md.EndSessionEndpoint); err == nil && eu.Host != "" {
		a.signOutOrigin = eu.Scheme + "://" + eu.Host
	}
	a.verifier = &oidc.Verifier{
		Keys:           oidc.NewKeySet(md.JWKSURI, s.httpClient, s.now, s.log),
		ClientID:       strings.ToLower(cfg.ClientID),
		Issuer:         md.Issuer,
		AllowedTenants: s.allowed,
		Skew:           2 * time.Minute,
		Now:            s.now,
	}
	cred, x5c, err := tokencache.Credential(credentialSource(cfg), s.now())
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("entraweb: %w", err)
	}
	a.tokens = tokencache.New(tokencache.Config{
		Store: a.sessions.Store, Box: a.sessions.Box, Life: s.life, Now: s.now, Log: s.log,
		NewClient: func(c cache.ExportReplace) (confidential.Client, error) {
			opts := []confidential.Option{
				confidential.WithHTTPClient(s.httpClient),
				confidential.WithInstanceDiscovery(tokencache.IsMicrosoftHost(s.authorityHost)),
			}
			if c != nil {
				opts = append(opts, confidential.WithCache(c))
			}
			if x5c {
				opts = append(opts, confidential.WithX5C())
			}
			if len(cfg.ClientCapabilities) > 0 {
				opts = append(opts, confidential.WithClientCapabilities(cfg.ClientCapabilities))
			}
			return confidential.New(s.authority, cfg.ClientID, cred, opts...)
		},
	})
	// Load the signing keys now, so a sign-in never waits for them; a
	// failure here is retried on first use.
	if err := a.verifier.Keys.Refresh(ctx); err != nil {
		s.log.Warn("entraweb: could not fetch the signing keys yet; will retry at the first sign-in", "url", md.JWKSURI, "err", err)
	}
	return a, nil
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

// credentialSource names the configured credential for tokencache.
func credentialSource(c Config) tokencache.CredentialSource {
	src := tokencache.CredentialSource{
		Secret: string(c.ClientSecret),
		Certificate: tokencache.CertificateSource{Path: c.ClientCertificate.Path, Base64: string(c.ClientCertificate.Base64),
			Password: string(c.ClientCertificate.Password), SendX5C: c.ClientCertificate.SendX5C},
		FederatedTokenFile: c.FederatedTokenFile,
		HTTPClient:         c.HTTPClient,
	}
	if c.ManagedIdentity != nil {
		src.ManagedIdentity, src.ManagedIdentityClientID = true, c.ManagedIdentity.ClientID
	}
	return src
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
