package entraweb

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/entraweb/entraweb/session"
)

// Config is everything entraweb needs to know. The first group of fields
// carries the names of Microsoft.Identity.Web's "AzureAd" section, so an
// appsettings.json written for ASP.NET Core works unchanged; the others are
// entraweb's own ("Entraweb" section). The zero value of every optional
// field is a safe default. LoadConfig fills a Config from files and the
// environment; New validates it.
type Config struct {
	// Instance is the authority host: https://login.microsoftonline.com/
	// (the default), a national cloud's host, or an emulator's URL. Only
	// https is accepted. AZURE_AUTHORITY_HOST sets it too.
	Instance string
	// TenantID is the directory: a tenant id (GUID), a verified domain, or
	// "organizations" / "common" for a multi-tenant app (then see
	// AllowedTenants). AZURE_TENANT_ID.
	TenantID string
	// ClientID is the app registration's application (client) id.
	// AZURE_CLIENT_ID.
	ClientID string
	// ClientSecret is the value (not the id) of a client secret.
	// AZURE_CLIENT_SECRET, or a ClientCredentials entry with
	// SourceType "ClientSecret".
	ClientSecret Secret
	// ClientCertificate is a certificate credential (PEM or PFX), sent as
	// a signed client assertion. AZURE_CLIENT_CERTIFICATE_PATH and
	// AZURE_CLIENT_CERTIFICATE_PASSWORD set it too.
	ClientCertificate CertificateSource
	// FederatedTokenFile is a file holding a token of another identity
	// provider that the app registration trusts (a federated identity
	// credential), re-read at every use: workload identity on Kubernetes
	// mounts one and sets AZURE_FEDERATED_TOKEN_FILE.
	FederatedTokenFile string
	// ManagedIdentity, when set, uses an Azure managed identity's token as
	// the app's federated credential (no secret to rotate).
	ManagedIdentity *ManagedIdentitySource
	// ClientCapabilities announces what the app can handle, e.g. "CP1" for
	// continuous access evaluation claims challenges.
	ClientCapabilities []string
	// CallbackPath is the path of the redirect URI registered on the app;
	// it must lie under RoutePrefix. Default RoutePrefix + "callback".
	CallbackPath string
	// SignedOutCallbackPath is where Entra ID sends the browser after
	// sign-out (register base URL + this path as a redirect URI too).
	// Default "/".
	SignedOutCallbackPath string

	// AllowedTenants lists the tenant ids whose users may sign in when
	// TenantID is "organizations" or "common". Required for such apps;
	// ["*"] allows every tenant (a deliberate choice, never a default).
	AllowedTenants []string
	// Scopes are resource permissions asked for at sign-in besides the
	// OpenID ones, e.g. "User.Read".
	Scopes []string
	// GraphURL is Microsoft Graph's base URL, used to resolve the groups of
	// users in more groups than a token carries; default
	// https://graph.microsoft.com (a national cloud or an emulator differs).
	GraphURL string
	// GroupsScope is the permission asked for to read a user's groups in
	// that case; default GroupMember.Read.All.
	GroupsScope string
	// Roles is the app-role hierarchy, lowest first: each role implies the
	// ones before it. Empty means the default hierarchy: for any prefix P,
	// P.Admin implies P.Write, which implies P.Read (and Admin ⊇ Write ⊇
	// Read without a prefix).
	Roles []string
	// MinimumRole, when set, is needed (directly or through the hierarchy)
	// to sign in at all; users without it get a 403 page.
	MinimumRole string
	// AccessContact names who grants app roles, for the 403 page
	// (default "your administrator").
	AccessContact string
	// PublicBaseURL is the app's external URL (scheme, host, optional path
	// prefix) as browsers see it. It wins over any forwarded header.
	PublicBaseURL string
	// TrustedProxies are addresses or CIDR ranges whose X-Forwarded-* and
	// Forwarded headers are believed. Others' are ignored.
	TrustedProxies []string
	// RoutePrefix is where Routes is mounted; default "/auth/".
	RoutePrefix string

	Session SessionConfig

	// Environment is the app's environment name, as ASP.NET Core names it
	// (Development, Staging, Production). LoadConfig sets it from
	// ENTRAWEB_ENVIRONMENT, ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT.
	// In Development, error pages also show the operator's details (the
	// AADSTS code, the configuration key, the fix) that otherwise go only
	// to the log.
	Environment string

	// HTTPClient talks to the identity provider; nil means a client with
	// sane timeouts that trusts the system roots (SSL_CERT_FILE works).
	HTTPClient *http.Client `json:"-"`
	// Logger receives entraweb's structured logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
	// Store overrides Session.Store with a store built in code.
	Store session.Store `json:"-"`
}

