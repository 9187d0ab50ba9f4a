package entratest

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
)

// Graph's access tokens carry a nonce in their header, and their
// signature covers the header as it was with the nonce's SHA-256 in its
// place: only Graph, which knows to swap it back, can verify them. The
// emulator does the same (the hash base64url-encoded), so a relying party
// that tries to validate a Graph token fails as it would against the
// real platform, and Graph's own check (verifyOwnToken) swaps it back.

// hashedNonce is what a Graph token's signature covers instead of nonce.
func hashedNonce(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return b64.EncodeToString(sum[:])
}

// withRawNonce replaces the nonce of a signed token's header with raw,
// leaving the payload and the signature as they are.
func withRawNonce(tok, raw string) string {
	head, rest, ok := strings.Cut(tok, ".")
	if !ok {
		return tok
	}
	hb, err := b64.DecodeString(head)
	var h map[string]any
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return tok
	}
	h["nonce"] = raw
	hb, _ = json.Marshal(h)
	return b64.EncodeToString(hb) + "." + rest
}

// signedForm returns the header.payload a Graph token's signature
// covers: p's own, with a header nonce swapped for its hash.
func (p *jwtParts) signedForm() string {
	n := p.str(p.header, "nonce")
	if n == "" {
		return p.signing
	}
	h := make(map[string]any, len(p.header))
	for k, v := range p.header {
		h[k] = v
	}
	h["nonce"] = hashedNonce(n)
	hb, _ := json.Marshal(h)
	_, payload, _ := strings.Cut(p.signing, ".")
	return b64.EncodeToString(hb) + "." + payload
}
