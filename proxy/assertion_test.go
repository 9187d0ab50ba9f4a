package proxy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

// assertionOf signs alice in through e and returns the assertion the
// upstream received, with the rest of the echo.
func assertionOf(t *testing.T, e *env, path string) (string, seen) {
	t.Helper()
	b := e.signIn(t, alice)
	s := echo(t, client(b), e.url+path, fetchHeaders...)
	raw := s.Header.Get(proxy.AssertionHeader)
	if raw == "" {
		t.Fatalf("the upstream received no %s: %v", proxy.AssertionHeader, s.Header)
	}
	return raw, s
}

// echo sends a request through the proxy and decodes the upstream's echo.
func echo(t *testing.T, c *http.Client, u string, headers ...string) seen {
	t.Helper()
	resp, body := do(t, c, "GET", u, headers...)
	return echoed(t, resp, body)
}

// verifierFor verifies assertions for e's upstream with the keys e's
// proxy publishes.
func verifierFor(e *env) *proxy.AssertionVerifier {
	v := proxy.NewAssertionVerifier(e.url+proxy.KeysPath, e.up.URL, nil)
	v.Issuer = e.url
	return v
}

func TestAssertionVerifiesThroughTheProxy(t *testing.T) {
	e := newEnv(t, nil)
	raw, s := assertionOf(t, e, "/private")
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(proxy.AssertionHeader, raw)
	a, err := verifierFor(e).Verify(req)
	if err != nil {
		t.Fatal(err)
	}
	p := principal(t, s.Header)
	checks := []struct{ name, got, want string }{
		{"oid", a.ObjectID, s.Header.Get("X-Ms-Client-Principal-Id")},
		{"sub", a.Subject, a.ObjectID},
		{"tid", a.TenantID, entratest.DemoTenantID},
		{"preferred_username", a.PreferredUsername, alice},
		{"name", a.Name, strings.Join(claimVals(p.Claims, "name"), "")},
		{"roles", strings.Join(a.Roles, ","), strings.Join(claimVals(p.Claims, "roles"), ",")},
		{"groups", strings.Join(a.Groups, ","), strings.Join(claimVals(p.Claims, "groups"), ",")},
		{"iss", a.Issuer, e.url},
		{"aud", strings.Join(a.Audience, ","), e.up.URL},
	}
	for _, c := range checks {
		if c.got != c.want || c.want == "" && c.name != "groups" {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(a.Roles) < 2 {
		t.Errorf("roles %v: alice is an admin, so the hierarchy gives her more than one", a.Roles)
	}
	if life := a.ExpiresAt.Sub(a.IssuedAt.Time); life != 5*time.Minute || !a.NotBefore.Equal(a.IssuedAt.Time) || a.ID == "" {
		t.Errorf("exp-iat %v, nbf %v, iat %v, jti %q: want a 5-minute life from iat and a jti", life, a.NotBefore, a.IssuedAt, a.ID)
	}

	// The header names the key, and the key set is what the issue promises.
	hdr, _, _ := strings.Cut(raw, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(hdr)
	var h struct{ Alg, Kid, Typ string }
	json.Unmarshal(hb, &h)
	resp, body := do(t, client(nil), "GET", e.url+proxy.KeysPath)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &set) != nil || len(set.Keys) != 1 {
		t.Fatalf("%s: %d %s", proxy.KeysPath, resp.StatusCode, body)
	}
	k := set.Keys[0]
	if h.Alg != "ES256" || h.Kid == "" || k["kid"] != h.Kid || k["kty"] != "EC" || k["crv"] != "P-256" ||
		k["use"] != "sig" || k["alg"] != "ES256" || len(k["x"]) != 43 || len(k["y"]) != 43 || k["d"] != "" {
		t.Errorf("header %+v, key %v", h, k)
	}
}

// An assertion is signed once and sent again while more than a minute of
// its life is left; then a new one is signed.
func TestAssertionIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	var now atomic.Int64
	start := time.Now()
	now.Store(start.UnixNano())
	e := newEnv(t, nil)
	proxy.SetClock(e.h, func() time.Time { return time.Unix(0, now.Load()) })
	b := e.signIn(t, alice)
	get := func() string {
		t.Helper()
		return echo(t, client(b), e.url+"/x", fetchHeaders...).Header.Get(proxy.AssertionHeader)
	}
	first := get()
	now.Store(start.Add(3*time.Minute + 59*time.Second).UnixNano())
	if second := get(); second != first {
		t.Error("a new assertion was signed with more than a minute of the old one's life left")
	}
	now.Store(start.Add(4*time.Minute + time.Second).UnixNano())
	third := get()
	if third == first {
		t.Fatal("the assertion was reused with less than a minute left")
	}
	v := verifierFor(e)
	v.Now = func() time.Time { return time.Unix(0, now.Load()) }
	if _, err := v.VerifyToken(context.Background(), third); err != nil {
		t.Errorf("the new assertion: %v", err)
	}
}

func TestAssertionRefused(t *testing.T) {
	e := newEnv(t, nil)
	raw, _ := assertionOf(t, e, "/private")
	parts := strings.Split(raw, ".")
	var claims map[string]any
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(pb, &claims)
	resp, body := do(t, client(nil), "GET", e.url+proxy.KeysPath)
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	kid := func() string {
		var set struct{ Keys []struct{ Kid string } }
		json.Unmarshal(body, &set)
		return set.Keys[0].Kid
	}()

	withClaim := func(k string, v any) string {
		c := map[string]any{}
		for ck, cv := range claims {
			c[ck] = cv
		}
		c[k] = v
		b, _ := json.Marshal(c)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}
	flipSig := func() string {
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[10] ^= 1
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()
	other, _ := proxy.GenerateAssertionKey()
	signed := func(m jwt.SigningMethod, key any, kid string) string {
		tok := jwt.NewWithClaims(m, jwt.MapClaims(claims))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	tests := []struct {
		name   string
		token  string
		modify func(*proxy.AssertionVerifier)
	}{
		{"a changed claim", withClaim("preferred_username", bob), nil},
		{"added roles", withClaim("roles", []string{"DemoApp.Admin", "Root"}), nil},
		{"a changed signature", flipSig, nil},
		{"no signature", parts[0] + "." + parts[1] + ".", nil},
		{"expired", raw, func(v *proxy.AssertionVerifier) {
			v.Now = func() time.Time { return time.Now().Add(5*time.Minute + 31*time.Second) }
		}},
		{"not yet valid", raw, func(v *proxy.AssertionVerifier) {
			v.Now = func() time.Time { return time.Now().Add(-time.Minute) }
		}},
		{"another audience", raw, func(v *proxy.AssertionVerifier) { v.Audience = "http://127.0.0.1:9999" }},
		{"no audience configured", raw, func(v *proxy.AssertionVerifier) { v.Audience = "" }},
		{"another issuer", raw, func(v *proxy.AssertionVerifier) { v.Issuer = "https://elsewhere.example" }},
		{"an unknown key", signed(jwt.SigningMethodES256, other, "not-published"), nil},
		{"another key under the proxy's kid", signed(jwt.SigningMethodES256, other, kid), nil},
		{"alg none", signed(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid), nil},
		{"HS256 keyed with the published key", signed(jwt.SigningMethodHS256, body, kid), nil},
		{"ES384", signed(jwt.SigningMethodES384, mustKey384(t), kid), nil},
		{"garbage", "not.a.jwt", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifierFor(e)
			if _, err := v.VerifyToken(context.Background(), raw); err != nil {
				t.Fatalf("the untouched assertion: %v", err)
			}
			if tt.modify != nil {
				tt.modify(v)
			}
			if a, err := v.VerifyToken(context.Background(), tt.token); err == nil {
				t.Errorf("accepted: %+v", a.AssertionClaims)
			}
		})
	}

	t.Run("no header", func(t *testing.T) {
		if _, err := verifierFor(e).Verify(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, proxy.ErrNoAssertion) {
			t.Errorf("err %v, want ErrNoAssertion", err)
		}
	})
}

func mustKey384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A client's X-Entraweb-Assertion never arrives: anonymous, it is
// dropped; signed in, the proxy's own takes its place.
func TestClientAssertionNeverArrives(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.PublicPaths = []string{"/public/"} })
	b := e.signIn(t, alice)
	for _, name := range headerVariants(proxy.AssertionHeader) {
		for _, c := range []struct {
			who  string
			cl   *http.Client
			path string
		}{{"anonymous", client(nil), "/public/x"}, {"alice", client(b), "/private"}} {
			s := echo(t, c.cl, e.url+c.path, append(slices.Clone(fetchHeaders), name, "spoofed")...)
			if bad := spoofedArrived(s.Header); len(bad) > 0 {
				t.Errorf("%s sending %s: arrived %v", c.who, name, bad)
			}
			got := s.Header.Get(proxy.AssertionHeader)
			if (c.who == "alice") != (got != "") {
				t.Errorf("%s: %s %q", c.who, proxy.AssertionHeader, got)
			}
		}
	}
}

