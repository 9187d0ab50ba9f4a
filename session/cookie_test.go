package session_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		cookieName string
		secure     bool
		wantName   string
	}{
		{"http", "", false, "entraweb_session"},
		{"https", "", true, "__Host-entraweb_session"},
		{"http custom name", "app_sid", false, "app_sid"},
		{"https custom name", "app_sid", true, "__Host-app_sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newManager(t)
			m.CookieName = tt.cookieName
			w := httptest.NewRecorder()
			if _, err := m.Start(context.Background(), w, newRequest(tt.secure), user); err != nil {
				t.Fatal(err)
			}
			header := w.Header().Get("Set-Cookie")
			c, err := http.ParseSetCookie(header)
			if err != nil {
				t.Fatalf("Set-Cookie %q: %v", header, err)
			}
			if c.Name != tt.wantName || c.Secure != tt.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.Path != "/" || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Errorf("Set-Cookie %q: want name %s, Secure=%v, HttpOnly, SameSite=Lax, Path=/, no Domain, no expiry", header, tt.wantName, tt.secure)
			}
			if raw, err := base64.RawURLEncoding.Strict().DecodeString(c.Value); len(c.Value) != 43 || err != nil || len(raw) != 32 {
				t.Errorf("cookie value %q is not 32 bytes in 43 base64url characters", c.Value)
			}
			// What the browser sends back on every request.
			if pair := c.Name + "=" + c.Value; len(pair) > 100 {
				t.Errorf("cookie %q is %d bytes, want at most 100", pair, len(pair))
			}
			t.Logf("Set-Cookie (%d bytes): %s", len(header), strings.Replace(header, c.Value, "<id>", 1))
		})
	}
}

// TestLoadRejectsBeforeStore feeds malformed and misnamed cookies and
// checks Load answers "no session" without asking the store.
func TestLoadRejectsBeforeStore(t *testing.T) {
	valid := strings.Repeat("A", 43)
	tests := []struct {
		name   string
		secure bool
		cookie *http.Cookie // nil: no cookie
	}{
		{"no cookie", true, nil},
		{"empty", false, &http.Cookie{Name: "entraweb_session", Value: ""}},
		{"42 chars", false, &http.Cookie{Name: "entraweb_session", Value: valid[:42]}},
		{"44 chars", false, &http.Cookie{Name: "entraweb_session", Value: valid + "A"}},
		{"standard base64 alphabet", false, &http.Cookie{Name: "entraweb_session", Value: "+" + valid[1:]}},
		{"slash", false, &http.Cookie{Name: "entraweb_session", Value: valid[1:] + "/"}},
		{"padding", false, &http.Cookie{Name: "entraweb_session", Value: valid[2:] + "=="}},
		{"non-canonical last character", false, &http.Cookie{Name: "entraweb_session", Value: valid[:42] + "B"}},
		{"dot", false, &http.Cookie{Name: "entraweb_session", Value: valid[:20] + "." + valid[:22]}},
		{"http cookie on https", true, &http.Cookie{Name: "entraweb_session", Value: valid}},
		{"https cookie on http", false, &http.Cookie{Name: "__Host-entraweb_session", Value: valid}},
		{"other cookie", true, &http.Cookie{Name: "__Host-other", Value: valid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store, _ := newManager(t)
			r := newRequest(tt.secure)
			if tt.cookie != nil {
				r.Header.Set("Cookie", tt.cookie.Name+"="+tt.cookie.Value)
			}
			s, err := m.Load(context.Background(), r)
			if s != nil || err != nil {
				t.Fatalf("Load = %v, %v; want nil, nil", s, err)
			}
			if store.finds != 0 {
				t.Errorf("Load asked the store %d times for an invalid cookie", store.finds)
			}
		})
	}

	t.Run("well formed but unknown", func(t *testing.T) {
		m, store, _ := newManager(t)
		c := &http.Cookie{Name: "__Host-entraweb_session", Value: valid}
		if s := load(t, m, true, c); s != nil {
			t.Fatalf("Load found a session for an unknown id")
		}
		if store.finds != 1 || store.findKeys[0] != storeKey(t, valid) {
			t.Errorf("store asked for %q, want one Find of the id's hash", store.findKeys)
		}
	})
}

// FuzzLoadCookie sends arbitrary Cookie headers: Load must never panic or
// fail, and must ask the store only about the hash of a well-formed id.
func FuzzLoadCookie(f *testing.F) {
	valid := strings.Repeat("A", 43)
	for _, seed := range []string{
		"",
		"entraweb_session=" + valid,
		"__Host-entraweb_session=" + valid,
		"entraweb_session=\"" + valid + "\"",
		"a=1; entraweb_session=" + valid[:42] + "B; b=2",
		"entraweb_session=" + valid + "; entraweb_session=x",
		"entraweb_session=%41%41",
		"entraweb_session=\x00\xff",
		";;;==;",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	m, store, _ := newManager(f)
	f.Fuzz(func(t *testing.T, header string, secure bool) {
		store.reset()
		r := newRequest(secure)
		r.Header.Set("Cookie", header)
		s, err := m.Load(context.Background(), r)
		if s != nil || err != nil {
			t.Fatalf("Load = %v, %v; want nil, nil (no session was ever started)", s, err)
		}
		name := "entraweb_session"
		if secure {
			name = "__Host-" + name
		}
		c, cerr := r.Cookie(name)
		wellFormed := cerr == nil && len(c.Value) == 43
		if wellFormed {
			raw, err := base64.RawURLEncoding.Strict().DecodeString(c.Value)
			wellFormed = err == nil && len(raw) == 32
		}
		switch {
		case !wellFormed && store.finds != 0:
			t.Fatalf("Load asked the store about %q for header %q", store.findKeys, header)
		case wellFormed && (store.finds != 1 || store.findKeys[0] != storeKey(t, c.Value)):
			t.Fatalf("Load asked the store about %q for id %q, want its hash once", store.findKeys, c.Value)
		}
	})
}
