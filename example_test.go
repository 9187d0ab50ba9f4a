package entraweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// startEmulator starts the local Entra ID emulator and returns it with the
// configuration of its DemoApp. Against a real tenant, the configuration
// comes from LoadConfig instead.
func startEmulator() (*entratest.Server, entraweb.Config) {
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	return srv, entraweb.Config{
		Instance:     srv.URL,
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		GraphURL:     srv.GraphURL(),
		HTTPClient:   srv.Client(), // trusts the emulator's CA
		Logger:       slog.New(slog.DiscardHandler),
	}
}

func ExampleNew() {
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	auth, err := entraweb.New(ctx, entraweb.Config{
		Instance:     srv.URL, // https://login.microsoftonline.com/ by default
		TenantID:     entratest.DemoTenantID,
		ClientID:     entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret,
		HTTPClient:   srv.Client(), // trusts the emulator's CA
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", entraweb.UserFrom(r.Context()).Name)
	})))
	app := httptest.NewServer(mux)
	defer app.Close()

	// Show where an anonymous visitor is sent instead of following it.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	page, _ := http.NewRequest("GET", app.URL+"/reports?year=2026", nil)
	page.Header.Set("Accept", "text/html") // a page load
	resp, err := client.Do(page)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location")) // absolute: http://127.0.0.1:PORT/auth/login?...
	fmt.Println(resp.StatusCode, loc.RequestURI())

	// A script cannot follow a sign-in page: it gets 401 JSON instead.
	api, _ := http.NewRequest("GET", app.URL+"/reports?year=2026", nil)
	api.Header.Set("Accept", "application/json")
	resp, err = client.Do(api)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"` // where to send the user
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, answer.Error)
	// Output:
	// 302 /auth/login?return=%2Freports%3Fyear%3D2026
	// 401 login_required
}

func ExampleAuth_RequireLogin() {
	srv, cfg := startEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		fmt.Fprintf(w, "hello %s (%s)", u.Name, u.Username)
	})))
	app := httptest.NewServer(mux)
	defer app.Close()

	// The emulator's browser follows the app to the sign-in page, signs
	// alice in and comes back to the page she asked for.
	browser := srv.Browser()
	ctx := context.Background()
	resp, body, err := browser.Visit(ctx, app.URL+"/", "alice@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, body)

	// Her session cookie lets her through without signing in again.
	resp, body, err = browser.Visit(ctx, app.URL+"/reports", "", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, body)
	// Output:
	// 200 hello Alice Admin (alice@contoso.onmicrosoft.com)
	// 200 hello Alice Admin (alice@contoso.onmicrosoft.com)
}

func ExampleAuth_RequireRole() {
	srv, cfg := startEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	// DemoApp.Admin implies DemoApp.Write, which implies DemoApp.Read.
	mux.Handle("/reports", auth.RequireRole("DemoApp.Read", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "reports for %s", entraweb.UserFrom(r.Context()).Name)
	})))
	app := httptest.NewServer(mux)
	defer app.Close()

	// alice holds DemoApp.Admin, bob DemoApp.Write, carol DemoApp.Read and
	// dave no role at all.
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		resp, body, err := srv.Browser().Visit(context.Background(), app.URL+"/reports",
			name+"@contoso.onmicrosoft.com", entratest.DemoPassword)
		if err != nil {
			log.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			body = http.StatusText(resp.StatusCode) // a page naming the missing role
		}
		fmt.Printf("%s: %d %s\n", name, resp.StatusCode, body)
	}
	// Output:
	// alice: 200 reports for Alice Admin
	// bob: 200 reports for Bob Writer
	// carol: 200 reports for Carol Reader
	// dave: 403 Forbidden
}

func ExampleAuth_AccessToken() {
	srv, cfg := startEmulator()
	defer srv.Close()
	cfg.Scopes = []string{"User.Read"} // asked for at sign-in, so the first call is cached
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	graph := srv.GraphURL() // https://graph.microsoft.com in production
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/profile", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.AccessToken(r, "User.Read")
		if auth.Challenge(w, r, err) { // consent or a new sign-in needed: handled
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), "GET", graph+"/v1.0/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			http.Error(w, "Microsoft Graph is unreachable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if err := auth.ClaimsChallenge(resp, "User.Read"); err != nil {
			auth.Challenge(w, r, err) // Conditional Access asked for more
			return
		}
		var me struct{ DisplayName, UserPrincipalName string }
		if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
			http.Error(w, "unexpected answer from Microsoft Graph", http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "Graph says you are %s (%s)", me.DisplayName, me.UserPrincipalName)
	})))
	app := httptest.NewServer(mux)
	defer app.Close()

	_, body, err := srv.Browser().Visit(context.Background(), app.URL+"/profile",
		"bob@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(body)
	// Output:
	// Graph says you are Bob Writer (bob@contoso.onmicrosoft.com)
}

func ExampleLoadConfigDir() {
	dir, err := os.MkdirTemp("", "entraweb-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// An ASP.NET Core app's appsettings.json works as it is.
	settings := `{
  "AzureAd": {
    "Instance": "https://login.microsoftonline.com/",
    "TenantId": "contoso.onmicrosoft.com",
    "ClientId": "9d3b8e2a-4c1f-4a6e-b7d5-2e8f1a0c6b3d",
    "ClientCredentials": [
      { "SourceType": "ClientSecret", "ClientSecret": "kept out of source control" }
    ]
  },
  "Entraweb": {
    "Scopes": [ "User.Read" ],
    "MinimumRole": "DemoApp.Read",
    "Session": { "IdleTimeout": "00:30:00" }
  }
}`
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(settings), 0o600); err != nil {
		log.Fatal(err)
	}

	// The environment overrides the file: AZURE_TENANT_ID, AZURE_CLIENT_ID,
	// AZURE_CLIENT_SECRET, AzureAd__ClientId, Entraweb__Session__IdleTimeout...
	// This example prints only fields such variables rarely set.
	cfg, err := entraweb.LoadConfigDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scopes:", cfg.Scopes)
	fmt.Println("minimum role:", cfg.MinimumRole)
	fmt.Println("idle timeout:", time.Duration(cfg.Session.IdleTimeout))
	fmt.Println("client secret:", cfg.ClientSecret) // a Secret never prints
	// Output:
	// scopes: [User.Read]
	// minimum role: DemoApp.Read
	// idle timeout: 30m0s
	// client secret: [redacted]
}
