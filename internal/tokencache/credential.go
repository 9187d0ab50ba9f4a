package tokencache

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"software.sslmate.com/src/go-pkcs12"
)

// tokenExchangeAudience is the audience of tokens used as federated
// credentials, the same in every cloud's public instance.
const tokenExchangeAudience = "api://AzureADTokenExchange"

// CredentialSource names the app's one client credential; the root
// package's Config has been validated to set exactly one.
type CredentialSource struct {
	Secret             string
	Certificate        CertificateSource
	FederatedTokenFile string
	ManagedIdentity    bool
	// ManagedIdentityClientID selects a user-assigned identity.
	ManagedIdentityClientID string
	// HTTPClient, when set, is what the managed identity client uses.
	HTTPClient *http.Client
}

// CertificateSource locates a certificate: a file, or its content in
// base64; a PFX may need Password.
type CertificateSource struct {
	Path, Base64, Password string
	SendX5C                bool
}

// Credential builds the MSAL credential src names, and checks it as far
// as can be checked without the network: a certificate must load, match
// its key and be within its validity; a federated token file must be
// readable. x5c says whether to send the certificate chain.
func Credential(src CredentialSource, now time.Time) (cred confidential.Credential, x5c bool, err error) {
	c := src
	switch {
	case c.Secret != "":
		cred, err := confidential.NewCredFromSecret(c.Secret)
		return cred, false, err
	case c.Certificate.Path != "" || c.Certificate.Base64 != "":
		certs, key, err := loadCertificate(c.Certificate)
		if err != nil {
			return confidential.Credential{}, false, fmt.Errorf("AzureAd:ClientCredentials: certificate: %w", err)
		}
		leaf := certs[0]
		switch {
		case now.After(leaf.NotAfter):
			return confidential.Credential{}, false, fmt.Errorf("AzureAd:ClientCredentials: the certificate %q expired on %s; Entra ID will refuse it (AADSTS700027): make a new one and upload its public part to the app registration",
				leaf.Subject.CommonName, leaf.NotAfter.Format(time.DateOnly))
		case now.Before(leaf.NotBefore):
			return confidential.Credential{}, false, fmt.Errorf("AzureAd:ClientCredentials: the certificate %q is not valid before %s", leaf.Subject.CommonName, leaf.NotBefore.Format(time.RFC3339))
		}
		cred, err := confidential.NewCredFromCert(certs, key)
		return cred, c.Certificate.SendX5C, err
	case c.FederatedTokenFile != "":
		path := c.FederatedTokenFile
		if _, err := readAssertion(path); err != nil {
			return confidential.Credential{}, false, fmt.Errorf("AzureAd:ClientCredentials: federated token file: %w", err)
		}
		return confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
			// The platform rotates the file's token: read it every time.
			return readAssertion(path)
		}), false, nil
	case c.ManagedIdentity:
		id := managedidentity.SystemAssigned()
		if c.ManagedIdentityClientID != "" {
			id = managedidentity.UserAssignedClientID(c.ManagedIdentityClientID)
		}
		var opts []managedidentity.ClientOption
		if c.HTTPClient != nil {
			opts = append(opts, managedidentity.WithHTTPClient(c.HTTPClient))
		}
		mi, err := managedidentity.New(id, opts...)
		if err != nil {
			return confidential.Credential{}, false, fmt.Errorf("AzureAd:ClientCredentials: managed identity: %w", err)
		}
		return confidential.NewCredFromAssertionCallback(func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
			res, err := mi.AcquireToken(ctx, tokenExchangeAudience)
			if err != nil {
				return "", fmt.Errorf("entraweb: the managed identity's token for %s: %w", tokenExchangeAudience, err)
			}
			return res.AccessToken, nil
		}), false, nil
	}
	return confidential.Credential{}, false, errors.New("AzureAd:ClientCredentials: no client credential")
}

func readAssertion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if strings.Count(tok, ".") != 2 {
		return "", fmt.Errorf("%s does not hold a JWT", path)
	}
	return tok, nil
}

// loadCertificate reads a PEM (certificate and unencrypted key) or PFX
// file. The first certificate whose public key matches the private key is
// the one that signs.
func loadCertificate(src CertificateSource) ([]*x509.Certificate, crypto.PrivateKey, error) {
	var data []byte
	var err error
	name := src.Path
	if src.Path != "" {
		data, err = os.ReadFile(src.Path)
	} else {
		name = "the base64 certificate"
		data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(src.Base64))
	}
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	if bytes.Contains(data, []byte("-----BEGIN")) {
		certs, key, err = confidential.CertFromPEM(data, "")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		var leaf *x509.Certificate
		var chain []*x509.Certificate
		key, leaf, chain, err = pkcs12.DecodeChain(data, src.Password)
		if err != nil {
			return nil, nil, fmt.Errorf("%s is neither PEM nor a PFX this password opens: %w", name, err)
		}
		certs = append([]*x509.Certificate{leaf}, chain...)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: the private key cannot sign", name)
	}
	for i, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
			certs[0], certs[i] = certs[i], certs[0]
			return certs, key, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: no certificate matches the private key", name)
}
