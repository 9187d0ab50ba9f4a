package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/entraweb/entraweb"
)

// AssertionHeader carries the signed identity assertion to the upstream.
const AssertionHeader = "X-Entraweb-Assertion"

// KeysPath is where the proxy publishes the public keys of its
// assertions as a JWKS.
const KeysPath = "/.auth/keys"

// assertionLifetime is how long an assertion is valid; assertionReuse is
// how much of it must be left for a cached one to be sent again, so an
// upstream never receives one about to expire.
const (
	assertionLifetime = 5 * time.Minute
	assertionReuse    = time.Minute
)

// AssertionClaims are the claims of an identity assertion beyond the
// registered ones: who the user is, with roles expanded through the
// hierarchy.
type AssertionClaims struct {
	ObjectID          string   `json:"oid"`
	TenantID          string   `json:"tid"`
	Name              string   `json:"name,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	// HasGroups, in place of Groups, says the user is in groups that are
	// not listed: too many for one header line, or more than Entra ID
	// put in the ID token. Read them from Microsoft Graph.
	HasGroups bool `json:"hasgroups,omitempty"`
	// IdentityType is "app" for an application calling an API path with
	// its own token (client credentials; oid is its service principal),
	// and empty for a user.
	IdentityType string `json:"idtyp,omitempty"`
	jwt.RegisteredClaims
}

// signer signs assertions with one P-256 key.
type signer struct {
	key  *ecdsa.PrivateKey
	kid  string
	jwks []byte // the public key as a JWKS, served at KeysPath
}

func newSigner(key *ecdsa.PrivateKey) (*signer, error) {
	if key.Curve != elliptic.P256() {
		return nil, errors.New("the assertion key must be an ECDSA P-256 key")
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pub)
	s := &signer{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12])}
	k, err := publicJWK(&key.PublicKey, s.kid)
	if err != nil {
		return nil, err
	}
	s.jwks, err = json.Marshal(jwks{Keys: []jwk{k}})
	return s, err
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

func publicJWK(pub *ecdsa.PublicKey, kid string) (jwk, error) {
	pt, err := pub.Bytes() // 0x04, then x and y, 32 bytes each
	if err != nil {
		return jwk{}, err
	}
	enc := base64.RawURLEncoding.EncodeToString
	return jwk{Kty: "EC", Crv: "P-256", X: enc(pt[1:33]), Y: enc(pt[33:]), Kid: kid, Use: "sig", Alg: "ES256"}, nil
}

// GenerateAssertionKey makes a new P-256 key for Config.AssertionKey.
func GenerateAssertionKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// LoadAssertionKeyFile reads the assertion key from a PEM file ("EC
// PRIVATE KEY" or PKCS #8 "PRIVATE KEY"). If the file does not exist, it
// generates a key and writes it there, readable by its owner only, so
// the next start signs with the same key and upstreams' cached keys stay
// valid.
func LoadAssertionKeyFile(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := GenerateAssertionKey()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("writing the assertion key: %w", err)
		}
		if err := errors.Join(pem.Encode(f, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), f.Close()); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing the assertion key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the assertion key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	switch blk.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s does not hold an ECDSA key", path)
		}
		return ek, nil
	}
	return nil, fmt.Errorf("%s holds a %q block, want an EC private key", path, blk.Type)
}

// serveKeys answers /.auth/keys with the JWKS.
func (h *Handler) serveKeys(w http.ResponseWriter, r *http.Request) {
	if h.signer == nil {
		writeProblem(w, r, http.StatusNotFound, "not_found", "Not found", "The identity assertion is turned off.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(h.signer.jwks)
}

// assertionCache keeps each user's signed assertion until little of its
// life is left, keyed like identityCache by the *User entraweb shares
// among the requests of a session's stored version.
type assertionCache struct {
	mu sync.Mutex
	m  map[*entraweb.User]cachedAssertion
}

type cachedAssertion struct {
	header []string // the header's value, shared by the requests that send it
	iss    string
	exp    time.Time
}

const maxCachedAssertions = 10000

// maxAssertionGroups keeps the assertion within one header line that
// common servers accept (8 KB): a group's id takes 39 bytes of JSON, 52
// once encoded.
const maxAssertionGroups = 100

// assertion returns the signed assertion for u, from the cache while
// more than assertionReuse of its life is left. base is the public URL
// the request came to; without Entra.PublicBaseURL it may differ between
// requests, and an assertion is reused only for its own origin.
func (h *Handler) assertion(u *entraweb.User, base *url.URL) ([]string, error) {
	now := h.now()
	c := &h.assertions
	c.mu.Lock()
	a, ok := c.m[u]
	c.mu.Unlock()
	if ok && isOrigin(a.iss, base) && a.exp.Sub(now) > assertionReuse {
		return a.header, nil
	}
	iss := base.Scheme + "://" + base.Host
	tok, exp, err := h.signAssertion(u, iss, now)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[*entraweb.User]cachedAssertion{}
	}
	if len(c.m) >= maxCachedAssertions {
		for k, v := range c.m {
			if !v.exp.After(now) || len(c.m) >= maxCachedAssertions {
				delete(c.m, k)
			}
		}
	}
	a = cachedAssertion{[]string{tok}, iss, exp}
	c.m[u] = a
	return a.header, nil
}

// isOrigin reports whether o is u's scheme://host, without building it.
func isOrigin(o string, u *url.URL) bool {
	rest, ok := strings.CutPrefix(o, u.Scheme)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "://")
	return ok && rest == u.Host
}

func (h *Handler) signAssertion(u *entraweb.User, issuer string, now time.Time) (string, time.Time, error) {
	var jti [16]byte
	rand.Read(jti[:])
	exp := now.Add(assertionLifetime)
	claims := AssertionClaims{
		ObjectID:          u.ObjectID,
		TenantID:          u.TenantID,
		Name:              u.Name,
		PreferredUsername: u.Username,
		Roles:             u.Roles,
		Groups:            u.Groups,
		HasGroups:         u.GroupsOverage,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   u.ObjectID,
			Audience:  jwt.ClaimStrings{h.s.upstreamOrigin},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
	}
	if len(u.Groups) > maxAssertionGroups {
		claims.Groups, claims.HasGroups = nil, true
	}
	if u.IsApp {
		claims.IdentityType = "app"
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = h.signer.kid
	s, err := t.SignedString(h.signer.key)
	return s, exp, err
}
