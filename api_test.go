package entraweb_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// Apps added to the emulator's default world for the API tests.
var (
	daemonID     = entratest.StableID("app:daemon")
	idleDaemonID = entratest.StableID("app:idle-daemon")
)

const (
	daemonSecret = "emu~daemon-secret-for-tests"
	apiScope     = "api://" + entratest.DemoClientID + "/access_as_user"
	cp1Claims    = `{"access_token":{"xms_cc":{"values":["cp1"]}}}`
)

// apiWorld is the default world plus a daemon granted DemoApp.Write on
// DemoApp's API and a daemon granted nothing; DemoApp is multi-tenant, so
// fabrikam's users can call it too.
func apiWorld() *entratest.Config {
	cfg := entratest.Default()
	t := &cfg.Tenants[0]
	t.Apps[0].MultiTenant = true
	for i := range t.Apps[0].AppRoles {
		t.Apps[0].AppRoles[i].AllowedMemberTypes = []string{"User", "Application"}
	}
	t.Apps = append(t.Apps,
		entratest.App{ClientID: daemonID, DisplayName: "Daemon", Secrets: []entratest.Secret{{Value: daemonSecret}},
			ApplicationPermissions: []string{"api://" + entratest.DemoClientID + "/DemoApp.Write"}},
		entratest.App{ClientID: idleDaemonID, DisplayName: "IdleDaemon", Secrets: []entratest.Secret{{Value: daemonSecret}}},
	)
	return cfg
}

// apiServer is DemoApp's API: /read needs the access_as_user scope,
// /admin the DemoApp.Admin role, /write the scope or DemoApp.Write for
// daemons; /me calls Graph on the user's behalf. Each answers with the
// caller as UserFrom sees them.
func apiServer(t testing.TB, srv *entratest.Server, cfg entraweb.Config) (*entraweb.Auth, string) {
	t.Helper()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := entraweb.UserFrom(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"name": u.Name, "oid": u.ObjectID, "roles": u.Roles, "app": u.IsApp})
	})
	mux := http.NewServeMux()
	mux.Handle("/read", auth.RequireScope("access_as_user", who))
	mux.Handle("/admin", auth.RequireAppRole("DemoApp.Admin", who))
	mux.Handle("/write", auth.RequireScopeOrAppRole("access_as_user", "DemoApp.Write", who))
	mux.Handle("/any", auth.RequireAccessToken(who))
	graphMe := func(scope string) http.Handler {
		return auth.RequireScopeOrAppRole("access_as_user", "DemoApp.Write", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := auth.OnBehalfOf(r, scope)
			if auth.APIChallenge(w, r, err) {
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), "GET", srv.GraphURL()+"/v1.0/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			if auth.APIChallenge(w, r, auth.ClaimsChallenge(resp, scope)) {
				return
			}
			var me map[string]any
			json.NewDecoder(resp.Body).Decode(&me)
			fmt.Fprintf(w, "graph %d %v", resp.StatusCode, me["displayName"])
		}))
	}
	mux.Handle("/me", graphMe("User.Read"))
	mux.Handle("/mail", graphMe("Mail.Read"))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return auth, hs.URL
}

func apiConfig(srv *entratest.Server) entraweb.Config {
	cfg := testConfig(srv)
	cfg.SkipCredentialCheck = true
	return cfg
}

// userAPITokens signs user in at the emulator as DemoApp's client would
// and returns the token response for scope (claims, when set, is sent
// with the redemption, e.g. to declare client capabilities).
func userAPITokens(t testing.TB, srv *entratest.Server, tenant, user, scope, claims string) map[string]string {
	t.Helper()
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:8080/auth/callback"
	q := url.Values{
		"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	cb, err := srv.Browser().SignIn(context.Background(), srv.AuthorityFor(tenant)+"/oauth2/v2.0/authorize?"+q.Encode(), user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret},
		"code": {cb.Params.Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}, "scope": {scope},
	}
	if claims != "" {
		form.Set("claims", claims)
	}
	return postToken(t, srv, tenant, form)
}

