package session_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/session"
)

func TestNewBox(t *testing.T) {
	tests := []struct {
		name string
		keys [][]byte
		want []string // substrings of the error; none means valid
	}{
		{"one key", [][]byte{testKey(1)}, nil},
		{"rotation", [][]byte{testKey(1), testKey(2), testKey(3)}, nil},
		{"no key", nil, []string{"at least one key"}},
		{"AES-128 key", [][]byte{make([]byte, 16)}, []string{"key 0 is 16 bytes, want 32"}},
		{"second key bad", [][]byte{testKey(1), make([]byte, 31)}, []string{"key 1 is 31 bytes"}},
		{"every bad key reported", [][]byte{nil, testKey(1), make([]byte, 64)}, []string{"key 0 is 0 bytes", "key 2 is 64 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := session.NewBox(tt.keys...)
			if len(tt.want) == 0 {
				if err != nil || b == nil {
					t.Fatalf("NewBox = %v, %v", b, err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewBox accepted bad keys")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestBoxOpen(t *testing.T) {
	box := mustBox(t, testKey(1))
	ad := []byte("s:key")
	sealed := box.Seal([]byte("secret"), ad)
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x80
		return c
	}
	tests := []struct {
		name       string
		box        *session.Box
		ciphertext []byte
		ad         []byte
		want       string // empty: ErrDecrypt
	}{
		{"round trip", box, sealed, ad, "secret"},
		{"old key after rotation", mustBox(t, testKey(2), testKey(1)), sealed, ad, "secret"},
		{"other additional data", box, sealed, []byte("s:other"), ""},
		{"no additional data", box, sealed, nil, ""},
		{"wrong key", mustBox(t, testKey(2)), sealed, ad, ""},
		{"nonce flipped", box, flip(0), ad, ""},
		{"ciphertext flipped", box, flip(13), ad, ""},
		{"tag flipped", box, flip(len(sealed) - 1), ad, ""},
		{"truncated", box, sealed[:len(sealed)-1], ad, ""},
		{"shorter than nonce and tag", box, sealed[:27], ad, ""},
		{"empty", box, nil, ad, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.ciphertext, tt.ad)
			if tt.want == "" {
				if !errors.Is(err, session.ErrDecrypt) || got != nil {
					t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestBoxSealFreshNonce(t *testing.T) {
	box := mustBox(t, testKey(1))
	a, b := box.Seal([]byte("same"), nil), box.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
	if len(a) != 12+4+16 {
		t.Errorf("sealed length %d, want nonce + plaintext + tag = 32", len(a))
	}
}

// FuzzBoxOpen checks that Open never panics on arbitrary input, never
// accepts what it did not seal, and that Seal and Open round-trip.
func FuzzBoxOpen(f *testing.F) {
	box := mustBox(f, testKey(1))
	f.Add([]byte{}, []byte{})
	f.Add([]byte("hello"), []byte("s:key"))
	f.Add(box.Seal([]byte("sealed"), []byte("s:key")), []byte("s:key"))
	f.Add(bytes.Repeat([]byte{0}, 28), []byte(nil))
	f.Fuzz(func(t *testing.T, data, ad []byte) {
		if got, err := box.Open(data, ad); err == nil {
			// Only the seeded seal can open; anything else is a forgery.
			if string(got) != "sealed" {
				t.Fatalf("Open accepted unsealed input %x", data)
			}
		}
		sealed := box.Seal(data, ad)
		got, err := box.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of %x = %x, %v", data, got, err)
		}
		if _, err := box.Open(sealed, append(bytes.Clone(ad), 0)); err == nil {
			t.Fatal("Open accepted different additional data")
		}
	})
}
