package proxy

import "testing"

func TestTokenExpiry(t *testing.T) {
	// {"exp":1767225600} is 2026-01-01T00:00:00Z.
	tok := "eyJhbGciOiJub25lIn0.eyJleHAiOjE3NjcyMjU2MDB9.sig"
	var c expiryCache
	if got := c.get(tok); got != "2026-01-01T00:00:00.0000000Z" {
		t.Errorf("expiry %q", got)
	}
	for _, opaque := range []string{"opaque", "a.b.c", "a.e30.c", "a.eyJleHAiOiJ4In0.c"} {
		if got := c.get(opaque); got != "" {
			t.Errorf("expiry of %q = %q, want none", opaque, got)
		}
	}
}