func postToken(t testing.TB, srv *entratest.Server, tenant string, form url.Values) map[string]string {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.AuthorityFor(tenant)+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	out := map[string]string{}
	for k, v := range body {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if out["access_token"] == "" {
		t.Fatalf("no access token: %d %s", resp.StatusCode, out["error_description"])
	}
	return out
}

// daemonToken gets an app token as a daemon does: MSAL Go's client
// credentials, instance discovery off for the emulator's host.
func daemonToken(t testing.TB, srv *entratest.Server, clientID, scope string) string {
	t.Helper()
	cred, err := confidential.NewCredFromSecret(daemonSecret)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := confidential.New(srv.AuthorityFor(entratest.DemoTenantID), clientID, cred,
		confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.AcquireTokenByCredential(context.Background(), []string{scope})
	if err != nil {
		t.Fatal(err)
	}
	return res.AccessToken
}

type apiAnswer struct {
	status    int
	challenge string
	body      map[string]any
}

func callAPI(t testing.TB, u, authorization string) apiAnswer {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		body = nil
	}
	return apiAnswer{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body}
}

func TestRequireScopeAndAppRole(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	_, base := apiServer(t, srv, apiConfig(srv))
	alice := userAPITokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", apiScope+" openid", "")
	bob := userAPITokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	daemon := daemonToken(t, srv, daemonID, "api://"+entratest.DemoClientID+"/.default")
	idle := daemonToken(t, srv, idleDaemonID, "api://"+entratest.DemoClientID+"/.default")
	graph := daemonToken(t, srv, daemonID, "https://graph.microsoft.com/.default")
	tests := []struct {
		name, path, auth string
		status           int
		challenge        string // a substring of WWW-Authenticate ("" for none expected)
		want             string // a substring of the body
	}{
		{"no token", "/read", "", 401, "Bearer", "Authorization: Bearer"},
		{"basic scheme", "/read", "Basic dXNlcjpwYXNz", 401, "Bearer", "Authorization: Bearer"},
		{"empty bearer", "/read", "Bearer ", 401, `error="invalid_token"`, "no token"},
		{"not a jwt", "/read", "Bearer a b", 401, `error="invalid_token"`, "characters"},
		{"user with scope", "/read", "Bearer " + alice["access_token"], 200, "", "Alice Admin"},
		{"lower-case scheme", "/read", "bearer " + alice["access_token"], 200, "", "Alice Admin"},
		{"user with role", "/admin", "Bearer " + alice["access_token"], 200, "", "DemoApp.Read"},
		{"user without role", "/admin", "Bearer " + bob, 403, `error="insufficient_scope", error_description="the token lacks DemoApp.Admin", scope="DemoApp.Admin"`, "app role DemoApp.Admin"},
		{"user on combined", "/write", "Bearer " + bob, 200, "", "Bob Writer"},
		{"daemon on scope", "/read", "Bearer " + daemon, 403, `scope="access_as_user"`, "scope access_as_user"},
		{"daemon on combined", "/write", "Bearer " + daemon, 200, "", `"app":true`},
		{"daemon without role", "/admin", "Bearer " + daemon, 403, `scope="DemoApp.Admin"`, "DemoApp.Admin"},
		{"daemon without permissions", "/write", "Bearer " + idle, 401, `error="invalid_token", error_description="the token grants no permission`, "neither scp nor roles"},
		{"graph token", "/read", "Bearer " + graph, 401, "Microsoft Graph", "not for this"},
		{"id token", "/read", "Bearer " + alice["id_token"], 401, "an ID token", "an ID token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := callAPI(t, base+tt.path, tt.auth)
			raw, _ := json.Marshal(got.body)
			if got.status != tt.status || !strings.Contains(string(raw), tt.want) {
				t.Fatalf("%d %s, want %d with %q", got.status, raw, tt.status, tt.want)
			}
			if tt.challenge == "" && got.challenge != "" || !strings.Contains(got.challenge, tt.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", got.challenge, tt.challenge)
			}
			if tt.name == "no token" && got.challenge != "Bearer" {
				t.Errorf("without a token the challenge is bare: %q", got.challenge)
			}
		})
	}
}

