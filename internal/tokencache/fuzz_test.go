package tokencache

import "testing"

// FuzzTokenIndex decodes arbitrary index records: never a panic, and what
// encodes decodes back.
func FuzzTokenIndex(f *testing.F) {
	f.Add(encodeIndex([]cachedToken{{Scopes: "user.read", Token: "a.b.c", Expires: 1}}))
	f.Add([]byte{recordVersion, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx := decodeIndex(b)
		if idx == nil {
			return
		}
		again := decodeIndex(encodeIndex(idx))
		if len(again) != len(idx) {
			t.Fatalf("round trip lost entries: %d -> %d", len(idx), len(again))
		}
	})
}
