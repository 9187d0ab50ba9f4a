package entratest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

var b64 = base64.RawURLEncoding

// encodeJWT signs header and claims with key (RS256). A nil key gives an
// unsigned token (alg "none"), which is what a fault asks for.
func encodeJWT(header, claims map[string]any, key *rsa.PrivateKey) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	if key == nil {
		return signing + ".", nil
	}
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64.EncodeToString(sig), nil
}

// jwtParts is a JWT split and decoded, not yet verified.
type jwtParts struct {
	header  map[string]any
	claims  map[string]any
	signing string // header.payload, as signed
	sig     []byte
}

var errMalformedJWT = errors.New("malformed JWT")

// decodeJWT splits a compact JWS and decodes its header and claims. It
// verifies nothing.
func decodeJWT(tok string) (*jwtParts, error) {
	if len(tok) > 16<<10 {
		return nil, errMalformedJWT
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errMalformedJWT
	}
	var p jwtParts
	for i, dst := range []*map[string]any{&p.header, &p.claims} {
		raw, err := b64.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return nil, errMalformedJWT
		}
		if err := json.Unmarshal(raw, dst); err != nil || *dst == nil {
			return nil, errMalformedJWT
		}
	}
	sig, err := b64.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return nil, errMalformedJWT
	}
	p.signing = parts[0] + "." + parts[1]
	p.sig = sig
	return &p, nil
}

func (p *jwtParts) str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// num returns a numeric claim (seconds since the epoch) and whether it is there.
func (p *jwtParts) num(k string) (int64, bool) {
	f, ok := p.claims[k].(float64)
	return int64(f), ok
}

// verifyRSA checks the signature against pub for RS256 or PS256.
func (p *jwtParts) verifyRSA(pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(p.signing))
	switch p.str(p.header, "alg") {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], p.sig)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, sum[:], p.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return errors.New("unsupported alg")
	}
}
