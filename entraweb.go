package entraweb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/tokencache"
	"github.com/entraweb/entraweb/session"
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
	api      apiState // bearer tokens for the app's API (api.go)

	authorizeURL  string
	endSessionURL string
	signOutOrigin string // where sign-out's form post is redirected: its pages' form-action
	// frameAncestors may frame the front-channel logout page: the
	// provider's origins.
	frameAncestors string

	hostNote  sync.Once // the log's note that the Host header is trusted as sent
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
		s.httpClient = defaultHTTPClient()
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
	a.frameAncestors = s.authorityHost
	if a.signOutOrigin != s.authorityHost {
		a.frameAncestors += " " + a.signOutOrigin
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
		OnRefresh: a.refreshObserver(),
		NewClient: s.msalClients(cred, x5c),
	})

	if err := a.checkCredential(ctx, cfg); err != nil {
		a.Close()
		return nil, err
	}
	if len(cfg.ignored) > 0 {
		s.log.Info("entraweb: settings of ASP.NET Core's AzureAd section that entraweb does not use were ignored", "keys", strings.Join(cfg.ignored, ", "))
	}
	if !strings.HasPrefix(s.callbackPath, s.prefix) {
		s.log.Info("entraweb: the callback path lies outside the route prefix: mount Routes at both (auth.Mount(mux) does)", "callback", s.callbackPath, "prefix", s.prefix)
	}
	// Load the signing keys now, so a sign-in never waits for them; a
	// failure here is retried on first use.
	if err := a.verifier.Keys.Refresh(ctx); err != nil {
		s.log.Warn("entraweb: could not fetch the signing keys yet; will retry at the first sign-in", "url", md.JWKSURI, "err", err)
	}
	return a, nil
}

// defaultHTTPClient talks to the identity provider when Config.HTTPClient
// is nil: sane timeouts, the system roots, the environment's proxy.
func defaultHTTPClient() *http.Client {
	return &http.Client{
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

// msalClients makes the MSAL confidential clients of the app (New's token
// cache, and Check's credential check) with the credential cred.
func (s *settings) msalClients(cred confidential.Credential, x5c bool) func(cache.ExportReplace) (confidential.Client, error) {
	cfg := s.cfg
	return func(c cache.ExportReplace) (confidential.Client, error) {
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
	}
}

// checkCredential asks for an app token for Microsoft Graph's ".default"
// scope, which Entra ID grants any registered app with a good credential
// (with no application permissions the token just carries no roles): a
// wrong secret, an expired one or an unknown app stops the app here, with
// the AADSTS meaning and its fix, rather than at the first user's
// callback. A multi-tenant authority has no tenant to ask for an app
// token, so the check is left out there.
func (a *Auth) checkCredential(ctx context.Context, cfg Config) error {
	if cfg.SkipCredentialCheck || a.s.multiTenant {
		return nil
	}
	scope := graphResource(a.s.authorityHost) + "/.default"
	if _, err := a.tokens.AppToken(ctx, []string{scope}); err != nil {
		err = providerError(err, scope)
		var ae *AADSTSError
		if errors.As(err, &ae) {
			return fmt.Errorf("entraweb: the client credential was refused by Entra ID (a client-credentials request for %s; Entraweb:VerifyCredentialAtStart false turns this check off): %w", scope, ae)
		}
		return fmt.Errorf("entraweb: checking the client credential: %w", err)
	}
	return nil
}

// graphResource is Microsoft Graph's resource in the cloud of an
// authority host.
func graphResource(authorityHost string) string {
	switch strings.TrimPrefix(authorityHost, "https://") {
	case "login.microsoftonline.us":
		return "https://graph.microsoft.us"
	case "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return "https://microsoftgraph.chinacloudapi.cn"
	}
	return "https://graph.microsoft.com"
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
