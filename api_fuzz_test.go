package entraweb

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearer feeds hostile Authorization headers to the bearer-token
// reader and the challenge writer: a token it returns is a non-empty
// run of JWT characters that came from the header, and every challenge
// built from what it reports stays one well-formed header line.
func FuzzBearer(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "bearer abc.def.ghi", "Basic dXNlcjpwYXNz", "Bearer a.b.c extra",
		"Bearer \"quoted\"", "Bearer a\r\nX-Injected: 1", "BEARER eyJhbGciOiJub25lIn0.e30.", "Bearer\ttab",
		"Bearer " + strings.Repeat("a", maxAuthorization),
	} {
		f.Add(s, "scope\"with\\quote")
	}
	f.Fuzz(func(t *testing.T, header, reason string) {
		r, _ := http.NewRequest("GET", "http://api.test/", nil)
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		tok, err := bearerToken(r)
		if err == nil {
			if tok == "" || !strings.HasSuffix(header, tok) || len(tok) > maxAuthorization {
				t.Fatalf("token %q from %q", tok, header)
			}
			for i := 0; i < len(tok); i++ {
				if c := tok[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
					t.Fatalf("token %q holds %q", tok, c)
				}
			}
		} else if err != errNoBearer {
			reason = err.Error() + reason
		}
		ch := bearerChallenge("invalid_token", reason, reason)
		quotes := 4 // error and error_description
		if reason != "" {
			quotes += 2 // scope
		}
		if !strings.HasPrefix(ch, `Bearer error="invalid_token", error_description="`) || strings.Count(ch, `"`) != quotes {
			t.Fatalf("challenge %q", ch)
		}
		for i := 0; i < len(ch); i++ {
			if c := ch[i]; c < 0x20 || c > 0x7e || c == '\\' {
				t.Fatalf("challenge %q holds %q", ch, c)
			}
		}
	})
}