// Entraweb:MinimumRole is needed to use the app at all: a user without
// it, holding the API's scope, is refused by every API middleware, as is
// a daemon without it; holders of a role above it pass.
func TestMinimumRoleForAPICalls(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	cfg := apiConfig(srv)
	cfg.MinimumRole = "DemoApp.Read"
	_, base := apiServer(t, srv, cfg)
	dave := userAPITokens(t, srv, entratest.DemoTenantID, "dave@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	bob := userAPITokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	daemon := daemonToken(t, srv, daemonID, "api://"+entratest.DemoClientID+"/.default") // DemoApp.Write
	for _, path := range []string{"/read", "/write", "/any"} {
		got := callAPI(t, base+path, "Bearer "+dave)
		if got.status != http.StatusForbidden || !strings.Contains(got.challenge, `scope="DemoApp.Read"`) || !strings.Contains(fmt.Sprint(got.body), "MinimumRole") {
			t.Errorf("%s, a user without the minimum role: %d %q %v", path, got.status, got.challenge, got.body)
		}
		if got := callAPI(t, base+path, "Bearer "+bob); got.status != http.StatusOK {
			t.Errorf("%s, a user with a role above the minimum: %d %v", path, got.status, got.body)
		}
	}
	if got := callAPI(t, base+"/write", "Bearer "+daemon); got.status != http.StatusOK {
		t.Errorf("a daemon with a role above the minimum: %d %v", got.status, got.body)
	}
	// A token without permissions, admitted for the API's own access
	// list, can hold no role: the list decides, not the minimum role.
	acl := cfg
	acl.API.AllowTokensWithoutPermissions = true
	_, aclBase := apiServer(t, srv, acl)
	idle := daemonToken(t, srv, idleDaemonID, "api://"+entratest.DemoClientID+"/.default")
	if got := callAPI(t, aclBase+"/any", "Bearer "+idle); got.status != http.StatusOK {
		t.Errorf("a token without permissions on an access-list API: %d %v", got.status, got.body)
	}
	if got := callAPI(t, aclBase+"/any", "Bearer "+dave); got.status != http.StatusForbidden {
		t.Errorf("a user's token without the minimum role on an access-list API: %d %v", got.status, got.body)
	}
	cfg.MinimumRole = "DemoApp.Admin"
	_, strict := apiServer(t, srv, cfg)
	if got := callAPI(t, strict+"/write", "Bearer "+daemon); got.status != http.StatusForbidden || !strings.Contains(got.challenge, `scope="DemoApp.Admin"`) {
		t.Errorf("a daemon below the minimum: %d %q", got.status, got.challenge)
	}
}

// TestDaemonCallsProtectedAPI: a daemon with MSAL Go's client
// credentials calls the API end to end; the API sees an app.
func TestDaemonCallsProtectedAPI(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	_, base := apiServer(t, srv, apiConfig(srv))
	got := callAPI(t, base+"/write", "Bearer "+daemonToken(t, srv, daemonID, "api://"+entratest.DemoClientID+"/.default"))
	if got.status != 200 || got.body["app"] != true || got.body["oid"] == "" || fmt.Sprint(got.body["roles"]) != "[DemoApp.Read DemoApp.Write]" {
		t.Fatalf("%d %v", got.status, got.body)
	}
}

func TestAPIRefusesEveryAccessTokenFault(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	_, base := apiServer(t, srv, apiConfig(srv))
	for _, tt := range []struct {
		fault  entratest.TokenFault
		reason string
	}{
		{entratest.FaultExpired, "expired"},
		{entratest.FaultNotYetValid, "not valid yet"},
		{entratest.FaultBadSignature, "bad signature"},
		{entratest.FaultUnsigned, "only RS256"},
		{entratest.FaultHMAC, "only RS256"},
		{entratest.FaultUnknownKID, "unknown signing key"},
		{entratest.FaultWrongAudience, "audience"},
		{entratest.FaultWrongIssuer, "issuer"},
		{entratest.FaultMissingOID, "missing oid"},
		{entratest.FaultMissingTID, "missing tid"},
		{entratest.FaultMissingSub, "missing sub"},
		{entratest.FaultMissingIAT, "missing iat"},
	} {
		t.Run(tt.fault.String(), func(t *testing.T) {
			srv.FaultNextAccessTokens(tt.fault, 1)
			tok := postToken(t, srv, entratest.DemoTenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID},
				"client_secret": {daemonSecret}, "scope": {"api://" + entratest.DemoClientID + "/.default"}})["access_token"]
			got := callAPI(t, base+"/write", "Bearer "+tok)
			if got.status != 401 || !strings.HasPrefix(got.challenge, `Bearer error="invalid_token", error_description="`) ||
				!strings.Contains(got.challenge, tt.reason) || got.body["error"] != "invalid_token" {
				t.Fatalf("%d %q %v", got.status, got.challenge, got.body)
			}
		})
	}
}

