// Package doctor checks a deployment of entraweb the way it will run:
// the authority's discovery document and issuer, the client credential,
// the redirect URI, the session key and store, the clock against the
// provider's, a certificate's expiry and, when Microsoft Graph allows it,
// the app registration against the configuration. The root package's
// Check fills an Input from a Config; the entraweb command's doctor
// subcommand prints the Report.
//
// No Result ever carries a secret or a token: messages name keys and
// URLs, and errors are the provider's parsed answers, not raw bodies.
package doctor

import (
	"context"
	"net/http"
	"time"
)

// Status is the outcome of one check.
type Status string

// The outcomes. Only Fail makes a Report fail.
const (
	OK   Status = "ok"
	Warn Status = "warn" // works now, needs attention (a certificate that expires soon)
	Fail Status = "fail" // sign-in will not work until it is fixed
	Skip Status = "skip" // not checked: not applicable, not allowed, or left out by Quick
)

// Result is one check's outcome: what was checked, what was found, and
// for anything but OK what to do.
type Result struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is every check's Result, in the order they ran.
type Report struct {
	Checks []Result `json:"checks"`
}

// OK reports whether no check failed (warnings and skips do not fail).
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return false
		}
	}
	return true
}

// CertificateSource locates a certificate credential, as the
// configuration does.
type CertificateSource struct {
	Path, Base64, Password string
}

// Input is a validated configuration, in plain values, with the few
// operations that need the root package (getting an app token, opening
// the store, explaining an error) passed in as functions.
type Input struct {
	// ConfigErr is Config.Validate's verdict; when set, nothing else runs.
	ConfigErr error

	Authority     string // https://host/tenant
	AuthorityHost string // https://host
	Tenant        string // as configured, lower-cased
	MultiTenant   bool   // organizations or common
	ClientID      string
	HTTPClient    *http.Client
	Now           func() time.Time
	// Quick leaves out the token request, the Graph comparison and the
	// Redis caching probe: what a readiness probe should not repeat.
	Quick bool

	PublicBaseURL string // "" when the app builds URLs from requests
	CallbackPath  string
	SignedOutPath string

	Production bool   // the environment is Production
	Store      string // memory, bolt, redis, or custom (a Store built in code)
	SessionKey bool   // Entraweb:Session:Key is set
	BoltPath   string
	RedisURL   string // holds a password: never printed
	// PingStore opens the store as the app does, pings it and closes it;
	// used for redis and custom stores.
	PingStore func(context.Context) error

	Certificate CertificateSource

	// AppToken asks for an app token for Microsoft Graph with the
	// client credential (a client-credentials request).
	AppToken func(context.Context) (string, error)
	// Explain turns an error of the provider into plain words and a fix.
	Explain  func(error) (message, fix string)
	GraphURL string
	// Roles are the app-role values the configuration names (hierarchy
	// and minimum role).
	Roles []string
}

// Run runs every check in.Quick allows and returns their results.
func Run(ctx context.Context, in Input) Report {
	if in.ConfigErr != nil {
		return Report{Checks: []Result{{Name: "configuration", Status: Fail, Message: in.ConfigErr.Error(),
			Fix: "correct the keys named above in appsettings*.json or the environment; the other checks run once the configuration is valid"}}}
	}
	if in.Now == nil {
		in.Now = time.Now
	}
	if in.HTTPClient == nil {
		in.HTTPClient = http.DefaultClient
	}
	r := &Report{}
	add := func(res ...Result) { r.Checks = append(r.Checks, res...) }
	add(Result{Name: "configuration", Status: OK, Message: "valid"})
	disc, clock, discovered := checkDiscovery(ctx, in)
	add(disc, clock)
	cred, token := checkCredential(ctx, in, discovered)
	add(cred)
	if c, ok := checkCertificate(in); ok {
		add(c)
	}
	add(checkRedirect(in), checkSessionKey(in))
	add(checkStore(ctx, in)...)
	add(checkRegistration(ctx, in, token)...)
	return *r
}
