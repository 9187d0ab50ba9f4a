package entratest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxFederatedCredentials is the platform's limit per app registration.
const maxFederatedCredentials = 20

// check validates a federated credential of configuration c.
func (fc *FederatedCredential) check(c *Config) []error {
	var errs []error
	u, err := url.Parse(fc.Issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(fc.Issuer) > 600 {
		errs = append(errs, fmt.Errorf("issuer %q must be an https URL", fc.Issuer))
	}
	if fc.Subject == "" || len(fc.Subject) > 600 {
		errs = append(errs, fmt.Errorf("subject %q must be 1 to 600 characters", fc.Subject))
	}
	for i, a := range fc.Audiences {
		if a == "" || len(a) > 600 {
			errs = append(errs, fmt.Errorf("audiences[%d]: %q must be 1 to 600 characters", i, a))
		}
	}
	switch {
	case fc.PublicKeyPEM != "":
		if _, err := parsePublicKeyPEM(fc.PublicKeyPEM); err != nil {
			errs = append(errs, fmt.Errorf("publicKeyPem: %v", err))
		}
	case err == nil && ownIssuerTenant(c, u) == "":
		// The emulator's URL (its port) is not known when a configuration is
		// parsed, so only the path of its own issuer can be recognized here.
		errs = append(errs, fmt.Errorf("publicKeyPem: needed unless the issuer is the emulator's own, Server.Issuer(tenantID); %q is not", fc.Issuer))
	}
	return errs
}

// ownIssuerTenant returns the tenant id when u has the path of the
// emulator's issuer for a configured tenant (/<tenant id>/v2.0).
func ownIssuerTenant(c *Config, u *url.URL) string {
	seg, ok := strings.CutSuffix(strings.TrimPrefix(u.Path, "/"), "/v2.0")
	if !ok || u.RawQuery != "" {
		return ""
	}
	for _, t := range c.Tenants {
		if strings.EqualFold(seg, t.ID) {
			return strings.ToLower(t.ID)
		}
	}
	return ""
}

// parsePublicKeyPEM reads an RSA public key from a PEM public key (PKIX
// or PKCS #1) or certificate.
func parsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return nil, errors.New("not PEM")
	}
	var pub any
	var err error
	switch blk.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(blk.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(blk.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", blk.Type)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the key is not RSA (the emulator verifies RS256 and PS256)")
	}
	return rk, nil
}

// fedCred is a federated credential with its key parsed; pub is nil when
// the emulator's own keys verify.
type fedCred struct {
	*FederatedCredential
	pub *rsa.PublicKey
}

// hasFederatedIssuer reports whether a federated credential of the app
// trusts iss.
func (a *appRef) hasFederatedIssuer(iss string) bool {
	for _, fc := range a.fics {
		if fc.Issuer == iss {
			return true
		}
	}
	return false
}

// audiences reads a JWT's aud, a string or an array of strings.
func (p *jwtParts) audiences() []string {
	switch v := p.claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// checkFederated verifies an external token presented as a client
// assertion against the app's federated credentials. As the platform
// does, it looks for the matching record first, then checks the
// signature with the issuer's key, then the lifetime.
func (s *Server) checkFederated(client *appRef, p *jwtParts) *aadError {
	iss, sub, auds := p.str(p.claims, "iss"), p.str(p.claims, "sub"), p.audiences()
	var match *fedCred
	for i := range client.fics {
		fc := &client.fics[i]
		if fc.Issuer == iss && fc.Subject == sub && slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(fc.Audiences, a) }) {
			match = fc
			break
		}
	}
	if match == nil {
		return newErr(http.StatusBadRequest, 70021, "Assertion Issuer: '"+clip(iss)+"'. Assertion Subject: '"+clip(sub)+"'. Assertion Audience: '"+clip(strings.Join(auds, ","))+"'.")
	}
	var keys []*rsa.PublicKey
	if match.pub != nil {
		keys = []*rsa.PublicKey{match.pub}
	} else {
		keys = s.ownKeysFor(iss, p.str(p.header, "kid"))
	}
	if !slices.ContainsFunc(keys, func(k *rsa.PublicKey) bool { return p.verifyRSA(k) == nil }) {
		return newErr(http.StatusUnauthorized, 700027, "The federated assertion's signature does not verify with a signing key of the issuer '"+clip(iss)+"'.")
	}
	return s.checkAssertionTimes(p)
}

// ownKeysFor returns the emulator's signing keys that may have signed a
// token of iss with kid: none unless iss is one of the emulator's own
// issuers.
func (s *Server) ownKeysFor(iss, kid string) []*rsa.PublicKey {
	own := false
	for _, t := range s.world.Load().cfg.Tenants {
		if iss == s.Issuer(t.ID) {
			own = true
		}
	}
	if !own {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*rsa.PublicKey
	for _, k := range s.keys {
		if k.kid == kid {
			out = append(out, &k.priv.PublicKey)
		}
	}
	return out
}

// assertionSkew is the clock skew allowed on a client assertion's exp and nbf.
const assertionSkew = 5 * time.Minute

// checkAssertionTimes checks exp (required) and nbf of a client assertion.
func (s *Server) checkAssertionTimes(p *jwtParts) *aadError {
	now := s.now()
	exp, hasExp := p.num("exp")
	if !hasExp || now.Add(-assertionSkew).Unix() >= exp {
		return newErr(http.StatusUnauthorized, 700024, "The client assertion has expired or has no exp.")
	}
	if nbf, ok := p.num("nbf"); ok && now.Add(assertionSkew).Unix() < nbf {
		return newErr(http.StatusUnauthorized, 700024, "The client assertion is not valid yet.")
	}
	return nil
}