// TestMultiTenantAPIAllowList: an organizations API admits the tenants
// of AllowedTenants only, as the web side does.
func TestMultiTenantAPIAllowList(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	cfg := apiConfig(srv)
	cfg.TenantID, cfg.AllowedTenants = "organizations", []string{entratest.DemoTenantID}
	_, base := apiServer(t, srv, cfg)
	alice := userAPITokens(t, srv, "organizations", "alice@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	frank := userAPITokens(t, srv, "organizations", "frank@fabrikam.onmicrosoft.com", apiScope, "")["access_token"]
	if got := callAPI(t, base+"/read", "Bearer "+alice); got.status != 200 {
		t.Fatalf("allowed tenant: %d %v", got.status, got.body)
	}
	if got := callAPI(t, base+"/read", "Bearer "+frank); got.status != 401 || !strings.Contains(got.challenge, "AllowedTenants") {
		t.Fatalf("tenant outside the list: %d %q", got.status, got.challenge)
	}
}

// TestAPIAudiences: a configured audience list replaces the default.
func TestAPIAudiences(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	tok := userAPITokens(t, srv, entratest.DemoTenantID, "carol@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	for _, tt := range []struct {
		audiences []string
		status    int
	}{
		{nil, 200},
		{[]string{"api://" + entratest.DemoClientID}, 401},
		{[]string{"api://" + entratest.DemoClientID, strings.ToUpper(entratest.DemoClientID)}, 200},
	} {
		cfg := apiConfig(srv)
		cfg.API.Audiences = tt.audiences
		_, base := apiServer(t, srv, cfg)
		if got := callAPI(t, base+"/read", "Bearer "+tok); got.status != tt.status {
			t.Errorf("audiences %v: %d %q", tt.audiences, got.status, got.challenge)
		}
	}
}

// TestAPIOwnAccessList: with AllowTokensWithoutPermissions, a token
// without scp or roles reaches RequireAccessToken's handler (which keeps
// its own list), while a scope or role check still refuses it; without
// the option it is refused outright.
func TestAPIOwnAccessList(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	idle := daemonToken(t, srv, idleDaemonID, "api://"+entratest.DemoClientID+"/.default")
	for _, tt := range []struct {
		allow       bool
		path        string
		status      int
		errorString string
	}{
		{true, "/any", 200, ""},
		{true, "/write", 403, "insufficient_scope"},
		{false, "/any", 401, "invalid_token"},
	} {
		cfg := apiConfig(srv)
		cfg.API.AllowTokensWithoutPermissions = tt.allow
		_, base := apiServer(t, srv, cfg)
		got := callAPI(t, base+tt.path, "Bearer "+idle)
		if got.status != tt.status || (tt.errorString != "" && got.body["error"] != tt.errorString) || (tt.status == 200 && got.body["oid"] == "") {
			t.Errorf("allow=%v %s: %d %v", tt.allow, tt.path, got.status, got.body)
		}
	}
}

func TestOnBehalfOf(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	_, base := apiServer(t, srv, apiConfig(srv))
	alice := userAPITokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", apiScope, "")["access_token"]

	// The round trip: the API gets a Graph token for Alice and reads her
	// profile; the same incoming token again costs no token request.
	for i := range 2 {
		before := srv.Calls(entratest.EndpointToken)
		req, _ := http.NewRequest("GET", base+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprint(&b, resp.Status)
		buf := make([]byte, 256)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(buf[:n]), "graph 200 Alice Admin") {
			t.Fatalf("call %d: %s %s", i, b.String(), buf[:n])
		}
		if calls := srv.Calls(entratest.EndpointToken) - before; calls != int64(1-i) {
			t.Errorf("call %d made %d token requests", i, calls)
		}
	}

	// An app has no user to act for.
	daemon := daemonToken(t, srv, daemonID, "api://"+entratest.DemoClientID+"/.default")
	if got := callAPI(t, base+"/me", "Bearer "+daemon); got.status != 403 || !strings.Contains(fmt.Sprint(got.body["message"]), "app's (client credentials)") {
		t.Errorf("app-only OBO: %d %v", got.status, got.body)
	}
	// Consent missing: 403 naming the scope.
	if got := callAPI(t, base+"/mail", "Bearer "+alice); got.status != 403 || got.body["error"] != "interaction_required" || !strings.Contains(fmt.Sprint(got.body["message"]), "Mail.Read") {
		t.Errorf("missing consent: %d %v", got.status, got.body)
	}
}

// TestOnBehalfOfClaimsChallenge: Graph demands an authentication context;
// a client that declared cp1 gets the claims challenge (401
// insufficient_claims), any other a 403 that says why it gets none.
func TestOnBehalfOfClaimsChallenge(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	_, base := apiServer(t, srv, apiConfig(srv))
	srv.RequireAuthContext("c1")
	for _, tt := range []struct {
		name, claims string
		status       int
	}{
		{"cp1", cp1Claims, 401},
		{"no capability", "", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := userAPITokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", apiScope, tt.claims)["access_token"]
			got := callAPI(t, base+"/me", "Bearer "+tok)
			if got.status != tt.status {
				t.Fatalf("%d %q %v", got.status, got.challenge, got.body)
			}
			if tt.status == 401 {
				_, enc, ok := strings.Cut(got.challenge, `claims="`)
				enc, _, _ = strings.Cut(enc, `"`)
				claims, err := base64.StdEncoding.DecodeString(enc)
				if !ok || err != nil || !strings.Contains(got.challenge, `error="insufficient_claims"`) || !strings.Contains(string(claims), `"c1"`) {
					t.Fatalf("challenge %q (claims %s)", got.challenge, claims)
				}
			} else if got.challenge != "" || got.body["error"] != "interaction_required" || !strings.Contains(fmt.Sprint(got.body["message"]), "cp1") {
				t.Fatalf("%q %v", got.challenge, got.body)
			}
		})
	}
}

