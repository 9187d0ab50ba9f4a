package entratest_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// appToken is a client-credentials token of the app clientID for Graph.
func (e *emu) appToken(t testing.TB, clientID, secret string) string {
	t.Helper()
	return e.tokens(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}})["access_token"].(string)
}

func TestGraphApplications(t *testing.T) {
	e := newEmu(t, nil)
	other := emuOtherApp()
	other.ApplicationPermissions = nil
	other.AppRoles = []entratest.AppRole{{Value: "Other.Read", Disabled: true}}
	e.addApp(t, other)
	demoAT := e.appToken(t, entratest.DemoClientID, entratest.DemoClientSecret)
	otherAT := e.appToken(t, other.ClientID, other.Secrets[0].Value)
	byID := "/v1.0/applications(appId='" + entratest.DemoClientID + "')"

	t.Run("by appId", func(t *testing.T) {
		status, _, body := e.graphCall(t, "GET", byID, demoAT, "")
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		if body["appId"] != entratest.DemoClientID || body["displayName"] != "DemoApp" {
			t.Errorf("app: %v", body)
		}
		uris, _ := body["web"].(map[string]any)["redirectUris"].([]any)
		for _, want := range []string{"http://localhost/auth/callback", "http://localhost/"} {
			if !slices.Contains(uris, any(want)) {
				t.Errorf("redirectUris %v lack %s", uris, want)
			}
		}
		roles, _ := body["appRoles"].([]any)
		if len(roles) != 3 {
			t.Fatalf("appRoles: %v", roles)
		}
		r := roles[0].(map[string]any)
		if r["id"] != "a8161423-2e8e-46c4-9997-f984faccb625" || r["value"] != "DemoApp.Read" || r["isEnabled"] != true ||
			!slices.Equal(r["allowedMemberTypes"].([]any), []any{"User"}) {
			t.Errorf("first role: %v", r)
		}
	})
	t.Run("a disabled role", func(t *testing.T) {
		_, _, body := e.graphCall(t, "GET", "/v1.0/applications(appId='"+other.ClientID+"')", demoAT, "")
		if r := body["appRoles"].([]any)[0].(map[string]any); r["isEnabled"] != false {
			t.Errorf("role: %v", r)
		}
	})
	t.Run("filter", func(t *testing.T) {
		status, _, body := e.graphCall(t, "GET", "/v1.0/applications?$filter="+url.QueryEscape("appId eq '"+entratest.DemoClientID+"'"), demoAT, "")
		if v, _ := body["value"].([]any); status != 200 || len(v) != 1 || v[0].(map[string]any)["appId"] != entratest.DemoClientID {
			t.Errorf("status %d: %v", status, body)
		}
		status, _, _ = e.graphCall(t, "GET", "/v1.0/applications?$filter="+url.QueryEscape("displayName eq 'x'"), demoAT, "")
		if status != 400 {
			t.Errorf("unsupported filter: status %d", status)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, path, token string
			status            int
		}{
			{"no token", byID, "", 401},
			{"no Application.Read.All", byID, otherAT, 403},
			{"unknown app", "/v1.0/applications(appId='" + entratest.StableID("nope") + "')", demoAT, 404},
			{"malformed key", "/v1.0/applications(" + entratest.DemoClientID + ")", demoAT, 400},
		}
		for _, tt := range tests {
			if status, _, body := e.graphCall(t, "GET", tt.path, tt.token, ""); status != tt.status {
				t.Errorf("%s: status %d, want %d: %v", tt.name, status, tt.status, body)
			}
		}
	})
}

// TestClockSkew: SetClockSkew moves the Date header and the times in
// tokens together.
func TestClockSkew(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	dateOf := func() time.Time {
		resp, err := e.srv.Client().Get(e.srv.Authority() + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := dateOf(); !d.Equal(clock.Now().Truncate(time.Second)) {
		t.Errorf("Date %v, want the emulator's clock %v", d, clock.Now())
	}
	e.srv.SetClockSkew(5 * time.Minute)
	if d, want := dateOf(), clock.Now().Add(5*time.Minute).Truncate(time.Second); !d.Equal(want) {
		t.Errorf("skewed Date %v, want %v", d, want)
	}
	_, claims := emuClaims(t, e.appToken(t, entratest.DemoClientID, entratest.DemoClientSecret))
	if iat := int64(claims["iat"].(float64)); iat != clock.Now().Add(5*time.Minute).Unix() {
		t.Errorf("iat %d, want %d", iat, clock.Now().Add(5*time.Minute).Unix())
	}
	e.srv.SetClockSkew(0)
	if d := dateOf(); !d.Equal(clock.Now().Truncate(time.Second)) {
		t.Errorf("Date after reset %v", d)
	}
}
