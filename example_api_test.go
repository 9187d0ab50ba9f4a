package entraweb_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// The examples of a protected JSON API run DemoApp's API at the
// emulator. A client app gets the user's token for the API its own way
// (MSAL's interactive sign-in, say); userAPIToken stands in for it.

// exampleDaemonID is a daemon granted DemoApp.Write on DemoApp's API.
var exampleDaemonID = entratest.StableID("app:example-daemon")

// startAPIEmulator starts the emulator with such a daemon registered.
func startAPIEmulator() (*entratest.Server, entraweb.Config) {
	world := entratest.Default()
	world.Tenants[0].Apps = append(world.Tenants[0].Apps, entratest.App{
		ClientID: exampleDaemonID, DisplayName: "Nightly report", Secrets: []entratest.Secret{{Value: daemonSecret}},
		ApplicationPermissions: []string{"api://" + entratest.DemoClientID + "/DemoApp.Write"},
	})
	srv, err := entratest.Start(entratest.Options{Config: world})
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

// userAPIToken signs user in as DemoApp's client and returns the access
// token for DemoApp's API scope access_as_user.
func userAPIToken(srv *entratest.Server, user string) string {
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	scope := "api://" + entratest.DemoClientID + "/access_as_user"
	q := url.Values{"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost/auth/callback"},
		"scope": {scope}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	cb, err := srv.Browser().SignIn(context.Background(), srv.Authority()+"/oauth2/v2.0/authorize?"+q.Encode(), user, entratest.DemoPassword)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := srv.Client().PostForm(srv.Authority()+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret}, "code": {cb.Params.Get("code")},
		"redirect_uri": {"http://localhost/auth/callback"}, "code_verifier": {verifier}, "scope": {scope}})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return body.AccessToken
}

// callAndPrint calls u with the bearer token (none when empty) and prints the
// status, the challenge and the body.
func callAndPrint(u, token string) {
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"), strings.TrimSpace(string(body)))
}

func ExampleAuth_RequireScope() {
	srv, cfg := startAPIEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/api/todos", auth.RequireScope("access_as_user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context()) // the caller, as for a signed-in web user
		fmt.Fprintf(w, `{"owner": %q}`, u.Name)
	})))
	api := httptest.NewServer(mux)
	defer api.Close()

	callAndPrint(api.URL+"/api/todos", "")                                                 // no token
	callAndPrint(api.URL+"/api/todos", "not-a-token")                                      // garbage
	callAndPrint(api.URL+"/api/todos", userAPIToken(srv, "carol@contoso.onmicrosoft.com")) // a user's token for the API
	// Output:
	// 401 Bearer {"error":"unauthorized","message":"This API needs an access token: send Authorization: Bearer <token>, a token from Entra ID for this API's scope."}
	// 401 Bearer error="invalid_token", error_description="malformed token" {"error":"invalid_token","message":"The access token was refused: malformed token."}
	// 200  {"owner": "Carol Reader"}
}

func ExampleAuth_RequireAppRole() {
	srv, cfg := startAPIEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	// DemoApp.Read is implied by DemoApp.Write through the role hierarchy.
	mux.Handle("/api/reports", auth.RequireAppRole("DemoApp.Read", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		fmt.Fprintf(w, `{"app": %v, "roles": %q}`, u.IsApp, u.Roles)
	})))
	mux.Handle("/api/admin", auth.RequireAppRole("DemoApp.Admin", http.NotFoundHandler()))
	api := httptest.NewServer(mux)
	defer api.Close()

	// A daemon gets an app token with MSAL Go's client credentials.
	cred, _ := confidential.NewCredFromSecret(daemonSecret)
	daemon, err := confidential.New(srv.Authority(), exampleDaemonID, cred,
		confidential.WithHTTPClient(srv.Client()), // trusts the emulator's CA
		confidential.WithInstanceDiscovery(false)) // the emulator is not a Microsoft host
	if err != nil {
		log.Fatal(err)
	}
	res, err := daemon.AcquireTokenByCredential(context.Background(), []string{"api://" + entratest.DemoClientID + "/.default"})
	if err != nil {
		log.Fatal(err)
	}
	callAndPrint(api.URL+"/api/reports", res.AccessToken)
	callAndPrint(api.URL+"/api/admin", res.AccessToken)
	// Output:
	// 200  {"app": true, "roles": ["DemoApp.Read" "DemoApp.Write"]}
	// 403 Bearer error="insufficient_scope", error_description="the token lacks DemoApp.Admin", scope="DemoApp.Admin" {"error":"insufficient_scope","message":"The access token lacks the permission DemoApp.Admin: an administrator must grant the app role DemoApp.Admin to the calling app or user."}
}

func ExampleAuth_OnBehalfOf() {
	srv, cfg := startAPIEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/api/profile", auth.RequireScope("access_as_user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A Graph token for the calling user, cached until their token expires.
		tok, err := auth.OnBehalfOf(r, "User.Read")
		if auth.APIChallenge(w, r, err) {
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), "GET", srv.GraphURL()+"/v1.0/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			http.Error(w, "graph unreachable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var me struct {
			DisplayName string `json:"displayName"`
		}
		json.NewDecoder(resp.Body).Decode(&me)
		fmt.Fprintf(w, `{"graph": %d, "name": %q}`, resp.StatusCode, me.DisplayName)
	})))
	api := httptest.NewServer(mux)
	defer api.Close()

	callAndPrint(api.URL+"/api/profile", userAPIToken(srv, "alice@contoso.onmicrosoft.com"))
	// Output:
	// 200  {"graph": 200, "name": "Alice Admin"}
}