// TestAPIUnavailableAndMisuse: keys that cannot be fetched give 503 (not
// "invalid token"); OnBehalfOf outside the API middleware is the API's
// bug: 500; the provider down during on-behalf-of: 503.
func TestAPIUnavailableAndMisuse(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	auth, base := apiServer(t, srv, apiConfig(srv))
	alice := userAPITokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", apiScope, "")["access_token"]

	srv.FaultNextAccessTokens(entratest.FaultUnknownKID, 1)
	rotated := userAPITokens(t, srv, entratest.DemoTenantID, "bob@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	srv.SetOutage(entratest.Outage503)
	got := callAPI(t, base+"/read", "Bearer "+rotated)
	if got.status != 503 || got.body["error"] != "temporarily_unavailable" {
		t.Errorf("keys unavailable: %d %v", got.status, got.body)
	}
	got = callAPI(t, base+"/me", "Bearer "+alice)
	srv.SetOutage(entratest.OutageNone)
	if got.status != 503 || got.body["error"] != "temporarily_unavailable" {
		t.Errorf("provider down during on-behalf-of: %d %v", got.status, got.body)
	}

	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := auth.OnBehalfOf(r, "User.Read")
		auth.APIChallenge(w, r, err)
	}))
	defer outside.Close()
	if got := callAPI(t, outside.URL, "Bearer "+alice); got.status != 500 || got.body["error"] != "server_error" {
		t.Errorf("OnBehalfOf outside the middleware: %d %v", got.status, got.body)
	}
}

// TestScopeOrAppRoleHalves: RequireScopeOrAppRole with only a scope admits
// no app, and with only a role admits no user (even one who holds the
// role): each half is what its doc comment says.
func TestScopeOrAppRoleHalves(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{Config: apiWorld()})
	auth, err := entraweb.New(context.Background(), apiConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"ok":true}`) })
	mux := http.NewServeMux()
	mux.Handle("/users-only", auth.RequireScopeOrAppRole("access_as_user", "", ok))
	mux.Handle("/apps-only", auth.RequireScopeOrAppRole("", "DemoApp.Write", ok))
	mux.Handle("/role", auth.RequireAppRole("DemoApp.Write", ok))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	alice := userAPITokens(t, srv, entratest.DemoTenantID, "alice@contoso.onmicrosoft.com", apiScope, "")["access_token"]
	daemon := daemonToken(t, srv, daemonID, "api://"+entratest.DemoClientID+"/.default")
	for _, tt := range []struct {
		path, who, tok string
		want           int
	}{
		{"/users-only", "alice", alice, 200},
		{"/users-only", "daemon", daemon, 403},
		{"/apps-only", "daemon", daemon, 200},
		{"/apps-only", "alice (who holds DemoApp.Admin)", alice, 403},
		{"/role", "alice", alice, 200},
		{"/role", "daemon", daemon, 200},
	} {
		if got := callAPI(t, hs.URL+tt.path, "Bearer "+tt.tok); got.status != tt.want {
			t.Errorf("%s as %s: %d %v, want %d", tt.path, tt.who, got.status, got.body, tt.want)
		}
	}
}
