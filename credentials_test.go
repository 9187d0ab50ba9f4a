package entraweb_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// makeCert writes a certificate credential as PEM and as PFX, valid
// between notBefore and notAfter, and returns the files and the
// certificate's PEM (to register on the app).
func makeCert(t *testing.T, notBefore, notAfter time.Time) (pemFile, pfxFile, certPEM string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "demoapp credential"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	pemFile = filepath.Join(dir, "cred.pem")
	os.WriteFile(pemFile, []byte(certPEM+string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))), 0o600)
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, "pfx-password")
	if err != nil {
		t.Fatal(err)
	}
	pfxFile = filepath.Join(dir, "cred.pfx")
	os.WriteFile(pfxFile, pfx, 0o600)
	return pemFile, pfxFile, certPEM
}

func TestCertificateCredential(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	pemFile, pfxFile, certPEM := makeCert(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err := srv.Update(func(c *entratest.Config) {
		c.Tenants[0].Apps[0].Certificates = append(c.Tenants[0].Apps[0].Certificates, certPEM)
	}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []entraweb.CertificateSource{
		{Path: pemFile},
		{Path: pfxFile, Password: "pfx-password"},
		{Path: pfxFile, Password: "pfx-password", SendX5C: true},
	} {
		t.Run(filepath.Ext(src.Path), func(t *testing.T) {
			cfg := graphConfig(srv)
			cfg.ClientSecret = ""
			cfg.ClientCertificate = src
			a, _ := graphApp(t, srv, cfg)
			_, body, err := srv.Browser().Visit(context.Background(), a.url+"/profile", alice, entratest.DemoPassword)
			if err != nil || body != "graph 200 Alice Admin" {
				t.Fatalf("sign-in with a certificate credential: %v %q", err, body)
			}
		})
	}
	t.Run("wrong PFX password", func(t *testing.T) {
		cfg := testConfig(srv)
		cfg.ClientSecret = ""
		cfg.ClientCertificate = entraweb.CertificateSource{Path: pfxFile, Password: "nope"}
		if _, err := entraweb.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "password") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		old, _, _ := makeCert(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
		cfg := testConfig(srv)
		cfg.ClientSecret = ""
		cfg.ClientCertificate = entraweb.CertificateSource{Path: old}
		_, err := entraweb.New(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "AADSTS700027") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not registered", func(t *testing.T) {
		other, _, _ := makeCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		cfg := testConfig(srv)
		cfg.ClientSecret = ""
		cfg.ClientCertificate = entraweb.CertificateSource{Path: other}
		// New refuses it at start-up...
		if _, err := entraweb.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "Upload the certificate") {
			t.Errorf("New with an unregistered certificate: %v", err)
		}
		// ...and with the check off, the first sign-in's page names the
		// fix to the administrator (in Development).
		cfg.SkipCredentialCheck = true
		cfg.Environment = "Development"
		a := newApp(t, srv, cfg)
		resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
		if err != nil || resp.StatusCode != 400 || !strings.Contains(body, "AADSTS700027") || !strings.Contains(body, "Upload the certificate") {
			t.Errorf("unregistered certificate: %v %d %.300s", err, resp.StatusCode, body)
		}
	})
}

// TestBadSecretNamesTheFix: a wrong secret stops New at start-up with
// AADSTS7000215's meaning and fix; with the check turned off, the first
// sign-in's error page names them.
func TestBadSecretNamesTheFix(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.ClientSecret = "not-the-secret"
	before := srv.Calls(entratest.EndpointToken)
	_, err := entraweb.New(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "Value, not its Secret ID") ||
		strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("New with a wrong secret: %v", err)
	}
	if n := srv.Calls(entratest.EndpointToken) - before; n != 1 {
		t.Errorf("the check made %d token requests, want 1", n)
	}
	cfg.SkipCredentialCheck = true
	for _, env := range []string{"Production", "Development"} {
		cfg.Environment = env
		a := newApp(t, srv, cfg)
		resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
		if err != nil || resp.StatusCode != 400 || !strings.Contains(body, "not set up correctly") || !strings.Contains(body, "Trace id") {
			t.Errorf("%s: wrong secret: %v %d %.300s", env, err, resp.StatusCode, body)
		}
		operator := strings.Contains(body, "AADSTS7000215") && strings.Contains(body, "Secret ID")
		if operator != (env == "Development") {
			t.Errorf("%s: the administrator's fix on the page: %v", env, operator)
		}
	}
}
