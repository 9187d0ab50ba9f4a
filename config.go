package entraweb

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/entraweb/entraweb/internal/origin"
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
	// to sign in at all; users without it get a 403 page. Callers of the
	// app's API (RequireScope and the other API middleware), users and
	// apps alike, need it too, or get 403 insufficient_scope.
	MinimumRole string
	// AccessContact names who grants app roles, for the 403 page
	// (default "the app's administrator").
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

	// API configures the protection of the app's JSON API with Entra
	// access tokens (RequireScope, RequireAppRole).
	API APIConfig

	// Environment is the app's environment name, as ASP.NET Core names it
	// (Development, Staging, Production). LoadConfig sets it from
	// ENTRAWEB_ENVIRONMENT, ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT.
	// In Development, error pages also show the operator's details (the
	// AADSTS code, the configuration key, the fix) that otherwise go only
	// to the log.
	Environment string

	// SkipCredentialCheck turns off the check New makes of the client
	// credential: one client-credentials request for Microsoft Graph's
	// ".default" scope, which succeeds for any registered app with a good
	// credential (application permissions are not needed), so that a wrong
	// or expired secret stops the app at start-up instead of failing the
	// first user's sign-in. Configuration: Entraweb:VerifyCredentialAtStart
	// false.
	SkipCredentialCheck bool

	// ErrorPage, when set, renders the error pages entraweb would show a
	// browser (a 403 for a missing role or group, a sign-in that did not
	// complete, an unavailable provider or store), so that a refused user
	// stays inside the app's own layout. It must write the whole answer,
	// with p.Status. API calls and fetches still get entraweb's JSON. The
	// default pages speak to the end user; p.Operator holds the
	// administrator's instructions.
	ErrorPage func(w http.ResponseWriter, r *http.Request, p *Problem) `json:"-"`
	// HTTPClient talks to the identity provider, and its transport carries
	// the calls of Client and AppClient to APIs; nil means a client with
	// sane timeouts that trusts the system roots (SSL_CERT_FILE works).
	HTTPClient *http.Client `json:"-"`
	// Logger receives entraweb's structured logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
	// Observe, when set, is told of sign-ins, failed sign-ins (by reason
	// and AADSTS code), token refreshes and their latency, refusals, and
	// every session store call with its latency: the hook for metrics and
	// traces (Prometheus, OpenTelemetry), with no dependency in entraweb.
	// It is called on the request's goroutine, so it must be quick and
	// safe for concurrent use.
	Observe func(context.Context, Event) `json:"-"`
	// Store overrides Session.Store with a store built in code.
	Store session.Store `json:"-"`

	// ignored are the settings keys LoadConfig read and ignored (keys of
	// ASP.NET Core's options that mean nothing here); New logs them.
	ignored []string
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
	// Store is "memory" (the default: sessions end when the process
	// does), "bolt" (an embedded file database that survives restarts;
	// link in the boltstore package and set Path) or "redis" (for several
	// instances; link in the redisstore package). Linking a store package
	// only makes its name known here: it changes no default.
	Store string
	// Path is the bolt store's file, e.g. /var/lib/myapp/sessions.db.
	// Required with the bolt store: entraweb never picks a file by itself.
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
	origin        origin.Trust
	roles         *roleSet
	sessionKeys   [][]byte
	store         string // memory, bolt, redis or "" (the default)
	idle, life    time.Duration
	development   bool // Environment is Development
	httpClient    *http.Client
	log           *slog.Logger
	now           func() time.Time
}

var multiTenantWords = map[string]bool{"organizations": true, "common": true}

// Validate checks the configuration without contacting anyone, and
// reports every problem at once, each with the name of its key. New calls
// it; a deployment check can call it alone.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
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