func TestNoAssertion(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.NoAssertion = true })
	b := e.signIn(t, alice)
	s := echo(t, client(b), e.url+"/private", fetchHeaders...)
	if got := s.Header.Get(proxy.AssertionHeader); got != "" {
		t.Errorf("NoAssertion, yet the upstream received %s", proxy.AssertionHeader)
	}
	if resp, _ := do(t, client(nil), "GET", e.url+proxy.KeysPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("%s: %d, want 404 with the assertion off", proxy.KeysPath, resp.StatusCode)
	}
}

// The key file is made once, private, and read back on the next start:
// the keys an upstream cached stay valid.
func TestAssertionKeyFileSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "assertion-key.pem")
	var jwks [2]string
	var raw, aud string
	for i := range jwks {
		e := newEnv(t, func(c *proxy.Config) { c.AssertionKeyFile = path })
		_, body := do(t, client(nil), "GET", e.url+proxy.KeysPath)
		jwks[i] = string(body)
		if i == 0 {
			raw, _ = assertionOf(t, e, "/private")
			aud = e.up.URL
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, mode %v, want 0600", err, fi.Mode().Perm())
			}
		} else {
			// An upstream verifying with the new proxy's keys accepts what
			// the old one signed.
			v := proxy.NewAssertionVerifier(e.url+proxy.KeysPath, aud, nil)
			if _, err := v.VerifyToken(context.Background(), raw); err != nil {
				t.Errorf("the first proxy's assertion, with the second's keys: %v", err)
			}
		}
	}
	if jwks[0] != jwks[1] || !strings.Contains(jwks[0], `"kid"`) {
		t.Errorf("the key changed across a restart:\n%s\n%s", jwks[0], jwks[1])
	}
	k1, err1 := proxy.LoadAssertionKeyFile(path)
	k2, err2 := proxy.LoadAssertionKeyFile(path)
	if err1 != nil || err2 != nil || !k1.Equal(k2) {
		t.Errorf("loading twice: %v %v, equal %v", err1, err2, k1.Equal(k2))
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := proxy.LoadAssertionKeyFile(bad); err == nil {
		t.Error("a file without a key was accepted")
	}
}

