package entratest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets call the handler in process. The server's URL is set
// to a fixed name, and its clock fixed, so that inputs (assertions carry
// an audience and times) mean the same in every fuzzing worker.
const fuzzURL = "https://login.entratest.invalid"

var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fuzzCred is a certificate registered on DemoApp for the fuzz targets,
// with its key, read from testdata so that every worker has the same one.
func fuzzCred(tb testing.TB) (*x509.Certificate, *rsa.PrivateKey, string) {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz_client_cert.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	var cert *x509.Certificate
	var key *rsa.PrivateKey
	var certPEM string
	for b, rest := pem.Decode(raw); b != nil; b, rest = pem.Decode(rest) {
		switch b.Type {
		case "CERTIFICATE":
			cert, err = x509.ParseCertificate(b.Bytes)
			certPEM = string(pem.EncodeToMemory(b))
		case "PRIVATE KEY":
			var k any
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
			key, _ = k.(*rsa.PrivateKey)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if cert == nil || key == nil {
		tb.Fatal("testdata/fuzz_client_cert.pem needs a certificate and an RSA key")
	}
	return cert, key, certPEM
}

func fuzzServer(tb testing.TB) (*Server, http.Handler) {
	tb.Helper()
	_, _, certPEM := fuzzCred(tb)
	cfg := Default()
	cfg.Tenants[0].Apps[0].Certificates = []string{certPEM}
	s := NewServer(tb, &Options{Config: cfg, Now: func() time.Time { return fuzzNow }})
	s.URL = fuzzURL // nothing reaches the listener: every request is in process
	return s, s.routes()
}

var fuzzTenants = []string{DemoTenantID, DemoTenantDomain, "organizations", "common", OtherTenantID, "nowhere.example", strings.ToUpper(DemoTenantID)}

func fuzzTenant(sel uint8) string { return fuzzTenants[int(sel)%len(fuzzTenants)] }

// fuzzAssertion signs a client assertion for DemoApp with alg (RS256 or PS256).
func fuzzAssertion(tb testing.TB, alg string, thumb map[string]any, claims map[string]any) string {
	tb.Helper()
	_, key, _ := fuzzCred(tb)
	h := map[string]any{"alg": alg, "typ": "JWT"}
	for k, v := range thumb {
		h[k] = v
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	signing := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	var sig []byte
	var err error
	if alg == "PS256" {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
	} else {
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	}
	if err != nil {
		tb.Fatal(err)
	}
	return signing + "." + b64.EncodeToString(sig)
}

func fuzzClaims(aud string, exp time.Time) map[string]any {
	return map[string]any{"aud": aud, "iss": DemoClientID, "sub": DemoClientID, "jti": "j1",
		"nbf": fuzzNow.Unix(), "iat": fuzzNow.Unix(), "exp": exp.Unix()}
}

// checkTokenAnswer holds for every answer of the token endpoint: no 5xx,
// JSON, and either an error or a token.
func checkTokenAnswer(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("HTTP %d Content-Type %q: %.200s", rec.Code, ct, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("HTTP %d, body not JSON: %v", rec.Code, err)
	}
	e, _ := m["error"].(string)
	at, _ := m["access_token"].(string)
	switch {
	case rec.Code == 200 && at != "" && e == "":
	case (rec.Code == 400 || rec.Code == 401) && e != "" && at == "":
		desc, _ := m["error_description"].(string)
		if !strings.HasPrefix(desc, "AADSTS") {
			t.Fatalf("error_description %q", desc)
		}
	default:
		t.Fatalf("HTTP %d with error %q and access token %t", rec.Code, e, at != "")
	}
	return m
}

func FuzzTokenRequest(f *testing.F) {
	_, h := fuzzServer(f)
	cc := "grant_type=client_credentials&client_id=" + DemoClientID + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
	form := "application/x-www-form-urlencoded"
	f.Add(uint8(0), cc+"&client_secret="+url.QueryEscape(DemoClientSecret), "", "", form)
	f.Add(uint8(0), cc, url.QueryEscape(DemoClientID), url.QueryEscape(DemoClientSecret), form)
	f.Add(uint8(1), "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default", DemoClientID, DemoClientSecret, form+"; charset=utf-8")
	f.Add(uint8(2), cc+"&client_secret=x&client_secret=y", "", "", form)
	f.Add(uint8(0), "grant_type=authorization_code&client_id="+DemoClientID+"&code=1.entratest.abc&redirect_uri=http%3A%2F%2Flocalhost%2Fauth%2Fcallback", "", "", form)
	f.Add(uint8(0), "grant_type=refresh_token&client_id="+DemoClientID+"&refresh_token=abc&scope=openid", "", "", form)
	f.Add(uint8(0), cc+"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c", "", "", form)
	f.Add(uint8(3), "%zz", "a%", "b", form)
	f.Add(uint8(5), `{"grant_type":"client_credentials"}`, "", "", "application/json")
	f.Fuzz(func(t *testing.T, tenant uint8, body, user, pass, ct string) {
		req := httptest.NewRequest(http.MethodPost, "/"+url.PathEscape(fuzzTenant(tenant))+"/oauth2/v2.0/token", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkTokenAnswer(t, rec)
	})
}

// verifyAssertionIndependently is what accepting an assertion requires,
// written apart from the emulator's code: strict base64url, RS256 or PS256
// by the registered key, iss = sub = DemoApp, this token endpoint, live.
func verifyAssertionIndependently(cert *x509.Certificate, a, tenant string) error {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return errMalformedJWT
	}
	var hdr, cl map[string]any
	for i, dst := range []*map[string]any{&hdr, &cl} {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return err
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return err
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch hdr["alg"] {
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, nil)
	default:
		return errMalformedJWT
	}
	if err != nil {
		return err
	}
	s1, s2 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	if !thumbEqual(fuzzStr(hdr["x5t"]), s1[:]) && !thumbEqual(fuzzStr(hdr["x5t#S256"]), s2[:]) {
		return errMalformedJWT
	}
	if cl["iss"] != DemoClientID || cl["sub"] != DemoClientID {
		return errMalformedJWT
	}
	aud := strings.ToLower(fuzzStr(cl["aud"]))
	ok := false
	for _, seg := range []string{DemoTenantID, DemoTenantDomain, strings.ToLower(tenant)} {
		ok = ok || aud == strings.ToLower(fuzzURL+"/"+seg+"/oauth2/v2.0/token")
	}
	if exp, _ := cl["exp"].(float64); !ok || int64(exp) <= fuzzNow.Add(-5*time.Minute).Unix() {
		return errMalformedJWT
	}
	return nil
}

func fuzzStr(v any) string { s, _ := v.(string); return s }

func FuzzClientAssertion(f *testing.F) {
	cert, _, _ := fuzzCred(f)
	_, h := fuzzServer(f)
	s1, s2 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	aud := fuzzURL + "/" + DemoTenantID + "/oauth2/v2.0/token"
	x5t := map[string]any{"x5t": b64.EncodeToString(s1[:])}
	f.Add(uint8(0), fuzzAssertion(f, "RS256", x5t, fuzzClaims(aud, fuzzNow.Add(5*time.Minute))))
	f.Add(uint8(0), fuzzAssertion(f, "PS256", map[string]any{"x5t#S256": base64.StdEncoding.EncodeToString(s2[:])}, fuzzClaims(aud, fuzzNow.Add(5*time.Minute))))
	f.Add(uint8(1), fuzzAssertion(f, "RS256", x5t, fuzzClaims(fuzzURL+"/"+DemoTenantDomain+"/oauth2/v2.0/token", fuzzNow.Add(time.Minute))))
	f.Add(uint8(0), fuzzAssertion(f, "RS256", x5t, fuzzClaims(aud, fuzzNow.Add(-time.Hour))))
	f.Add(uint8(2), fuzzAssertion(f, "RS256", x5t, fuzzClaims(aud, fuzzNow.Add(time.Minute))))
	f.Add(uint8(0), "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add(uint8(0), "a.b.c")
	f.Fuzz(func(t *testing.T, tenant uint8, assertion string) {
		tn := fuzzTenant(tenant)
		body := url.Values{
			"grant_type":            {"client_credentials"},
			"client_id":             {DemoClientID},
			"client_assertion_type": {assertionType},
			"client_assertion":      {assertion},
			"scope":                 {"https://graph.microsoft.com/.default"},
		}
		req := httptest.NewRequest(http.MethodPost, "/"+url.PathEscape(tn)+"/oauth2/v2.0/token", strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkTokenAnswer(t, rec)
		if rec.Code == 200 {
			if err := verifyAssertionIndependently(cert, assertion, tn); err != nil {
				t.Fatalf("accepted an assertion that is not validly signed for DemoApp (%v): %q", err, assertion)
			}
		}
	})
}

// loopbackOrExact is the redirect URI rule written apart from the
// emulator: the registered string exactly, or an http loopback one with
// only a port added (1 to 65535, written without leading zeros).
func loopbackOrExact(registered []string, ru string) bool {
	if slices.Contains(registered, ru) {
		return true
	}
	for _, reg := range registered {
		for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
			rest, ok := strings.CutPrefix(reg, "http://"+host+"/")
			if !ok {
				continue
			}
			port, tail, ok := strings.Cut(strings.TrimPrefix(ru, "http://"+host+":"), "/")
			n, err := strconv.ParseUint(port, 10, 16)
			if ok && strings.HasPrefix(ru, "http://"+host+":") && err == nil && n > 0 && strconv.FormatUint(n, 10) == port && tail == rest {
				return true
			}
		}
	}
	return false
}

var fuzzActionRE = regexp.MustCompile(`<form method="post" name="hiddenform" action="([^"]*)">`)

func FuzzAuthorize(f *testing.F) {
	s, h := fuzzServer(f)
	alice := s.world.Load().users["alice@contoso.onmicrosoft.com"]
	sso := s.seal.seal("sso", ssoState{OID: alice.ObjectID, SID: "sid", AuthTime: fuzzNow.Unix(), Expires: fuzzNow.Add(time.Hour).Unix()})
	base := url.Values{"client_id": {DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost/auth/callback"},
		"scope": {"openid profile User.Read"}, "state": {"s"}}
	with := func(kv ...string) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q.Encode()
	}
	f.Add(uint8(0), with(), true)
	f.Add(uint8(0), with("prompt", "none"), false)
	f.Add(uint8(1), with("redirect_uri", "http://localhost:8080/auth/callback", "response_mode", "fragment"), true)
	f.Add(uint8(0), with("redirect_uri", "http://127.0.0.1:1/auth/callback", "response_mode", "form_post"), true)
	f.Add(uint8(0), with("redirect_uri", "http://localhost:8080/auth/callback#frag"), true)
	f.Add(uint8(0), with("redirect_uri", "http://localhost:8080/auth/%63allback", "prompt", "none"), false)
	f.Add(uint8(0), with("redirect_uri", "https://evil.example/auth/callback", "prompt", "none"), false)
	f.Add(uint8(0), with("scope", "openid Mail.Read", "prompt", "none"), true)
	f.Add(uint8(2), with("code_challenge", "x"), false)
	f.Add(uint8(0), "client_id=%zz", true)
	f.Fuzz(func(t *testing.T, tenant uint8, query string, session bool) {
		req := httptest.NewRequest(http.MethodGet, "/"+url.PathEscape(fuzzTenant(tenant))+"/oauth2/v2.0/authorize", nil)
		req.URL.RawQuery = query
		if session {
			req.AddCookie(&http.Cookie{Name: ssoCookie, Value: sso})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		var action string
		if m := fuzzActionRE.FindStringSubmatch(rec.Body.String()); m != nil {
			action = html.UnescapeString(m[1])
		}
		if loc == "" && action == "" {
			return
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("sent the browser to %q%q for an unparsable query", loc, action)
		}
		ru := q.Get("redirect_uri")
		app := s.world.Load().apps[strings.ToLower(q.Get("client_id"))]
		if app == nil || !loopbackOrExact(app.RedirectURIs, ru) {
			t.Fatalf("sent the browser to %q%q: redirect_uri %q is not registered", loc, action, ru)
		}
		switch {
		case action != "":
			if action != ru {
				t.Fatalf("form_post to %q, want %q", action, ru)
			}
		case strings.Contains(loc, "#"):
			if !strings.HasPrefix(loc, ru+"#") {
				t.Fatalf("Location %q is not the redirect URI %q", loc, ru)
			}
		default:
			lu, err1 := url.Parse(loc)
			ruu, err2 := url.Parse(ru)
			if err1 != nil || err2 != nil || lu.Scheme != ruu.Scheme || lu.Host != ruu.Host || lu.EscapedPath() != ruu.EscapedPath() {
				t.Fatalf("Location %q is not the redirect URI %q", loc, ru)
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	def, _ := json.Marshal(Default())
	f.Add(def)
	if b, err := os.ReadFile(filepath.Join("testdata", "world.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"tenants":[{"id":"` + DemoTenantID + `","domain":"a.example","users":[{"username":"u@a.example","password":"p","appRoles":{"x":["y"]}}]}]}`))
	f.Add([]byte(`{"tenants":[],"codeLifetime":"1h"}`))
	f.Add([]byte(`{"tenants":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config with an error")
			}
			return
		}
		w := newWorld(cfg.clone())
		for _, tn := range cfg.Tenants {
			if _, ok := w.resolve(tn.ID); !ok {
				t.Fatalf("tenant %q does not resolve", tn.ID)
			}
		}
		// What validated once validates again after a round trip.
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseConfig(again); err != nil {
			t.Fatalf("a valid config no longer validates after a round trip: %v\n%s", err, again)
		}
	})
}

func FuzzDecodeJWT(f *testing.F) {
	_, key, _ := fuzzCred(f)
	good, err := encodeJWT(map[string]any{"alg": "RS256", "kid": "k"}, map[string]any{"sub": "x", "exp": 1.5e9}, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJ9.e30.")
	f.Add("bnVsbA.bnVsbA.")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := decodeJWT(tok)
		if err != nil {
			if p != nil {
				t.Fatal("parts with an error")
			}
			return
		}
		if p.header == nil || p.claims == nil {
			t.Fatal("nil header or claims")
		}
		if i := strings.LastIndexByte(tok, '.'); p.signing != tok[:i] {
			t.Fatalf("signing input %q is not the token's first two parts", p.signing)
		}
		p.str(p.header, "alg")
		p.num("exp")
		if p.verifyRSA(&key.PublicKey) == nil && tok != good {
			// Only a token signed with the key can verify; the fuzzer
			// cannot sign, so it must have kept the signed parts.
			sum := sha256.Sum256([]byte(p.signing))
			if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], p.sig) != nil &&
				rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, sum[:], p.sig, nil) != nil {
				t.Fatal("verifyRSA accepted a signature the key did not make")
			}
		}
	})
}
