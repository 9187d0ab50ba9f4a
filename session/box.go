package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of every Box key (AES-256).
const KeySize = 32

// ErrDecrypt is returned by Box.Open when no key authenticates the
// ciphertext: it was tampered with, sealed under a key the Box no longer
// holds, or sealed with different additional data.
var ErrDecrypt = errors.New("session: message authentication failed (tampered data, unknown key or data moved to another key)")

// Box seals data with AES-256-GCM so that what a Store holds is neither
// readable nor forgeable by someone who can read or write the store.
//
// A Box holds one or more keys. Seal always uses the first; Open tries each
// in turn. To rotate, put the new key first and keep the old one after it
// until every record sealed under it has expired.
//
// Each Seal draws a random 96-bit nonce, so a single key should seal well
// under 2^32 messages; rotating keys now and then keeps far below that.
// A Box is safe for concurrent use. Make one with NewBox; the zero Box has
// no key.
type Box struct {
	aeads []cipher.AEAD
}

// NewBox returns a Box for the given keys, each KeySize bytes long. The
// first key encrypts; all of them decrypt. It reports every bad key at once.
func NewBox(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("session: NewBox needs at least one key")
	}
	b := &Box{aeads: make([]cipher.AEAD, 0, len(keys))}
	var errs []error
	for i, k := range keys {
		if len(k) != KeySize {
			errs = append(errs, fmt.Errorf("session: key %d is %d bytes, want %d (generate one with crypto/rand)", i, len(k), KeySize))
			continue
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("session: key %d: %w", i, err))
			continue
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			errs = append(errs, fmt.Errorf("session: key %d: %w", i, err))
			continue
		}
		b.aeads = append(b.aeads, aead)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// Seal encrypts and authenticates plaintext with the first key and binds
// it to additionalData, which Open must be given unchanged. The result is
// nonce || ciphertext || tag.
func (b *Box) Seal(plaintext, additionalData []byte) []byte {
	aead := b.aeads[0]
	n := aead.NonceSize()
	out := make([]byte, n, n+len(plaintext)+aead.Overhead())
	rand.Read(out) // never fails: crypto/rand crashes the program instead
	return aead.Seal(out, out[:n], plaintext, additionalData)
}

// Open authenticates and decrypts what Seal produced with any of the Box's
// keys and the same additionalData. It returns ErrDecrypt when none fits.
func (b *Box) Open(ciphertext, additionalData []byte) ([]byte, error) {
	for _, aead := range b.aeads {
		n := aead.NonceSize()
		if len(ciphertext) < n+aead.Overhead() {
			return nil, ErrDecrypt
		}
		if pt, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], additionalData); err == nil {
			return pt, nil
		}
	}
	return nil, ErrDecrypt
}