// TestAssertionWithPyJWT verifies an assertion as a Python upstream
// would, with testdata/verify_assertion.py and PyJWT (Debian:
// python3-jwt), and shows that PyJWT refuses another audience.
func TestAssertionWithPyJWT(t *testing.T) {
	py := ""
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(c, "-c", "import jwt, cryptography").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		testenv.Missing(t, "python3 with PyJWT and cryptography", "apt-get install -y python3-jwt")
	}
	e := newEnv(t, nil)
	raw, _ := assertionOf(t, e, "/private")
	run := func(aud string) (string, error) {
		out, err := exec.Command(py, "testdata/verify_assertion.py", e.url+proxy.KeysPath, aud, e.url, raw).CombinedOutput()
		return string(out), err
	}
	out, err := run(e.up.URL)
	if err != nil {
		t.Fatalf("PyJWT refused the assertion: %v\n%s", err, out)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil || c["preferred_username"] != alice {
		t.Errorf("PyJWT's claims: %v %s", err, out)
	}
	if out, err := run("http://127.0.0.1:9999"); err == nil || !strings.Contains(out, "InvalidAudience") {
		t.Errorf("PyJWT accepted another audience: %v %s", err, out)
	}
}

// keySet serves a JWKS of the keys it is given, counting the fetches.
type keySet struct {
	*httptest.Server
	fetches atomic.Int32
	body    atomic.Value // []byte
}

func newKeySet(t testing.TB) *keySet {
	t.Helper()
	ks := &keySet{}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		w.Write(ks.body.Load().([]byte))
	}))
	t.Cleanup(ks.Close)
	return ks
}

