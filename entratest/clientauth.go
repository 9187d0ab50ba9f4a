package entratest

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticateClient identifies the client of a token request and checks
// its credential: a secret in the body or in HTTP Basic, a client assertion
// signed with a registered certificate, an external token matching a
// federated credential, or none for a public client. acr is "0" (none),
// "1" (secret) or "2" (certificate or federated credential), as in access
// tokens.
func (s *Server) authenticateClient(r *http.Request, wd *world, a authority) (client *appRef, acr string, e *aadError) {
	f := r.PostForm
	cid, secret := f.Get("client_id"), f.Get("client_secret")
	if bu, bp, ok := r.BasicAuth(); ok {
		u, err1 := url.QueryUnescape(bu)
		p, err2 := url.QueryUnescape(bp)
		if err1 != nil || err2 != nil || (cid != "" && !strings.EqualFold(cid, u)) || secret != "" {
			return nil, "", newErr(http.StatusBadRequest, 9002313, "The client credentials in the Authorization header conflict with the body.")
		}
		cid, secret = u, p
	}
	if cid == "" {
		return nil, "", newErr(http.StatusBadRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	client = wd.apps[strings.ToLower(cid)]
	if client == nil || (!a.multi() && client.home != a.tenant && !client.MultiTenant) {
		return nil, "", newErr(http.StatusBadRequest, 700016, "Application with identifier '"+clip(cid)+"' was not found in the directory.")
	}
	assertion := f.Get("client_assertion")
	switch {
	case secret != "" && assertion != "":
		return nil, "", newErr(http.StatusBadRequest, 9002313, "Send either client_secret or client_assertion, not both.")
	case secret != "":
		now := s.now()
		expired := false
		for _, sec := range client.Secrets {
			if constantEqual(secret, sec.Value) {
				if !sec.Expires.IsZero() && now.After(sec.Expires) {
					expired = true
					continue
				}
				return client, "1", nil
			}
		}
		if expired {
			return nil, "", newErr(http.StatusUnauthorized, 7000222, "")
		}
		return nil, "", newErr(http.StatusUnauthorized, 7000215, "")
	case assertion != "":
		if t := f.Get("client_assertion_type"); t != assertionType {
			return nil, "", newErr(http.StatusBadRequest, 9002313, "client_assertion_type must be "+assertionType+".")
		}
		if e := s.checkAssertion(client, a, r, assertion); e != nil {
			return nil, "", e
		}
		return client, "2", nil
	case client.PublicClient:
		return client, "0", nil
	default:
		return nil, "", newErr(http.StatusUnauthorized, 7000218, "")
	}
}

func constantEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// checkAssertion verifies a client assertion JWT against the app's
// registered certificates, or its federated credentials.
func (s *Server) checkAssertion(client *appRef, a authority, r *http.Request, assertion string) *aadError {
	p, err := decodeJWT(assertion)
	if err != nil {
		return newErr(http.StatusUnauthorized, 700027, "The client assertion is not a well-formed JWT.")
	}
	cert := findCert(client.certs, p.str(p.header, "x5t"), p.str(p.header, "x5t#S256"))
	if cert == nil && client.hasFederatedIssuer(p.str(p.claims, "iss")) {
		// No certificate of the app signed it, but an issuer the app
		// trusts may have: workload identity federation.
		return s.checkFederated(client, p)
	}
	if cert == nil {
		return newErr(http.StatusUnauthorized, 700027, "The key used in the client assertion was not found on the application '"+client.ClientID+"'; upload the certificate's public part to the app registration.")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || p.verifyRSA(pub) != nil {
		return newErr(http.StatusUnauthorized, 700027, "The client assertion's signature does not verify with the registered certificate.")
	}
	if p.str(p.claims, "iss") != client.ClientID || p.str(p.claims, "sub") != client.ClientID {
		return newErr(http.StatusUnauthorized, 700021, "The assertion's iss and sub must both be the client id.")
	}
	aud := p.str(p.claims, "aud")
	if !s.tokenEndpointAudience(aud, a) {
		return newErr(http.StatusUnauthorized, 700027, "The client assertion's audience '"+clip(aud)+"' is not this token endpoint.")
	}
	return s.checkAssertionTimes(p)
}

// tokenEndpointAudience accepts the token endpoint URL under any name of
// the tenant the request was sent to.
func (s *Server) tokenEndpointAudience(aud string, a authority) bool {
	segs := []string{a.seg}
	if a.tenant != nil {
		segs = append(segs, a.tenant.ID, a.tenant.Domain)
	}
	for _, seg := range segs {
		want := s.URL + "/" + seg + "/oauth2/v2.0/token"
		if strings.EqualFold(aud, want) {
			return true
		}
	}
	return false
}

// findCert finds the registered certificate named by a thumbprint: SHA-1
// (x5t) or SHA-256 (x5t#S256), each in standard or URL-safe base64.
func findCert(certs []*x509.Certificate, x5t, x5tS256 string) *x509.Certificate {
	if x5t == "" && x5tS256 == "" {
		return nil
	}
	for _, c := range certs {
		s1 := sha1.Sum(c.Raw)
		s2 := sha256.Sum256(c.Raw)
		if x5t != "" && thumbEqual(x5t, s1[:]) || x5tS256 != "" && thumbEqual(x5tS256, s2[:]) {
			return c
		}
	}
	return nil
}

func thumbEqual(enc string, sum []byte) bool {
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if e.EncodeToString(sum) == enc {
			return true
		}
	}
	return false
}