// CertificateSource locates a certificate credential: a file (Path), or
// the file's content in base64 (Base64, as a secret store hands it out).
// PEM files hold the certificate and an unencrypted private key; PFX
// (PKCS#12) files may be protected with Password.
type CertificateSource struct {
	Path     string
	Base64   Secret
	Password Secret
	// SendX5C sends the certificate chain with each assertion, for
	// subject-name/issuer authentication (certificate auto-rotation).
	SendX5C bool
}

func (c CertificateSource) set() bool { return c.Path != "" || c.Base64 != "" }

// ManagedIdentitySource selects the managed identity whose token serves as
// the app's client assertion.
type ManagedIdentitySource struct {
	// ClientID of a user-assigned identity; empty for the system-assigned one.
	ClientID string
}

// SessionConfig configures server-side sessions.
type SessionConfig struct {
	// IdleTimeout ends a session unused for this long; default 1h.
	IdleTimeout Duration
	// Lifetime ends a session this long after sign-in; default 12h.
	Lifetime Duration
	// Key is the base64 of a 32-byte key that encrypts sessions and tokens
	// at rest (AES-256-GCM). PreviousKeys still decrypt, for rotation.
	// Without a key, a memory store uses a random one, and the bolt store
	// generates one and keeps it beside its file (with a warning). The
	// redis store requires one: every instance must share it.
	Key          Secret
	PreviousKeys []Secret
	// Store is "memory", "bolt" (an embedded file database, the default
	// when the boltstore package is linked in) or "redis" (for several
	// instances; link in the redisstore package).
	Store string
	// Path is the bolt store's file; default "entraweb-sessions.db".
	Path string
	// RedisURL locates Redis for the redis store:
	// redis://[user:password@]host:6379/0, or rediss:// for TLS; package
	// redisstore documents Sentinel, Cluster and timeout parameters. A
	// RedisURL with Store left empty selects the redis store, and so does
	// the ENTRAWEB_REDIS_URL environment variable, which sets it.
	RedisURL Secret
	// KeyPrefix goes before every key the redis store writes, so apps can
	// share a database; default "entraweb:".
	KeyPrefix string
}

// Secret is a string that never prints: not in logs, errors or %v.
type Secret string

func (Secret) String() string { return "[redacted]" }

// LogValue keeps a Secret out of structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Duration is a time.Duration read as "90s" or "1h30m", or as .NET's
// "hh:mm:ss".
type Duration time.Duration

func (d Duration) or(def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return time.Duration(d)
}

const defaultInstance = "https://login.microsoftonline.com/"

// settings is a validated Config with everything derived from it.
type settings struct {
	cfg           Config
	authority     string // https://host/tenant
	authorityHost string // https://host
	tenant        string // as configured, lower-cased
	multiTenant   bool
	allowed       map[string]bool // nil: any tenant
	prefix        string
	callbackPath  string
	signedOutPath string
	publicBase    *url.URL // nil: from the request
	proxies       []netip.Prefix
	roles         *roleSet
	sessionKeys   [][]byte
	store         string // memory, bolt, redis or "" (the default)
	idle, life    time.Duration
	httpClient    *http.Client
	log           *slog.Logger
	now           func() time.Time
}

var tenantWordRE = map[string]bool{"organizations": true, "common": true}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Validate checks the configuration without contacting anyone, and
// reports every problem at once, each with the name of its key. New calls
// it; a deployment check can call it alone.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
}

