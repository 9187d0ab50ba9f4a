package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/entraweb/entraweb/internal/guid"

	"github.com/entraweb/entraweb/internal/oidc"
)

// MaxClockSkew is the clock difference past which a check fails: tokens
// are checked with two minutes' leeway, and the provider checks the
// times of client assertions.
const MaxClockSkew = 2 * time.Minute

// dateCatcher remembers the Date header of the last answer and when
// the request went out and the answer came back, by the local clock.
type dateCatcher struct {
	rt  http.RoundTripper
	now func() time.Time

	mu         sync.Mutex
	date       string
	sent, recv time.Time
}

func (d *dateCatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	sent := d.now()
	resp, err := d.rt.RoundTrip(r)
	if err == nil {
		d.mu.Lock()
		d.date, d.sent, d.recv = resp.Header.Get("Date"), sent, d.now()
		d.mu.Unlock()
	}
	return resp, err
}

// checkDiscovery reads the discovery document as New does, checks that
// its issuer is the configured tenant's, and compares the provider's
// clock (its Date header) with this machine's. discovered is false when New
// would stop here.
func checkDiscovery(ctx context.Context, in Input) (disc, clock Result, discovered bool) {
	disc = Result{Name: "authority"}
	clock = Result{Name: "clock", Status: Skip, Message: "not compared: the provider did not answer"}
	rt := in.HTTPClient.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	catcher := &dateCatcher{rt: rt, now: in.Now}
	client := *in.HTTPClient
	client.Transport = catcher
	md, err := oidc.Discover(ctx, &client, in.Authority, in.MultiTenant)
	catcher.mu.Lock()
	date, sent, recv := catcher.date, catcher.sent, catcher.recv
	catcher.mu.Unlock()
	if !recv.IsZero() {
		clock = checkClock(date, sent, recv)
	}
	if err != nil {
		disc.Status = Fail
		var er *oidc.ErrorResponse
		switch {
		case errors.As(err, &er):
			msg, fix := in.Explain(er)
			disc.Message, disc.Fix = fmt.Sprintf("%s refused discovery: %s", in.Authority, msg), fix
		case errors.Is(err, oidc.ErrProviderUnavailable):
			disc.Message = fmt.Sprintf("%s does not answer discovery: %v", in.Authority, err)
			disc.Fix = "check AzureAd:Instance (AZURE_AUTHORITY_HOST), the network and any proxy (HTTPS_PROXY); for a private CA set SSL_CERT_FILE"
		default:
			disc.Message = err.Error()
			disc.Fix = "check AzureAd:Instance and AzureAd:TenantId"
		}
		return disc, clock, false
	}
	// The issuer is https://<authority host>/<tenant id>/v2.0: the GUID
	// even when the tenant is configured by domain, the {tenantid}
	// template for organizations and common.
	seg, ok := strings.CutPrefix(md.Issuer, in.AuthorityHost+"/")
	if ok {
		seg, ok = strings.CutSuffix(seg, "/v2.0")
	}
	switch {
	case !ok || strings.Contains(seg, "/"):
		ok = false
	case in.MultiTenant:
		ok = seg == oidc.TenantPlaceholder
	case guid.Valid(in.Tenant):
		ok = strings.EqualFold(seg, in.Tenant)
	default:
		ok = guid.Valid(seg)
	}
	if !ok {
		disc.Status = Fail
		disc.Message = fmt.Sprintf("the issuer %q of %s does not fit the tenant %q on %s", md.Issuer, in.Authority, in.Tenant, in.AuthorityHost)
		disc.Fix = "check AzureAd:TenantId and AzureAd:Instance: tokens from this issuer would be refused"
		return disc, clock, false
	}
	disc.Status = OK
	disc.Message = fmt.Sprintf("%s answers discovery; issuer %s", in.Authority, md.Issuer)
	if !in.MultiTenant && !guid.Valid(in.Tenant) {
		disc.Message += fmt.Sprintf(" (%s is the tenant %s)", in.Tenant, seg)
	}
	return disc, clock, true
}

// checkClock compares the provider's Date with the midpoint of the
// request by the local clock. Date has a resolution of a second, far
// below the limit.
func checkClock(date string, sent, recv time.Time) Result {
	r := Result{Name: "clock"}
	theirs, err := http.ParseTime(date)
	if err != nil {
		r.Status, r.Message = Skip, "not compared: the provider's answer had no usable Date header"
		return r
	}
	// Date is truncated to the second: its true value lies half a second
	// later on average. Shown to ten seconds, which is all it can tell.
	ours := sent.Add(recv.Sub(sent) / 2)
	skew := ours.Sub(theirs.Add(500 * time.Millisecond))
	shown := skew.Abs().Round(10 * time.Second)
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	if skew.Abs() > MaxClockSkew {
		r.Status = Fail
		r.Message = fmt.Sprintf("this machine's clock is about %v %s the identity provider's (more than %v): tokens will be refused as expired or not yet valid", shown, dir, MaxClockSkew)
		r.Fix = "synchronize the clock with NTP (timedatectl set-ntp true, or chrony/ntpd)"
		return r
	}
	r.Status, r.Message = OK, fmt.Sprintf("within %v of the identity provider's", max(shown, 10*time.Second))
	return r
}

