package entraweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

func ExampleAuth_Client() {
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
		req, _ := http.NewRequestWithContext(r.Context(), "GET", graph+"/v1.0/me", nil)
		resp, err := auth.Client(r, "User.Read").Do(req)
		if auth.Challenge(w, r, err) { // consent, a new sign-in, a claims challenge...
			return
		}
		defer resp.Body.Close()
		var me struct{ DisplayName, UserPrincipalName string }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&me) != nil {
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

func ExampleAuth_AppClient() {
	srv, cfg := startEmulator()
	defer srv.Close()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	// One client for the app's lifetime: every request gets a current
	// token. The emulator grants DemoApp Graph's User.Read.All.
	graph := auth.AppClient("https://graph.microsoft.com/.default")
	alice := entratest.StableID("user:alice@contoso.onmicrosoft.com") // her object id
	resp, err := graph.Post(srv.GraphURL()+"/v1.0/users/"+alice+"/getMemberObjects",
		"application/json", strings.NewReader(`{"securityEnabledOnly": true}`))
	if err != nil {
		log.Fatal(err) // no token: the error says why (an AADSTS code and what to do)
	}
	defer resp.Body.Close()
	var groups struct{ Value []string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&groups) != nil {
		log.Fatalf("unexpected answer from Microsoft Graph: %s", resp.Status)
	}
	fmt.Println("alice is in", len(groups.Value), "groups")
	// Output:
	// alice is in 2 groups
}
