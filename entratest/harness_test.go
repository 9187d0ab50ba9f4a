package entratest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// Helpers shared by this package's endpoint tests. Their names carry an
// "emu" prefix because other test files of the package are written
// concurrently by other people and must not clash with them.

const (
	// emuCallback is one of DemoApp's registered redirect URIs: http on a
	// loopback host, so any port also matches it.
	emuCallback = "http://localhost/auth/callback"
	// emuVerifier is the PKCE verifier every default sign-in uses.
	emuVerifier = "emu-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
	emuAlice    = "alice@contoso.onmicrosoft.com"
	emuBob      = "bob@contoso.onmicrosoft.com"
	emuCarol    = "carol@contoso.onmicrosoft.com"
	emuDave     = "dave@contoso.onmicrosoft.com"
	emuErin     = "erin@contoso.onmicrosoft.com"
	emuFrank    = "frank@fabrikam.onmicrosoft.com"
	emuScopes   = "openid profile offline_access User.Read"
)

func emuChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// emuClock is a settable clock for Options.Now, so expiry is tested by
// moving time rather than waiting.
type emuClock struct {
	mu  sync.Mutex
	now time.Time
}

func newEmuClock() *emuClock {
	return &emuClock{now: time.Now().Truncate(time.Second)}
}

func (c *emuClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *emuClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// emu wraps a server with the requests the tests repeat.
type emu struct {
	srv *entratest.Server
	// noFollow is an HTTP client that never follows redirects, so that a
	// redirect to an app (which does not exist) can be inspected.
	noFollow *http.Client
}

func newEmu(t testing.TB, opts *entratest.Options) *emu {
	t.Helper()
	srv := entratest.NewServer(t, opts)
	return &emu{srv: srv, noFollow: &http.Client{
		Transport:     srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// authURL builds an authorization URL for DemoApp on tenant ("" is the
// default tenant) with state, nonce and an S256 challenge; set overrides
// parameters and an empty value removes one.
func (e *emu) authURL(tenant string, set url.Values) string {
	if tenant == "" {
		tenant = entratest.DemoTenantID
	}
	q := url.Values{
		"client_id":             {entratest.DemoClientID},
		"response_type":         {"code"},
		"redirect_uri":          {emuCallback},
		"scope":                 {emuScopes},
		"state":                 {"state-" + fmt.Sprint(time.Now().UnixNano())},
		"nonce":                 {"nonce-" + fmt.Sprint(time.Now().UnixNano())},
		"code_challenge":        {emuChallenge(emuVerifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range set {
		if len(v) == 0 || len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return e.srv.AuthorityFor(tenant) + "/oauth2/v2.0/authorize?" + q.Encode()
}

// signIn runs a sign-in in browser b and returns the callback; it fails
// the test when the emulator shows a page instead.
func (e *emu) signIn(t testing.TB, b *entratest.Browser, authURL, user string) *entratest.Callback {
	t.Helper()
	cb, err := b.SignIn(context.Background(), authURL, user, entratest.DemoPassword)
	if err != nil {
		t.Fatalf("sign-in as %s: %v", user, err)
	}
	return cb
}

// code signs user in with the default parameters (plus set) in a fresh
// browser and returns the code.
func (e *emu) code(t testing.TB, user string, set url.Values) string {
	t.Helper()
	cb := e.signIn(t, e.srv.Browser(), e.authURL("", set), user)
	c := cb.Params.Get("code")
	if c == "" {
		t.Fatalf("no code in callback: %v", cb.Params)
	}
	return c
}

// emuRedeemForm is the form of a code redemption by DemoApp with its secret.
func emuRedeemForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret},
		"code":          {code},
		"redirect_uri":  {emuCallback},
		"code_verifier": {emuVerifier},
		"scope":         {emuScopes},
	}
}

// post sends a form to the token endpoint of tenant ("" for the default);
// mod may change the request before it is sent. The body is decoded with
// json.Number so integer fields can be told from floats.
func (e *emu) post(t testing.TB, tenant string, form url.Values, mod func(*http.Request)) (int, map[string]any) {
	t.Helper()
	if tenant == "" {
		tenant = entratest.DemoTenantID
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.AuthorityFor(tenant)+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if mod != nil {
		mod(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, emuDecode(t, resp)
}

func emuDecode(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, body %.300s", resp.Request.Method, resp.Request.URL.Path, ct, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v: %.300s", resp.Request.URL.Path, err, raw)
	}
	return m
}

// tokens redeems form and fails unless the answer is a token response.
func (e *emu) tokens(t testing.TB, form url.Values) map[string]any {
	t.Helper()
	st, body := e.post(t, "", form, nil)
	if st != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("token request: HTTP %d %v", st, body)
	}
	return body
}

// signInTokens signs user in and redeems the code with the default scopes.
func (e *emu) signInTokens(t testing.TB, user string) map[string]any {
	t.Helper()
	return e.tokens(t, emuRedeemForm(e.code(t, user, nil)))
}

func emuRefreshForm(rt, scope string) url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret},
		"refresh_token": {rt},
		"scope":         {scope},
	}
}

var emuDescRE = regexp.MustCompile(`^AADSTS(\d+): `)

// emuWantErr checks an error answer of the token endpoint (or discovery):
// status, OAuth error, AADSTS code, and the platform's body shape.
func emuWantErr(t testing.TB, status int, body map[string]any, wantStatus int, wantErr string, wantCode int) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("HTTP status %d, want %d (body %v)", status, wantStatus, body)
	}
	if body["error"] != wantErr {
		t.Errorf("error = %v, want %s (%v)", body["error"], wantErr, body["error_description"])
	}
	desc, _ := body["error_description"].(string)
	m := emuDescRE.FindStringSubmatch(desc)
	if m == nil || m[1] != fmt.Sprint(wantCode) {
		t.Errorf("error_description = %q, want it to start AADSTS%d: ", desc, wantCode)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || fmt.Sprint(codes[0]) != fmt.Sprint(wantCode) {
		t.Errorf("error_codes = %v, want [%d]", body["error_codes"], wantCode)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if s, _ := body[k].(string); s == "" {
			t.Errorf("%s missing from the error body %v", k, body)
		}
	}
	for _, k := range []string{"trace_id", "correlation_id"} {
		if s, _ := body[k].(string); !entratest.IsGUID(s) {
			t.Errorf("%s = %q, not a GUID", k, s)
		}
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", fmt.Sprint(body["timestamp"])); err != nil {
		t.Errorf("timestamp %v: %v", body["timestamp"], err)
	}
	if body["access_token"] != nil || body["refresh_token"] != nil {
		t.Errorf("an error answer carries tokens: %v", body)
	}
}

// emuClaims decodes a JWT's header and payload without verifying it.
func emuClaims(t testing.TB, jwt string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// getJSON GETs a URL with the server's client and decodes the JSON answer.
func (e *emu) getJSON(t testing.TB, u string, hdr http.Header) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, emuDecode(t, resp)
}

// get GETs a URL with c without following redirects to other hosts and
// returns the answer and its body.
func emuGet(t testing.TB, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// jwks fetches the default tenant's signing keys by kid.
func (e *emu) jwks(t testing.TB) map[string]*rsa.PublicKey {
	t.Helper()
	st, _, body := e.getJSON(t, e.srv.Authority()+"/discovery/v2.0/keys", nil)
	if st != http.StatusOK {
		t.Fatalf("JWKS: HTTP %d", st)
	}
	out := map[string]*rsa.PublicKey{}
	keys, _ := body["keys"].([]any)
	for _, k := range keys {
		m := k.(map[string]any)
		n, err1 := base64.RawURLEncoding.DecodeString(fmt.Sprint(m["n"]))
		ex, err2 := base64.RawURLEncoding.DecodeString(fmt.Sprint(m["e"]))
		if err1 != nil || err2 != nil {
			t.Fatalf("JWKS key %v: bad n or e", m["kid"])
		}
		out[fmt.Sprint(m["kid"])] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	}
	return out
}

// emuVerify checks a JWT's RS256 signature against a key set, as a
// relying party would.
func emuVerify(jwt string, keys map[string]*rsa.PublicKey) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return err
	}
	var h struct{ Alg, Kid, Nonce string }
	if err := json.Unmarshal(hb, &h); err != nil {
		return err
	}
	if h.Nonce != "" {
		// A Graph token: its signature covers the header with the
		// nonce's SHA-256 in its place, as Graph knows.
		var hm map[string]any
		json.Unmarshal(hb, &hm)
		sum := sha256.Sum256([]byte(h.Nonce))
		hm["nonce"] = base64.RawURLEncoding.EncodeToString(sum[:])
		hb, _ = json.Marshal(hm)
		parts[0] = base64.RawURLEncoding.EncodeToString(hb)
	}
	if h.Alg != "RS256" {
		return fmt.Errorf("alg %q", h.Alg)
	}
	pub := keys[h.Kid]
	if pub == nil {
		return fmt.Errorf("unknown kid %q", h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// addApp registers another app in the default tenant.
func (e *emu) addApp(t testing.TB, app entratest.App) {
	t.Helper()
	if err := e.srv.Update(func(c *entratest.Config) { c.Tenants[0].Apps = append(c.Tenants[0].Apps, app) }); err != nil {
		t.Fatal(err)
	}
}

// emuOtherID is the client id of the second app some tests register.
var emuOtherID = entratest.StableID("app:other")

const emuOtherSecret = "other-app-secret-value"

func emuOtherApp() entratest.App {
	return entratest.App{
		ClientID: emuOtherID, DisplayName: "OtherApp",
		Secrets:         []entratest.Secret{{Value: emuOtherSecret}},
		RedirectURIs:    []string{"https://other.example/cb", emuCallback},
		ConsentedScopes: []string{entratest.GraphResource + "/User.Read"},
	}
}
