package doctor

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"software.sslmate.com/src/go-pkcs12"
)

// CertificateWarning is how long before its expiry a certificate
// credential draws a warning.
const CertificateWarning = 30 * 24 * time.Hour

// checkCertificate reports a certificate credential's expiry; ok is
// false when the credential is not a certificate.
func checkCertificate(in Input) (r Result, ok bool) {
	c := in.Certificate
	if c.Path == "" && c.Base64 == "" {
		return Result{}, false
	}
	r.Name = "certificate"
	leaf, err := loadLeaf(c)
	if err != nil {
		r.Status, r.Message = Fail, "the certificate credential does not load: "+err.Error()
		r.Fix = "give a PEM file with the certificate and an unencrypted key, or a PFX with its password (AzureAd:ClientCredentials, AZURE_CLIENT_CERTIFICATE_PATH)"
		return r, true
	}
	now := in.Now()
	name := leaf.Subject.CommonName
	left := leaf.NotAfter.Sub(now)
	switch {
	case left <= 0:
		r.Status = Fail
		r.Message = fmt.Sprintf("the certificate %q expired on %s: Entra ID refuses it (AADSTS700027)", name, leaf.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(leaf.NotBefore):
		r.Status = Fail
		r.Message = fmt.Sprintf("the certificate %q is not valid before %s", name, leaf.NotBefore.UTC().Format(time.RFC3339))
	case left < CertificateWarning:
		r.Status = Warn
		r.Message = fmt.Sprintf("the certificate %q expires on %s, in %d days", name, leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))
	default:
		r.Status, r.Message = OK, fmt.Sprintf("the certificate %q is valid until %s", name, leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if r.Status != OK {
		r.Fix = "make a new certificate, upload its public part to the app registration (Certificates & secrets), and point the configuration at it"
	}
	return r, true
}

// loadLeaf reads the certificate whose key the credential signs with.
func loadLeaf(c CertificateSource) (*x509.Certificate, error) {
	var data []byte
	var err error
	if c.Path != "" {
		data, err = os.ReadFile(c.Path)
	} else {
		data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(c.Base64))
	}
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	if bytes.Contains(data, []byte("-----BEGIN")) {
		certs, key, err = confidential.CertFromPEM(data, "")
	} else {
		var leaf *x509.Certificate
		key, leaf, _, err = pkcs12.DecodeChain(data, c.Password)
		certs = []*x509.Certificate{leaf}
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key cannot sign")
	}
	for _, cert := range certs {
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
			return cert, nil
		}
	}
	return nil, errors.New("no certificate matches the private key")
}