// validate checks a Config and derives settings, reporting every problem
// at once with the name of its key.
func (c Config) validate() (*settings, error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	s := &settings{cfg: c}

	inst := c.Instance
	if inst == "" {
		inst = defaultInstance
	}
	u, err := url.Parse(inst)
	switch {
	case err != nil || u.Host == "":
		bad("AzureAd:Instance", "%q is not a URL such as https://login.microsoftonline.com/", inst)
	case u.Scheme != "https":
		bad("AzureAd:Instance", "%q: the authority must use https", inst)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("AzureAd:Instance", "%q must be a host URL only (no path, query or credentials); put the tenant in TenantId", inst)
	default:
		s.authorityHost = "https://" + u.Host
	}

	s.tenant = strings.ToLower(strings.TrimSpace(c.TenantID))
	switch {
	case s.tenant == "":
		bad("AzureAd:TenantId", "missing: set the directory (tenant) id, a verified domain, or organizations")
	case s.tenant == "consumers":
		bad("AzureAd:TenantId", "consumers (personal Microsoft accounts) is not supported: their tokens carry no tenant or app roles")
	case tenantWordRE[s.tenant]:
		s.multiTenant = true
	case isGUID(s.tenant):
	case strings.Contains(s.tenant, ".") && !strings.ContainsAny(s.tenant, "/?#@: "):
	default:
		bad("AzureAd:TenantId", "%q is not a tenant id (GUID), a domain, organizations or common", c.TenantID)
	}
	s.authority = s.authorityHost + "/" + s.tenant

	if !isGUID(c.ClientID) {
		if c.ClientID == "" {
			bad("AzureAd:ClientId", "missing: set the app registration's application (client) id")
		} else {
			bad("AzureAd:ClientId", "%q is not a GUID (the application (client) id of the app registration)", c.ClientID)
		}
	}
	var creds []string
	if c.ClientSecret != "" {
		creds = append(creds, "a client secret")
	}
	if c.ClientCertificate.set() {
		creds = append(creds, "a certificate")
		if c.ClientCertificate.Path != "" && c.ClientCertificate.Base64 != "" {
			bad("AzureAd:ClientCredentials", "a certificate is given both as a path and in base64: keep one")
		}
	}
	if c.FederatedTokenFile != "" {
		creds = append(creds, "a federated token file")
	}
	if c.ManagedIdentity != nil {
		creds = append(creds, "a managed identity")
	}
	switch {
	case len(creds) == 0:
		bad("AzureAd:ClientCredentials", "missing: a web app needs a client credential: a secret (AZURE_CLIENT_SECRET), a certificate (AZURE_CLIENT_CERTIFICATE_PATH), a federated token file (AZURE_FEDERATED_TOKEN_FILE) or a managed identity")
	case len(creds) > 1:
		bad("AzureAd:ClientCredentials", "%s are configured; keep one", strings.Join(creds, " and "))
	}
	if c.GraphURL != "" {
		gu, err := url.Parse(c.GraphURL)
		if err != nil || gu.Scheme != "https" || gu.Host == "" || gu.RawQuery != "" || gu.Fragment != "" {
			bad("Entraweb:GraphUrl", "%q must be an https URL such as https://graph.microsoft.com", c.GraphURL)
		}
	}
	for i, cp := range c.ClientCapabilities {
		if cp == "" || strings.ContainsAny(cp, " \t\"") {
			bad(fmt.Sprintf("AzureAd:ClientCapabilities:%d", i), "%q is not a capability such as CP1", cp)
		}
	}

	switch {
	case s.multiTenant && len(c.AllowedTenants) == 0:
		bad("Entraweb:AllowedTenants", "required when TenantId is %s: list the tenant ids whose users may sign in, or [\"*\"] for every tenant", s.tenant)
	case !s.multiTenant && len(c.AllowedTenants) > 0:
		bad("Entraweb:AllowedTenants", "only applies when TenantId is organizations or common")
	case slices.Contains(c.AllowedTenants, "*"):
		if len(c.AllowedTenants) > 1 {
			bad("Entraweb:AllowedTenants", "\"*\" cannot be combined with tenant ids")
		}
	case s.multiTenant:
		s.allowed = map[string]bool{}
		for i, t := range c.AllowedTenants {
			if !isGUID(t) {
				bad(fmt.Sprintf("Entraweb:AllowedTenants:%d", i), "%q is not a tenant id (GUID)", t)
			}
			s.allowed[strings.ToLower(t)] = true
		}
	}
	for i, sc := range c.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\n") {
			bad(fmt.Sprintf("Entraweb:Scopes:%d", i), "%q is not a single scope", sc)
		}
		switch strings.ToLower(sc) {
		case "openid", "profile", "offline_access", "email":
			bad(fmt.Sprintf("Entraweb:Scopes:%d", i), "%q is always requested; list only resource scopes such as User.Read", sc)
		}
	}

	s.prefix = c.RoutePrefix
	if s.prefix == "" {
		s.prefix = "/auth/"
	}
	if !strings.HasPrefix(s.prefix, "/") || !strings.HasSuffix(s.prefix, "/") || strings.ContainsAny(s.prefix, "?#\\ ") || strings.Contains(s.prefix, "//") {
		bad("Entraweb:RoutePrefix", "%q must be a path that starts and ends with /", s.prefix)
	}
	s.callbackPath = c.CallbackPath
	if s.callbackPath == "" {
		s.callbackPath = s.prefix + "callback"
	}
	if !strings.HasPrefix(s.callbackPath, s.prefix) || len(s.callbackPath) == len(s.prefix) || strings.ContainsAny(s.callbackPath, "?#\\ ") {
		bad("AzureAd:CallbackPath", "%q must be a path under RoutePrefix %q, which Routes serves", s.callbackPath, s.prefix)
	}
	s.signedOutPath = c.SignedOutCallbackPath
	if s.signedOutPath == "" {
		s.signedOutPath = "/"
	}
	if !strings.HasPrefix(s.signedOutPath, "/") || strings.HasPrefix(s.signedOutPath, "//") || strings.ContainsAny(s.signedOutPath, "?#\\ ") {
		bad("AzureAd:SignedOutCallbackPath", "%q must be an absolute path such as /", s.signedOutPath)
	}

	if c.PublicBaseURL != "" {
		pu, err := url.Parse(c.PublicBaseURL)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" || pu.User != nil {
			bad("Entraweb:PublicBaseUrl", "%q must be an absolute http(s) URL without query or fragment", c.PublicBaseURL)
		} else {
			pu.Path = strings.TrimSuffix(pu.Path, "/")
			s.publicBase = pu
		}
	}
	for i, p := range c.TrustedProxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			a, err2 := netip.ParseAddr(p)
			if err2 != nil {
				bad(fmt.Sprintf("Entraweb:TrustedProxies:%d", i), "%q is not an IP address or CIDR range", p)
				continue
			}
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		s.proxies = append(s.proxies, pf.Masked())
	}

	rs, err := newRoleSet(c.Roles, c.MinimumRole)
	if err != nil {
		errs = append(errs, err)
	}
	s.roles = rs

	s.idle = c.Session.IdleTimeout.or(time.Hour)
	s.life = c.Session.Lifetime.or(12 * time.Hour)
	if s.idle > s.life {
		bad("Entraweb:Session:IdleTimeout", "%v is longer than Session:Lifetime %v", s.idle, s.life)
	}
	for i, k := range append([]Secret{c.Session.Key}, c.Session.PreviousKeys...) {
		if k == "" {
			if i > 0 {
				bad(fmt.Sprintf("Entraweb:Session:PreviousKeys:%d", i-1), "empty key")
			}
			continue
		}
		key, err := decodeKey(string(k))
		if err != nil {
			name := "Entraweb:Session:Key"
			if i > 0 {
				name = fmt.Sprintf("Entraweb:Session:PreviousKeys:%d", i-1)
			}
			bad(name, "%v", err)
			continue
		}
		s.sessionKeys = append(s.sessionKeys, key)
	}
	if c.Session.Key == "" && len(c.Session.PreviousKeys) > 0 {
		bad("Entraweb:Session:Key", "PreviousKeys are set but Key is not")
	}
	s.store = c.Session.Store
	if s.store == "" && c.Session.RedisURL != "" {
		s.store = "redis"
	}
	switch s.store {
	case "", "memory", "bolt":
		if c.Session.RedisURL != "" {
			bad("Entraweb:Session:RedisUrl", "only applies when Session:Store is redis, not %s", s.store)
		}
		if c.Session.KeyPrefix != "" {
			bad("Entraweb:Session:KeyPrefix", "only applies when Session:Store is redis, not %s", s.store)
		}
	case "redis":
		if c.Store != nil {
			break // a store built in code replaces the configured one
		}
		u := string(c.Session.RedisURL)
		switch {
		case u == "":
			bad("Entraweb:Session:RedisUrl", "missing: the redis store needs a URL such as redis://host:6379/0 (or set ENTRAWEB_REDIS_URL)")
		case !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://"):
			// The URL may hold a password: it is not quoted.
			bad("Entraweb:Session:RedisUrl", "must start with redis:// or rediss:// (TLS)")
		}
		if c.Session.Key == "" {
			bad("Entraweb:Session:Key", "required with the redis store: every instance must encrypt with the same key, or a session or sign-in started on one instance fails on the others (make one with: openssl rand -base64 32)")
		}
	default:
		bad("Entraweb:Session:Store", "%q: use memory, bolt or redis", c.Session.Store)
	}
	return s, errors.Join(errs...)
}

// decodeKey reads a 32-byte key in standard or URL-safe base64.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(strings.TrimSpace(s)); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("the key decodes to %d bytes; it must be 32 (make one with: openssl rand -base64 32)", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64 (make a key with: openssl rand -base64 32)")
}
