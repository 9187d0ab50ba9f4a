package entratest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
)

// sealer encrypts and authenticates the small records the emulator hands
// out instead of keeping them (refresh tokens, the SSO cookie, the pending
// sign-in carried by the sign-in form), so that they cost no memory and
// cannot be forged or read by a client.
type sealer struct{ aead cipher.AEAD }

func newSealer() *sealer {
	key := make([]byte, 32)
	rand.Read(key)
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

// seal encrypts v (as JSON); purpose binds the result to one use, so a
// refresh token cannot be replayed as an SSO cookie.
func (s *sealer) seal(purpose string, v any) string {
	pt, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(pt)+s.aead.Overhead())
	rand.Read(nonce)
	return b64.EncodeToString(s.aead.Seal(nonce, nonce, pt, []byte(purpose)))
}

var errBadSeal = errors.New("not a value this emulator issued")

func (s *sealer) open(purpose, text string, v any) error {
	if len(text) > 8<<10 {
		return errBadSeal
	}
	raw, err := b64.DecodeString(text)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return errBadSeal
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return errBadSeal
	}
	if err := json.Unmarshal(pt, v); err != nil {
		return errBadSeal
	}
	return nil
}