// checkCredential makes the client-credentials request New makes at
// start-up, and keeps the token for the Graph comparison.
func checkCredential(ctx context.Context, in Input, discovered bool) (Result, string) {
	r := Result{Name: "credential", Status: Skip}
	switch {
	case in.MultiTenant:
		r.Message = "not checked: a multi-tenant authority (organizations, common) has no tenant to ask an app token of; the first sign-in uses the credential"
		return r, ""
	case in.Quick:
		r.Message = "not checked (quick)"
		return r, ""
	case !discovered:
		r.Message = "not checked: discovery failed (see authority)"
		return r, ""
	}
	tok, err := in.AppToken(ctx)
	if err != nil {
		msg, fix := in.Explain(err)
		r.Status, r.Message, r.Fix = Fail, "the client credential was refused: "+msg, fix
		return r, ""
	}
	r.Status, r.Message = OK, "Entra ID issued an app token (client credentials) for the app "+in.ClientID
	return r, tok
}

// checkRedirect checks the redirect URI the app will send, when the
// configuration fixes it.
func checkRedirect(in Input) Result {
	r := Result{Name: "redirect URI"}
	if in.PublicBaseURL == "" {
		r.Status = Warn
		r.Message = "Entraweb:PublicBaseUrl is not set: the redirect URI is built from each request's Host (and forwarded headers of Entraweb:TrustedProxies), so it cannot be checked here"
		r.Fix = "set Entraweb:PublicBaseUrl to the URL users reach the app at, such as https://app.example.com"
		return r
	}
	cb := redirectURI(in.PublicBaseURL, in.CallbackPath)
	u, err := url.Parse(cb)
	if err != nil || u.Scheme != "https" && !oidc.IsLoopbackHost(u.Hostname()) {
		r.Status = Fail
		r.Message = fmt.Sprintf("%s is plain http outside loopback: Entra ID accepts http redirect URIs only for localhost and 127.0.0.1, and the session cookie would travel unencrypted", cb)
		r.Fix = "serve the app over https (a TLS proxy in front is fine) and set Entraweb:PublicBaseUrl to its https URL"
		return r
	}
	r.Status, r.Message = OK, cb
	return r
}

// redirectURI joins the public base URL (which may carry a path prefix)
// and an absolute path.
func redirectURI(base, path string) string {
	return strings.TrimSuffix(base, "/") + path
}

// checkSessionKey: a key must be configured where sessions outlive the
// process or are shared.
func checkSessionKey(in Input) Result {
	r := Result{Name: "session key"}
	switch {
	case in.SessionKey:
		r.Status, r.Message = OK, "Entraweb:Session:Key is set"
	case in.Store == "redis":
		r.Status = Fail
		r.Message = "the redis store is shared by every instance, and Entraweb:Session:Key is not set"
	case in.Production:
		r.Status = Fail
		r.Message = "the environment is Production and Entraweb:Session:Key is not set: sessions are sealed with a key made at start-up (memory store) or kept beside the data file (bolt store), so a restart or a second instance signs everyone out, or the key sits next to what it protects"
	default:
		r.Status, r.Message = OK, "not set: a key is made for this process (fine outside Production with one instance)"
	}
	if r.Status == Fail {
		r.Fix = "make one with openssl rand -base64 32 and give it to every instance as Entraweb:Session:Key (Entraweb__Session__Key) from a secret store"
	}
	return r
}

// checkStore reaches the session store as the app will.
func checkStore(ctx context.Context, in Input) []Result {
	r := Result{Name: "session store"}
	switch in.Store {
	case "", "memory":
		r.Status, r.Message = OK, "memory: nothing to reach (sessions end with the process)"
		return []Result{r}
	case "bolt":
		if err := writable(in.BoltPath); err != nil {
			r.Status, r.Message = Fail, fmt.Sprintf("bolt: %s cannot be written: %v", in.BoltPath, err)
			r.Fix = "create its directory and let the app's user write there (Entraweb:Session:Path)"
			return []Result{r}
		}
		r.Status, r.Message = OK, "bolt: "+in.BoltPath+" can be written"
		return []Result{r}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := in.PingStore(ctx); err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("%s: does not answer: %v", in.Store, err)
		if in.Store == "redis" {
			r.Fix = "check Entraweb:Session:RedisUrl (ENTRAWEB_REDIS_URL), that Redis runs and that this machine may reach it"
		}
		return []Result{r}
	}
	r.Status, r.Message = OK, in.Store+": answers"
	if in.Store != "redis" {
		return []Result{r}
	}
	return []Result{r, checkTracking(ctx, in)}
}

// writable checks that the bolt file can be written without opening it
// as a database, which would wait for the lock a running app holds.
func writable(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	probe, err := os.CreateTemp(dir, ".entraweb-doctor-*")
	if err != nil {
		return fmt.Errorf("the file does not exist and its directory does not take new files: %w", err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}
