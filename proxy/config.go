package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/guid"

	"github.com/entraweb/entraweb"
)

// The paths of App Service's authentication layout that the proxy serves
// itself. Nothing under RoutePrefix is ever passed to the upstream.
const (
	// RoutePrefix is where the proxy's own endpoints live.
	RoutePrefix = "/.auth/"
	// CallbackPath is the redirect URI's path: register
	// https://<public host>/.auth/login/aad/callback on the app
	// registration, as for App Service.
	CallbackPath = "/.auth/login/aad/callback"
	// SignedOutPath is where Entra ID sends the browser after sign-out;
	// register its URL as a redirect URI too.
	SignedOutPath = "/.auth/logout/done"
)

// The identity header sets that Config.Headers can name.
const (
	// HeadersEasyAuth is App Service's X-MS-CLIENT-PRINCIPAL,
	// X-MS-CLIENT-PRINCIPAL-ID, -NAME and -IDP (and
	// X-MS-TOKEN-AAD-ACCESS-TOKEN, -EXPIRES-ON with AccessTokenScopes).
	HeadersEasyAuth = "EasyAuth"
	// HeadersOAuth2Proxy is oauth2-proxy's X-Forwarded-User (the object
	// id), -Email, -Preferred-Username, -Groups and -Roles; /.auth/verify
	// answers with the X-Auth-Request-* forms too.
	HeadersOAuth2Proxy = "OAuth2Proxy"
)

// Config configures the proxy. Its Entra field is the library's own
// configuration; the other fields are the "Proxy" section of
// appsettings.json (Proxy__Upstream and so on in the environment). The
// zero value of every optional field is a safe default.
type Config struct {
	// Entra configures sign-in exactly as for entraweb.New. The proxy
	// owns the paths: it sets RoutePrefix to RoutePrefix, CallbackPath to
	// CallbackPath and SignedOutCallbackPath to SignedOutPath, and a
	// different value configured there is an error. Entra.MinimumRole is
	// the role the whole app needs (public paths aside).
	Entra entraweb.Config

	// Upstream is the app behind the proxy, such as
	// http://127.0.0.1:8050. A path in it is put before each request's
	// path.
	Upstream string

	// Rules add requirements by path. A rule applies to its Path and
	// everything below it (/admin covers /admin and /admin/x, not
	// /administrator), compared case-insensitively after the path is
	// cleaned as an upstream might read it (dot segments, doubled
	// slashes, backslashes, ;parameters). Every rule that applies must
	// be met.
	Rules []Rule

	// PublicPaths are served without signing in: health checks, static
	// assets, a landing page. An entry ending in "/" covers what lies
	// below it; any other covers itself and what lies below it. They are
	// compared case-sensitively, and only with paths that are already
	// clean: /static/../admin is never public. A signed-in user's
	// identity is still passed on for them.
	PublicPaths []string

	// Headers names the identity header sets sent to the upstream and
	// returned by /.auth/verify: HeadersEasyAuth, HeadersOAuth2Proxy.
	// Empty means HeadersEasyAuth alone.
	Headers []string

	// ApiPaths are path prefixes (matched as Rules' paths are) of JSON
	// APIs that programs call with an Entra access token for this app
	// (Authorization: Bearer) instead of a browser's cookie: a daemon with
	// client credentials, another service, an SPA of its own. A request
	// there that carries a bearer token is let through only when the
	// token is valid for this app (entraweb.Auth.RequireScopeOrAppRole:
	// signature, issuer, audience, lifetime; ApiScope or ApiAppRole), the
	// caller has MinimumRole (an app needs it as an application
	// permission) and meets every Rule of the path; the token is passed on
	// in Authorization and the caller's identity as for a signed-in user.
	// Refusals are 401 or 403 JSON with RFC 6750's WWW-Authenticate, never
	// a redirect. Any Authorization header there is checked (another
	// scheme or a malformed token gets 401), so what reaches the upstream
	// in Authorization on these paths was validated; without the header,
	// the path is served as any other (a browser's cookie). On other
	// paths an Authorization header passes to the upstream unchecked, as
	// the app's own business. /.auth/verify (forward auth) takes cookies
	// only.
	ApiPaths []string

	// ApiScope is the delegated permission a user's token needs on
	// ApiPaths (a value of its scp claim, such as "access_as_user"), and
	// ApiAppRole the app role an app-only token needs (through the
	// hierarchy). With neither set, any valid token passes, and with only
	// one set, the other kind of token is refused.
	ApiScope   string
	ApiAppRole string

	// AccessTokenScopes, when set, sends the user's access token for these
	// scopes (refreshed silently) to the upstream as
	// X-MS-TOKEN-AAD-ACCESS-TOKEN and X-MS-TOKEN-AAD-EXPIRES-ON. They are
	// added to Entra.Scopes, so the user consents at sign-in.
	AccessTokenScopes []string

	// TokensInMe lets /.auth/me show that access token to the browser, as
	// App Service's token store does. Off by default: a script injected
	// into the upstream's pages could read it.
	TokensInMe bool

	// PreserveHost sends the browser's Host header to the upstream
	// instead of the upstream URL's host (X-Forwarded-Host carries it
	// either way).
	PreserveHost bool

	// UpstreamTimeout bounds the wait for the upstream's response headers
	// (a stream may then last as long as it likes); default 60s. A
	// connection attempt gives up after 10s.
	UpstreamTimeout time.Duration

	// WriteIdleTimeout bounds each write to a client: a client that stops
	// reading is dropped after this long, while a stream that keeps
	// flowing (server-sent events, a download) is never cut. Default 60s.
	// The proxy sets these deadlines itself, so serve it with
	// http.Server.WriteTimeout zero.
	WriteIdleTimeout time.Duration

	// AccessLog logs one line per request (method, path without the
	// query, status, bytes, duration, peer, user's object id) at Info.
	AccessLog bool

	// MetricsAddress, when set, turns on Prometheus metrics (requests by
	// status, sign-ins and failures by reason and AADSTS code, token
	// refreshes, refusals, the store's and the upstream's latency, the Go
	// runtime) served by Handler.Metrics; the command listens for them on
	// this address (host:port), apart from the proxied traffic.
	MetricsAddress string

	// NoAssertion turns off the signed identity assertion: the
	// X-Entraweb-Assertion header to the upstream and the keys at
	// /.auth/keys. The assertion is on by default.
	NoAssertion bool

	// AssertionKeyFile is a PEM file with the ECDSA P-256 key that signs
	// the assertion; LoadAssertionKeyFile creates it (mode 0600) when it
	// does not exist. Keep the key across restarts, or upstreams that
	// cached the old public key fail until they fetch the new one.
	// Empty, with AssertionKey nil, means a key made at start.
	AssertionKeyFile string

	// AssertionKey is the assertion's signing key, for a caller that
	// keeps it elsewhere; it takes the place of AssertionKeyFile.
	AssertionKey *ecdsa.PrivateKey `json:"-"`

	// Transport carries requests to the upstream; nil means a transport
	// with 256 idle connections per host and the timeouts above.
	Transport http.RoundTripper `json:"-"`
}