// publish replaces the served keys; each key's kid is its index.
func (ks *keySet) publish(keys ...*ecdsa.PrivateKey) {
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for i, k := range keys {
		pt, _ := k.PublicKey.Bytes()
		x := base64.RawURLEncoding.EncodeToString(pt[1:33])
		y := base64.RawURLEncoding.EncodeToString(pt[33:])
		set.Keys = append(set.Keys, map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": string(rune('a' + i)), "use": "sig", "alg": "ES256"})
	}
	b, _ := json.Marshal(set)
	ks.body.Store(b)
}

// sign makes an assertion for audience "aud" with key under kid.
func sign(t testing.TB, key *ecdsa.PrivateKey, kid string, now time.Time) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, proxy.AssertionClaims{
		ObjectID: "oid-1", TenantID: "tid-1",
		RegisteredClaims: jwt.RegisteredClaims{
			Audience: jwt.ClaimStrings{"aud"}, Subject: "oid-1",
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		},
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The verifier fetches the keys once, again for a kid it does not know
// (a rotated key), and no more than once per 30 seconds however many
// unknown kids it is shown.
func TestAssertionVerifierRefetchesKeys(t *testing.T) {
	k1, _ := proxy.GenerateAssertionKey()
	k2, _ := proxy.GenerateAssertionKey()
	ks := newKeySet(t)
	ks.publish(k1)
	now := time.Now()
	v := proxy.NewAssertionVerifier(ks.URL, "aud", nil)
	v.Now = func() time.Time { return now }
	verify := func(tok string) error {
		_, err := v.VerifyToken(context.Background(), tok)
		return err
	}
	for range 3 {
		if err := verify(sign(t, k1, "a", now)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Errorf("%d fetches for three assertions with one key, want 1", n)
	}
	ks.publish(k1, k2)
	rotated := sign(t, k2, "b", now)
	for range 5 {
		if err := verify(sign(t, k2, "nope", now)); err == nil {
			t.Fatal("an unpublished kid was accepted")
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Errorf("%d fetches within 30 seconds of the first, want 1", n)
	}
	now = now.Add(31 * time.Second)
	if err := verify(rotated); err != nil {
		t.Errorf("the new key, 31 seconds on: %v", err)
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	// A failed fetch keeps the keys known so far.
	ks.body.Store([]byte("{"))
	now = now.Add(time.Minute)
	verify(sign(t, k2, "unknown", now))
	if err := verify(sign(t, k1, "a", now)); err != nil {
		t.Errorf("after a failed fetch, a known key: %v", err)
	}
}

// FuzzAssertionVerifier feeds the verifier's parsing arbitrary tokens: it
// must never panic, and never accept one not signed by the published key.
func FuzzAssertionVerifier(f *testing.F) {
	key, _ := proxy.GenerateAssertionKey()
	other, _ := proxy.GenerateAssertionKey()
	ks := newKeySet(f)
	ks.publish(key)
	now := time.Now()
	good := sign(f, key, "a", now)
	f.Add(good)
	f.Add(sign(f, other, "a", now))
	f.Add(sign(f, other, "b", now))
	f.Add("eyJhbGciOiJub25lIiwia2lkIjoiYSJ9.eyJvaWQiOiJ4IiwidGlkIjoieSJ9.")
	f.Add("..")
	f.Add("")
	v := proxy.NewAssertionVerifier(ks.URL, "aud", nil)
	v.Now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, tok string) {
		a, err := v.VerifyToken(context.Background(), tok)
		if err != nil {
			return
		}
		// Accepted: the signature must be the key's over these exact bytes.
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || a.ObjectID == "" || a.TenantID == "" {
			t.Fatalf("accepted %q: %+v", tok, a)
		}
		if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation()); err != nil {
			t.Fatalf("accepted %q, which the key did not sign: %v", tok, err)
		}
	})
}

// A user in too many groups for one header line gets hasgroups instead,
// as in X-MS-CLIENT-PRINCIPAL, and the assertion stays under 8 KB.
func TestAssertionGroupsOverage(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, gina)
	s := echo(t, client(b), e.url+"/x", fetchHeaders...)
	raw := s.Header.Get(proxy.AssertionHeader)
	a, err := verifierFor(e).VerifyToken(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Groups) != 0 || !a.HasGroups || len(raw) > 7000 {
		t.Errorf("%d groups, hasgroups %v, %d bytes: want none, true and under 7000", len(a.Groups), a.HasGroups, len(raw))
	}
}
