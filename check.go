package entraweb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/doctor"
	"github.com/entraweb/entraweb/internal/tokencache"
	"github.com/entraweb/entraweb/session"
)

// CheckStatus is the outcome of one check of Check: CheckOK, CheckWarn,
// CheckFail or CheckSkip.
type CheckStatus = doctor.Status

// The outcomes of a check. Only CheckFail makes a Report fail.
const (
	CheckOK   = doctor.OK
	CheckWarn = doctor.Warn // works now, needs attention (a certificate expiring within 30 days)
	CheckFail = doctor.Fail // sign-in will not work until it is fixed
	CheckSkip = doctor.Skip // not checked: not applicable, not permitted, or left out by Quick
)

// CheckResult is one check's outcome: Name, Status, Message and, for
// anything but CheckOK, a Fix. No result holds a secret or a token.
type CheckResult = doctor.Result

// Report holds the results of Check in the order they ran; its OK
// method reports whether none failed. It marshals to JSON as
// {"checks": [{"name", "status", "message", "fix"}...]}.
type Report = doctor.Report

// CheckOptions tune Check. The zero value runs every check.
type CheckOptions struct {
	// Quick leaves out what a readiness probe should not repeat every few
	// seconds: the client-credentials request, the registration's
	// comparison through Microsoft Graph and the Redis caching probe.
	// What remains is one discovery request (which also compares the
	// clocks), a store ping and local checks.
	Quick bool
}

// Check runs the checks of `entraweb doctor` against cfg: the
// configuration is valid; the authority answers discovery with the
// tenant's issuer; the clock is within two minutes of the provider's;
// the client credential gets an app token (the request New makes); a
// certificate credential is not expired nor expiring within 30 days;
// the redirect URI is https outside loopback; a session key is set where
// it must be (the redis store, the Production environment); the store
// answers (Redis ping and client-side caching support, the bolt file
// writable); and, when the app holds Microsoft Graph's
// Application.Read.All, that the registration has the redirect URI and
// the app roles the configuration names. opts may be nil. Check never
// panics on a bad configuration: it reports it. A store it opens is
// closed before it returns; a Config.Store built in code is only pinged.
func Check(ctx context.Context, cfg Config, opts *CheckOptions) Report {
	if opts == nil {
		opts = &CheckOptions{}
	}
	s, err := cfg.validate()
	if err != nil {
		return doctor.Run(ctx, doctor.Input{ConfigErr: err})
	}
	s.httpClient = cfg.HTTPClient
	if s.httpClient == nil {
		// A client of its own per call, whose connections must not
		// outlive it when a readiness probe calls Check again and again.
		s.httpClient = defaultHTTPClient()
		defer s.httpClient.CloseIdleConnections()
	}
	s.now = time.Now
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	roles := cfg.Roles
	if cfg.MinimumRole != "" && !slices.Contains(roles, cfg.MinimumRole) {
		roles = append(roles[:len(roles):len(roles)], cfg.MinimumRole)
	}
	graph := cfg.GraphURL
	if graph == "" {
		graph = graphResource(s.authorityHost)
	}
	in := doctor.Input{
		Authority: s.authority, AuthorityHost: s.authorityHost, Tenant: s.tenant, MultiTenant: s.multiTenant,
		ClientID: cfg.ClientID, HTTPClient: s.httpClient, Now: s.now, Quick: opts.Quick,
		PublicBaseURL: cfg.PublicBaseURL, CallbackPath: s.callbackPath, SignedOutPath: s.signedOutPath,
		Production: strings.EqualFold(cfg.Environment, "Production"),
		Store:      s.store, SessionKey: cfg.Session.Key != "", BoltPath: cfg.Session.Path, RedisURL: string(cfg.Session.RedisURL),
		PingStore: func(ctx context.Context) error { return pingStore(ctx, cfg, s.store) },
		Certificate: doctor.CertificateSource{Path: cfg.ClientCertificate.Path, Base64: string(cfg.ClientCertificate.Base64),
			Password: string(cfg.ClientCertificate.Password)},
		AppToken: func(ctx context.Context) (string, error) { return s.appToken(ctx) },
		Explain:  explain,
		GraphURL: graph,
		Roles:    roles,
	}
	if cfg.Store != nil {
		in.Store = "custom"
	}
	return doctor.Run(ctx, in)
}

// appToken makes the start-up credential check's request (New's
// checkCredential) without a session store: MSAL's own cache holds the
// token.
func (s *settings) appToken(ctx context.Context) (string, error) {
	cred, x5c, err := tokencache.Credential(credentialSource(s.cfg), s.now())
	if err != nil {
		return "", err
	}
	tc := tokencache.New(tokencache.Config{Now: s.now, Log: s.log, NewClient: s.msalClients(cred, x5c)})
	return tc.AppToken(ctx, []string{graphResource(s.authorityHost) + "/.default"})
}

// pingStore opens the configured store as openStore does, pings it and
// closes it; a store built in code is pinged as it is.
func pingStore(ctx context.Context, cfg Config, name string) error {
	type pinger interface{ Ping(context.Context) error }
	if o, ok := cfg.Store.(observedStore); ok {
		cfg.Store = o.Store // the store itself, not the observer's wrapper
	}
	if cfg.Store != nil {
		if p, ok := cfg.Store.(pinger); ok {
			return p.Ping(ctx)
		}
		// A store without Ping is asked for a key nobody has: an answer,
		// even "absent", shows it is reachable.
		_, _, err := cfg.Store.Find(ctx, "entraweb-check:"+randomToken())
		return err
	}
	open, ok := session.Opener(name)
	if !ok {
		return fmt.Errorf("the %s store is not linked in: add import _ \"github.com/entraweb/entraweb/session/%sstore\"", name, name)
	}
	dsn, err := redisDSN(string(cfg.Session.RedisURL), cfg.Session.KeyPrefix)
	if err != nil {
		return err
	}
	st, closer, err := open(dsn)
	if err != nil {
		return err
	}
	defer closer()
	if p, ok := st.(pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// explain puts an error of the provider or of the credential in plain
// words with its fix, from the AADSTS table.
func explain(err error) (string, string) {
	err = providerError(err)
	var ae *AADSTSError
	switch {
	case errors.As(err, &ae) && ae.Code != 0:
		h := aadstsMeaning(ae.Code)
		return fmt.Sprintf("%s (AADSTS%d)", h.meaning, ae.Code), h.fix
	case errors.As(err, &ae):
		return ae.Error(), ""
	case errors.Is(err, ErrProviderUnavailable):
		return err.Error(), "check AzureAd:Instance, the network and any proxy; retry if Entra ID is having an outage"
	}
	return err.Error(), "check AzureAd:ClientCredentials (or the AZURE_CLIENT_* variables)"
}

// Check runs Check on the configuration a was built from, with its open
// session store (pinged, never opened a second time: a Redis store would
// otherwise connect anew for every probe) and its HTTP client. With
// Quick it suits a readiness endpoint.
func (a *Auth) Check(ctx context.Context, opts *CheckOptions) Report {
	cfg := a.s.cfg
	cfg.Store = a.sessions.Store
	cfg.HTTPClient = a.s.httpClient
	return Check(ctx, cfg, opts)
}