// Rule is a requirement for the paths under Path: an app role (met
// through the hierarchy, as User.HasRole) or a group's object id. Exactly
// one of Role and Group is set.
type Rule struct {
	Path  string
	Role  string
	Group string
}

// settings is a validated Config, prepared for requests.
type settings struct {
	entra             entraweb.Config
	upstream          *url.URL
	rules             []rule
	public            []string
	easyAuth, oauth2  bool
	scopes            []string
	tokensInMe        bool
	preserveHost      bool
	upstreamTimeout   time.Duration
	writeIdle         time.Duration
	accessLog         bool
	api               []string // prefixes of ApiPaths, as rules hold them
	apiScope, apiRole string
	metrics           bool
	transport         http.RoundTripper
	sessionLifetime   time.Duration
	issuerBase        string // https://login.microsoftonline.com: the tenant and /v2.0 follow
	minimumRole       string
	accessTokenHeader bool
	assertion         bool
	upstreamOrigin    string // the assertion's aud
}

// Validate checks the configuration, the Entra section included, without
// contacting anyone, and reports every problem at once, each with the
// name of its key. New calls it.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

func (c Config) settings() (*settings, error) {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	s := &settings{
		tokensInMe: c.TokensInMe, preserveHost: c.PreserveHost, accessLog: c.AccessLog, transport: c.Transport,
		metrics:         c.MetricsAddress != "",
		upstreamTimeout: c.UpstreamTimeout, writeIdle: c.WriteIdleTimeout,
	}

	u, err := url.Parse(c.Upstream)
	switch {
	case c.Upstream == "":
		add("Proxy:Upstream", "missing: the URL of the app behind the proxy, such as http://127.0.0.1:8050 (or -upstream)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		add("Proxy:Upstream", "%q must be an http(s) URL such as http://127.0.0.1:8050, without credentials, query or fragment", c.Upstream)
	default:
		s.upstream = u
	}

	for i, p := range c.ApiPaths {
		key := fmt.Sprintf("Proxy:ApiPaths:%d", i)
		pp, ok := rulePath(p)
		switch {
		case !ok:
			add(key, "%q must be a path such as /api", p)
		case reserved(pp) || reserved(pp+"/"):
			add(key, "%q lies under %s, which the proxy serves itself", p, RoutePrefix)
		default:
			s.api = append(s.api, pp)
		}
	}
	if strings.ContainsAny(c.ApiScope, " \t\r\n,") {
		add("Proxy:ApiScope", "%q must be one scope value, such as access_as_user", c.ApiScope)
	}
	if strings.ContainsAny(c.ApiAppRole, " \t\r\n,") {
		add("Proxy:ApiAppRole", "%q is not an app role value", c.ApiAppRole)
	}
	s.apiScope, s.apiRole = c.ApiScope, c.ApiAppRole

	if c.MetricsAddress != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddress); err != nil || port == "" {
			add("Proxy:MetricsAddress", "%q must be host:port, such as 127.0.0.1:9090", c.MetricsAddress)
		}
	}

	for i, r := range c.Rules {
		key := fmt.Sprintf("Proxy:Rules:%d", i)
		p, ok := rulePath(r.Path)
		if !ok {
			add(key+":Path", "%q must be a path such as /admin", r.Path)
		}
		switch {
		case (r.Role == "") == (r.Group == ""):
			add(key, "set exactly one of Role and Group")
		case r.Role != "" && strings.ContainsAny(r.Role, " \t\r\n,"):
			add(key+":Role", "%q is not an app role value", r.Role)
		case r.Group != "" && !guid.Valid(r.Group):
			add(key+":Group", "%q is not a group's object id (a GUID)", r.Group)
		}
		s.rules = append(s.rules, rule{prefix: p, role: r.Role, group: strings.ToLower(r.Group)})
	}

	for i, p := range c.PublicPaths {
		key := fmt.Sprintf("Proxy:PublicPaths:%d", i)
		switch {
		case !strings.HasPrefix(p, "/") || !isCleanPath(p):
			add(key, "%q must be a clean path such as /static/ or /healthz (no dot segments, //, %%, ; or \\)", p)
		case reserved(cleanPath(p)):
			add(key, "%q lies under %s, which the proxy serves itself", p, RoutePrefix)
		default:
			s.public = append(s.public, p)
		}
	}

	if len(c.Headers) == 0 {
		s.easyAuth = true
	}
	for i, hs := range c.Headers {
		switch {
		case strings.EqualFold(hs, HeadersEasyAuth):
			s.easyAuth = true
		case strings.EqualFold(hs, HeadersOAuth2Proxy):
			s.oauth2 = true
		default:
			add(fmt.Sprintf("Proxy:Headers:%d", i), "%q: use %s or %s", hs, HeadersEasyAuth, HeadersOAuth2Proxy)
		}
	}

	for i, sc := range c.AccessTokenScopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n") {
			add(fmt.Sprintf("Proxy:AccessTokenScopes:%d", i), "%q is not a single scope", sc)
		}
	}
	s.assertion = !c.NoAssertion
	if c.AssertionKey != nil && c.AssertionKey.Curve != elliptic.P256() {
		add("Proxy:AssertionKey", "must be an ECDSA P-256 key")
	}
	if c.NoAssertion && (c.AssertionKey != nil || c.AssertionKeyFile != "") {
		add("Proxy:NoAssertion", "the assertion is off, yet a key for it is configured")
	}
	if s.upstream != nil {
		s.upstreamOrigin = s.upstream.Scheme + "://" + s.upstream.Host
	}

	s.scopes = slices.Clone(c.AccessTokenScopes)
	if c.TokensInMe && len(c.AccessTokenScopes) == 0 {
		add("Proxy:TokensInMe", "only applies with Proxy:AccessTokenScopes (the token it would show)")
	}
	s.accessTokenHeader = len(s.scopes) > 0 && s.easyAuth

	if c.UpstreamTimeout < 0 {
		add("Proxy:UpstreamTimeout", "%v is negative", c.UpstreamTimeout)
	}
	if s.upstreamTimeout <= 0 {
		s.upstreamTimeout = 60 * time.Second
	}
	if c.WriteIdleTimeout < 0 {
		add("Proxy:WriteIdleTimeout", "%v is negative", c.WriteIdleTimeout)
	}
	if s.writeIdle <= 0 {
		s.writeIdle = 60 * time.Second
	}

	// The proxy owns the paths of App Service's layout.
	e := c.Entra
	for _, f := range []struct {
		key       string
		val       *string
		want      string
		registers bool
	}{
		{"Entraweb:RoutePrefix", &e.RoutePrefix, RoutePrefix, false},
		{"AzureAd:CallbackPath", &e.CallbackPath, CallbackPath, true},
		{"AzureAd:SignedOutCallbackPath", &e.SignedOutCallbackPath, SignedOutPath, true},
	} {
		if *f.val != "" && *f.val != f.want {
			msg := "%q: the proxy serves App Service's layout, with this at %s; leave it unset"
			if f.registers {
				msg += " (and register https://<your host>%[2]s on the app registration)"
			}
			add(f.key, msg, *f.val, f.want)
		}
		*f.val = f.want
	}
	for _, sc := range s.scopes {
		if !slices.Contains(e.Scopes, sc) {
			e.Scopes = append(slices.Clip(e.Scopes), sc)
		}
	}
	if err := e.Validate(); err != nil {
		errs = append(errs, err)
	}
	s.entra = e
	s.minimumRole = e.MinimumRole
	s.sessionLifetime = time.Duration(e.Session.Lifetime)
	if s.sessionLifetime <= 0 {
		s.sessionLifetime = 12 * time.Hour
	}
	instance := strings.TrimSuffix(e.Instance, "/")
	if instance == "" {
		instance = "https://login.microsoftonline.com"
	}
	s.issuerBase = instance
	return s, errors.Join(errs...)
}

// rulePath is the form of a rule's path that requests are compared with:
// cleaned, lower-case, without a trailing slash (except "/").
func rulePath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
		return "", false
	}
	return cleanPath(p), true
}
