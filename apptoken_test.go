package entraweb_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

func TestAppToken(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	tok, err := a.auth.AppToken(ctx, "https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(claimsJSON(t, tok), `"idtyp":"app"`) {
		t.Errorf("not an app token: %s", claimsJSON(t, tok))
	}
	before := srv.Calls(entratest.EndpointToken)
	if _, err := a.auth.AppToken(ctx, "https://graph.microsoft.com/.default"); err != nil {
		t.Fatal(err)
	}
	if srv.Calls(entratest.EndpointToken) != before {
		t.Error("the second app token was not cached")
	}
	if _, err := a.auth.AppToken(ctx, "User.Read"); err == nil || !strings.Contains(err.Error(), "1002012") {
		t.Errorf("client credentials without .default: %v", err)
	}
}

func claimsJSON(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	b, err := base64URLDecode(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClaimsChallengeParsing(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	mk := func(status int, h string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		if h != "" {
			r.Header.Set("WWW-Authenticate", h)
		}
		return r
	}
	// {"access_token":{"acrs":{"essential":true,"value":"c1"}}}
	const b64 = "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"
	tests := []struct {
		name   string
		resp   *http.Response
		claims string // empty: no challenge
	}{
		{"graph challenge", mk(401, `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="`+b64+`"`),
			`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`},
		{"plain 401", mk(401, `Bearer realm="", error="invalid_token"`), ""},
		{"200", mk(200, ""), ""},
		{"not json", mk(401, `Bearer error="insufficient_claims", claims="bm90IGpzb24="`), ""},
		{"basic scheme", mk(401, `Basic realm="x"`), ""},
	}
	for _, tt := range tests {
		err := a.auth.ClaimsChallenge(tt.resp, "User.Read")
		var ire *entraweb.InteractionRequiredError
		switch {
		case tt.claims == "" && err != nil:
			t.Errorf("%s: unexpected challenge %v", tt.name, err)
		case tt.claims != "" && (!errors.As(err, &ire) || ire.Claims != tt.claims || ire.Scopes[0] != "User.Read"):
			t.Errorf("%s: challenge = %v", tt.name, err)
		}
	}
}
