package entratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"time"
)

// signingKey is one RSA key the emulator signs tokens with, published in
// the JWKS with a self-signed certificate as Entra publishes its keys.
type signingKey struct {
	kid  string // the certificate's SHA-1 thumbprint, base64url, as Entra uses
	priv *rsa.PrivateKey
	cert []byte // DER
}

func newSigningKey(now time.Time) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: n,
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net (entratest)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der)
	return &signingKey{kid: b64.EncodeToString(sum[:]), priv: priv, cert: der}, nil
}

// jwk is the key as a JWKS entry; issuer is the issuer it may sign for.
func (k *signingKey) jwk(issuer string) map[string]any {
	pub := k.priv.PublicKey
	return map[string]any{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    k.kid,
		"x5t":    k.kid,
		"n":      b64.EncodeToString(pub.N.Bytes()),
		"e":      b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c":    []string{base64.StdEncoding.EncodeToString(k.cert)},
		"issuer": issuer,
	}
}
