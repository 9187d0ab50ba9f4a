// Package signintest checks a framework example end to end: it serves the
// example's handler against the emulator and signs users in through it.
package signintest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// Run builds the example's handler with newHandler and checks that an
// anonymous page load is sent to sign in, an API call gets 401, a signed-in
// user sees their name, and /admin admits alice (DemoApp.Admin) but not
// dave (no role). It returns the authorization codes the app received at
// /auth/callback, for a test to check that none was logged.
func Run(t *testing.T, newHandler func(*entraweb.Auth) http.Handler) (codes []string) {
	srv := entratest.NewServer(t, nil)
	auth, err := entraweb.New(context.Background(), entraweb.Config{
		Instance:     srv.URL + "/",
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	h := newHandler(auth)
	var mu sync.Mutex
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := r.URL.Query().Get("code"); r.URL.Path == "/auth/callback" && code != "" {
			mu.Lock()
			codes = append(codes, code)
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(app.Close)
	ctx := context.Background()

	t.Run("anonymous", func(t *testing.T) {
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tt := range []struct {
			path, accept string
			want         int
		}{
			{"/", "text/html", http.StatusFound},
			{"/admin", "application/json", http.StatusUnauthorized},
			{"/auth/me", "application/json", http.StatusUnauthorized},
		} {
			req, _ := http.NewRequest("GET", app.URL+tt.path, nil)
			req.Header.Set("Accept", tt.accept)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
		}
	})
	for _, tt := range []struct {
		user, name string
		admin      bool
	}{
		{"alice", "Alice Admin", true},
		{"dave", "Dave No-Role", false},
	} {
		t.Run(tt.user, func(t *testing.T) {
			b := srv.Browser()
			username := tt.user + "@" + entratest.DemoTenantDomain
			resp, body, err := b.Visit(ctx, app.URL+"/", username, entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			if want := "hello " + tt.name + " (" + username + ")\n"; resp.StatusCode != http.StatusOK || body != want {
				t.Fatalf("home: %d %q, want %q", resp.StatusCode, body, want)
			}
			resp, body, err = b.Visit(ctx, app.URL+"/admin", "", "")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.admin && (resp.StatusCode != http.StatusOK || body != "admin page for "+tt.name+"\n"):
				t.Errorf("admin: %d %q", resp.StatusCode, body)
			case !tt.admin && (resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "DemoApp.Admin") || strings.Contains(body, "admin page")):
				t.Errorf("admin: %d, want only a 403 page naming the role; %q", resp.StatusCode, body)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	return codes
}
