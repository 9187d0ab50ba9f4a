package entratest_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// emuCert makes a self-signed certificate as a developer would upload to
// an app registration.
func emuCert(t testing.TB) (*x509.Certificate, *rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "assertion test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// emuSignJWT builds a compact JWS by hand. alg picks the signature: RS256,
// PS256, HS256 (keyed with hmacKey) or none.
func emuSignJWT(t testing.TB, header, claims map[string]any, key *rsa.PrivateKey, hmacKey []byte) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	var sig []byte
	var err error
	switch header["alg"] {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
	case "HS256":
		m := hmac.New(sha256.New, hmacKey)
		m.Write([]byte(signing))
		sig = m.Sum(nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func TestClientAssertions(t *testing.T) {
	clock := newEmuClock()
	cert, key, certPEM := emuCert(t)
	cfg := entratest.Default()
	cfg.Tenants[0].Apps[0].Certificates = []string{certPEM}
	e := newEmu(t, &entratest.Options{Config: cfg, Now: clock.Now})
	_, otherKey, _ := emuCert(t) // never registered

	s1 := sha1.Sum(cert.Raw)
	s2 := sha256.Sum256(cert.Raw)
	x5t := base64.RawURLEncoding.EncodeToString(s1[:])
	now := clock.Now()
	aud := e.srv.Authority() + "/oauth2/v2.0/token"
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"aud": aud, "iss": entratest.DemoClientID, "sub": entratest.DemoClientID,
			"jti": rand.Text(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	rs := map[string]any{"alg": "RS256", "typ": "JWT", "x5t": x5t}
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	tests := []struct {
		name   string
		header map[string]any
		claims map[string]any
		key    *rsa.PrivateKey
		code   int // 0: accepted
	}{
		{"x5t, RS256", rs, claims(), key, 0},
		{"x5t, PS256", map[string]any{"alg": "PS256", "x5t": x5t}, claims(), key, 0},
		{"x5t#S256, padded standard base64", map[string]any{"alg": "RS256", "x5t#S256": base64.StdEncoding.EncodeToString(s2[:])}, claims(), key, 0},
		{"x5t#S256, base64url", map[string]any{"alg": "PS256", "x5t#S256": base64.RawURLEncoding.EncodeToString(s2[:])}, claims(), key, 0},
		{"aud with the domain", rs, claims("aud", e.srv.AuthorityFor(entratest.DemoTenantDomain)+"/oauth2/v2.0/token"), key, 0},
		{"no nbf", rs, claims("nbf", nil), key, 0},
		{"wrong aud, another tenant", rs, claims("aud", e.srv.AuthorityFor(entratest.OtherTenantID)+"/oauth2/v2.0/token"), key, 700027},
		{"wrong aud, Microsoft", rs, claims("aud", "https://login.microsoftonline.com/"+entratest.DemoTenantID+"/oauth2/v2.0/token"), key, 700027},
		{"iss is not the client", rs, claims("iss", emuOtherID), key, 700021},
		{"sub is not the client", rs, claims("sub", emuOtherID), key, 700021},
		{"expired", rs, claims("exp", now.Add(-10*time.Minute).Unix()), key, 700024},
		{"no exp", rs, claims("exp", nil), key, 700024},
		{"not valid yet", rs, claims("nbf", now.Add(10*time.Minute).Unix()), key, 700024},
		{"unknown certificate", map[string]any{"alg": "RS256", "x5t": base64.RawURLEncoding.EncodeToString(make([]byte, 20))}, claims(), key, 700027},
		{"no thumbprint", map[string]any{"alg": "RS256"}, claims(), key, 700027},
		{"signed by another key", rs, claims(), otherKey, 700027},
		{"alg none", map[string]any{"alg": "none", "x5t": x5t}, claims(), nil, 700027},
		{"HS256 keyed with the public key", map[string]any{"alg": "HS256", "x5t": x5t}, claims(), nil, 700027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := emuSignJWT(t, tc.header, tc.claims, tc.key, pubDER)
			f := url.Values{
				"grant_type":            {"client_credentials"},
				"client_id":             {entratest.DemoClientID},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {a},
				"scope":                 {"https://graph.microsoft.com/.default"},
			}
			st, body := e.post(t, "", f, nil)
			if tc.code != 0 {
				emuWantErr(t, st, body, 401, "invalid_client", tc.code)
				return
			}
			if st != 200 {
				t.Fatalf("HTTP %d %v", st, body)
			}
			if _, c := emuClaims(t, body["access_token"].(string)); c["appidacr"] != "2" {
				t.Errorf("appidacr = %v, want 2 (certificate)", c["appidacr"])
			}
		})
	}
	t.Run("tampered signature", func(t *testing.T) {
		a := emuSignJWT(t, rs, claims(), key, nil)
		b := []byte(a)
		b[len(b)-5] ^= 1
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {string(b)},
			"scope": {"https://graph.microsoft.com/.default"}}
		st, body := e.post(t, "", f, nil)
		emuWantErr(t, st, body, 401, "invalid_client", 700027)
	})
}
