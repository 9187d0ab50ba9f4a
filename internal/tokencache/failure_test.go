package tokencache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/internal/oidc"
)

// fakeProvider is the least of an identity provider that MSAL Go talks
// to: discovery and a token endpoint answering what the test says.
func fakeProvider(t *testing.T, token func(w http.ResponseWriter, form url.Values)) (*httptest.Server, string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			json.NewEncoder(w).Encode(map[string]string{
				"issuer":                 srv.URL + "/tenant/v2.0",
				"authorization_endpoint": srv.URL + "/tenant/oauth2/v2.0/authorize",
				"token_endpoint":         srv.URL + "/tenant/oauth2/v2.0/token",
				"jwks_uri":               srv.URL + "/tenant/discovery/v2.0/keys",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			token(w, r.PostForm)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, srv.URL + "/tenant"
}

func newFakeClient(t *testing.T, srv *httptest.Server, authority string, c *callCache) confidential.Client {
	t.Helper()
	cred, err := confidential.NewCredFromSecret("s")
	if err != nil {
		t.Fatal(err)
	}
	opts := []confidential.Option{confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false)}
	if c != nil {
		opts = append(opts, confidential.WithCache(c))
	}
	app, err := confidential.New(authority, "00000000-0000-0000-0000-00000000000c", cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestMSALWording pins the wording of the MSAL Go errors that carry no
// structure, by making MSAL itself produce each one: when an upgrade
// rewords them, this fails rather than entraweb quietly treating a
// declined scope or a missing refresh token as an outage.
func TestMSALWording(t *testing.T) {
	ctx := context.Background()
	t.Run("declined scopes", func(t *testing.T) {
		srv, authority := fakeProvider(t, func(w http.ResponseWriter, form url.Values) {
			fmt.Fprint(w, `{"token_type":"Bearer","access_token":"a.b.c","expires_in":3600,"scope":"api://another/.default"}`)
		})
		_, err := newFakeClient(t, srv, authority, nil).AcquireTokenByCredential(ctx, []string{"api://mine/.default"})
		if err == nil {
			t.Fatal("MSAL accepted a token for other scopes")
		}
		if msalText(err) != textDeclinedScopes || !errors.Is(Failure(err), ErrDeclinedScopes) {
			t.Fatalf("MSAL's declined-scopes error reads %q now: update msalText", err)
		}
	})
	t.Run("no token found", func(t *testing.T) {
		srv, authority := fakeProvider(t, func(w http.ResponseWriter, form url.Values) {
			t.Error("the token endpoint was called")
		})
		host := strings.TrimPrefix(srv.URL, "https://")
		// A cache holding the account and nothing else: no access token,
		// no refresh token.
		cc := &callCache{data: []byte(`{"Account":{"oid.tid-` + host + `-tid":{"home_account_id":"oid.tid","environment":"` + host +
			`","realm":"tid","local_account_id":"oid","authority_type":"MSSTS","username":"u@example.com"}}}`)}
		app := newFakeClient(t, srv, authority, cc)
		acct, err := app.Account(ctx, "oid.tid")
		if err != nil || acct.HomeAccountID == "" {
			t.Fatalf("account not found in the test cache: %v", err)
		}
		_, err = app.AcquireTokenSilent(ctx, []string{"User.Read"}, confidential.WithSilentAccount(acct))
		if err == nil {
			t.Fatal("MSAL found a token in an empty cache")
		}
		if msalText(err) != textNoToken || !errors.Is(Failure(err), ErrNoRefreshToken) {
			t.Fatalf("MSAL's no-refresh-token error reads %q now: update msalText", err)
		}
	})
}

func TestFailureSortsByStructure(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"refusal", 401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`,
			func(err error) bool {
				var er *oidc.ErrorResponse
				return errors.As(err, &er) && er.Code() == 7000215 && er.Err == "invalid_client"
			}},
		{"outage with a body", 503, `{"error":"temporarily_unavailable","error_codes":[90033]}`,
			func(err error) bool { return errors.Is(err, oidc.ErrProviderUnavailable) }},
		{"outage without a body", 502, `<html>bad gateway</html>`,
			func(err error) bool { return errors.Is(err, oidc.ErrProviderUnavailable) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, authority := fakeProvider(t, func(w http.ResponseWriter, form url.Values) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			_, err := newFakeClient(t, srv, authority, nil).AcquireTokenByCredential(ctx, []string{"api://mine/.default"})
			got := Failure(err)
			if !tt.check(got) {
				t.Fatalf("Failure(%v) = %v", err, got)
			}
			if strings.Contains(got.Error(), "Invalid client secret provided") {
				t.Errorf("the raw body leaked into the error: %v", got)
			}
			// Reading the error twice gives the same answer.
			if again := Failure(err); again.Error() != got.Error() {
				t.Errorf("second reading %v, first %v", again, got)
			}
		})
	}
}

func TestHasRefreshToken(t *testing.T) {
	cache := []byte(`{"RefreshToken":{"k":{"home_account_id":"OID.TID","secret":"rt"}},"Account":{}}`)
	for _, tt := range []struct {
		cache   []byte
		account string
		want    bool
	}{
		{cache, "oid.tid", true},
		{cache, "other.tid", false},
		{[]byte(`{"RefreshToken":{"k":{"home_account_id":"oid.tid","secret":""}}}`), "oid.tid", false},
		{[]byte(`not json`), "oid.tid", false},
		{nil, "oid.tid", false},
	} {
		if got := hasRefreshToken(tt.cache, tt.account); got != tt.want {
			t.Errorf("hasRefreshToken(%s, %s) = %v", tt.cache, tt.account, got)
		}
	}
}
