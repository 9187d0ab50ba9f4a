package entraweb

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// The page a visitor asked for is the other place a return path enters:
// whatever the request line held, the sign-in redirect names a path on
// this app.
func TestChallengeReturnPath(t *testing.T) {
	s, err := goodConfig().validate()
	if err != nil {
		t.Fatal(err)
	}
	a := &Auth{s: s, log: slog.New(slog.DiscardHandler)}
	tests := []struct{ requestURI, want string }{
		{"/reports?year=2026", "/reports?year=2026"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"http://evil.example/abs", "/abs"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://app.example/", nil)
		r.RequestURI = tt.requestURI
		u, err := url.ParseRequestURI(tt.requestURI)
		if err != nil {
			t.Fatal(err)
		}
		r.URL = u
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		w := httptest.NewRecorder()
		a.challenge(w, r)
		if w.Code != http.StatusFound {
			t.Fatalf("%s: %d", tt.requestURI, w.Code)
		}
		loc, _ := url.Parse(w.Header().Get("Location"))
		if loc.Host != "app.example" || loc.Path != "/auth/login" || loc.Query().Get("return") != tt.want {
			t.Errorf("%s: sent to %s, want return=%s", tt.requestURI, loc, tt.want)
		}
	}
}
