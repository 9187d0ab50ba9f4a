package entratest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// graphCall sends a Graph request with a bearer token ("" for none).
func (e *emu) graphCall(t testing.TB, method, path, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.GraphURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, emuDecode(t, resp)
}

func TestGraph(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	users := map[string]entratest.User{}
	for _, u := range e.srv.Config().Tenants[0].Users {
		users[u.Username] = u
	}
	aliceTok := e.signInTokens(t, emuAlice)
	aliceAT := aliceTok["access_token"].(string)
	erinTok := e.signInTokens(t, emuErin)
	erinAT := erinTok["access_token"].(string)
	groupsOnly := e.tokens(t, emuRefreshForm(aliceTok["refresh_token"].(string), "https://graph.microsoft.com/GroupMember.Read.All"))["access_token"].(string)
	noOpenID := e.tokens(t, emuRefreshForm(aliceTok["refresh_token"].(string), "https://graph.microsoft.com/User.Read"))["access_token"].(string)
	apiTok := e.tokens(t, emuRefreshForm(aliceTok["refresh_token"].(string), "api://"+entratest.DemoClientID+"/access_as_user"))["access_token"].(string)
	_, appOnly := e.post(t, "", map[string][]string{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}, nil)
	appAT := appOnly["access_token"].(string)

	t.Run("/me", func(t *testing.T) {
		tests := []struct {
			name, token string
			status      int
			code        string
		}{
			{"no token", "", 401, "InvalidAuthenticationToken"},
			{"garbage", "garbage", 401, "InvalidAuthenticationToken"},
			{"ID token", aliceTok["id_token"].(string), 401, "InvalidAuthenticationToken"},
			{"token for another API", apiTok, 401, "InvalidAuthenticationToken"},
			{"no User.Read", groupsOnly, 403, "Authorization_RequestDenied"},
			{"app-only token", appAT, 400, "BadRequest"},
			{"ok", aliceAT, 200, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, hdr, body := e.graphCall(t, "GET", "/v1.0/me", tc.token, "")
				if st != tc.status {
					t.Fatalf("HTTP %d %v, want %d", st, body, tc.status)
				}
				if st == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("401 without a Bearer WWW-Authenticate: %q", hdr.Get("WWW-Authenticate"))
				}
				if tc.code != "" {
					if errObj, _ := body["error"].(map[string]any); errObj["code"] != tc.code {
						t.Errorf("error %v, want %s", body["error"], tc.code)
					}
					return
				}
				if body["id"] != users[emuAlice].ObjectID || body["userPrincipalName"] != emuAlice || body["displayName"] != users[emuAlice].DisplayName {
					t.Errorf("/me = %v", body)
				}
			})
		}
	})

	t.Run("transitiveMemberOf paging", func(t *testing.T) {
		for _, path := range []string{"/v1.0/me/transitiveMemberOf", "/v1.0/me/memberOf"} {
			seen := map[string]bool{}
			next := e.srv.GraphURL() + path + "?$top=100"
			pages := 0
			for next != "" {
				pages++
				st, _, body := e.graphCall(t, "GET", strings.TrimPrefix(next, e.srv.GraphURL()), erinAT, "")
				if st != 200 {
					t.Fatalf("page %d: HTTP %d %v", pages, st, body)
				}
				vals, _ := body["value"].([]any)
				if pages < 3 && len(vals) != 100 || pages == 3 && len(vals) != 50 {
					t.Errorf("page %d has %d groups", pages, len(vals))
				}
				for _, v := range vals {
					id := fmt.Sprint(v.(map[string]any)["id"])
					if seen[id] {
						t.Errorf("group %s on two pages", id)
					}
					seen[id] = true
				}
				next, _ = body["@odata.nextLink"].(string)
				if pages > 5 {
					t.Fatal("paging does not end")
				}
			}
			if pages != 3 || len(seen) != 250 {
				t.Errorf("%s: %d pages, %d groups; want 3 and 250", path, pages, len(seen))
			}
			for _, g := range users[emuErin].Groups {
				if !seen[g] {
					t.Errorf("group %s missing", g)
					break
				}
			}
		}
		for _, q := range []string{"?$top=0", "?$top=1000", "?$top=x", "?$skiptoken=e9999", "?$skiptoken=bad"} {
			if st, _, _ := e.graphCall(t, "GET", "/v1.0/me/transitiveMemberOf"+q, erinAT, ""); st != 400 {
				t.Errorf("%s: HTTP %d, want 400", q, st)
			}
		}
	})

	t.Run("getMemberObjects", func(t *testing.T) {
		erinPath := "/v1.0/users/" + users[emuErin].ObjectID + "/getMemberObjects"
		tests := []struct {
			name, path, token, body string
			status, count           int
		}{
			{"me", "/v1.0/me/getMemberObjects", erinAT, `{"securityEnabledOnly":true}`, 200, 250},
			{"overage endpoint, own token", erinPath, erinAT, `{"securityEnabledOnly":false}`, 200, 250},
			{"overage endpoint, app with User.Read.All", erinPath, appAT, `{"securityEnabledOnly":true}`, 200, 250},
			{"another user without User.Read.All", erinPath, aliceAT, `{"securityEnabledOnly":true}`, 403, 0},
			{"unknown user", "/v1.0/users/" + entratest.StableID("nobody") + "/getMemberObjects", appAT, `{"securityEnabledOnly":true}`, 404, 0},
			{"no body", "/v1.0/me/getMemberObjects", erinAT, "", 400, 0},
			{"app-only on me", "/v1.0/me/getMemberObjects", appAT, `{"securityEnabledOnly":true}`, 400, 0},
			{"no token", "/v1.0/me/getMemberObjects", "", `{"securityEnabledOnly":true}`, 401, 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st, _, body := e.graphCall(t, "POST", tc.path, tc.token, tc.body)
				if st != tc.status {
					t.Fatalf("HTTP %d %v, want %d", st, body, tc.status)
				}
				if vals, _ := body["value"].([]any); st == 200 && len(vals) != tc.count {
					t.Errorf("%d ids, want %d", len(vals), tc.count)
				}
			})
		}
	})

	t.Run("userinfo", func(t *testing.T) {
		st, _, body := e.getJSON(t, e.srv.URL+"/oidc/userinfo", http.Header{"Authorization": {"Bearer " + aliceAT}})
		_, idc := emuClaims(t, aliceTok["id_token"].(string))
		if st != 200 || body["sub"] != idc["sub"] || body["name"] != users[emuAlice].DisplayName {
			t.Errorf("HTTP %d %v; want the ID token's sub %v", st, body, idc["sub"])
		}
		if st, _, _ := e.getJSON(t, e.srv.URL+"/oidc/userinfo", http.Header{"Authorization": {"Bearer " + noOpenID}}); st != 403 {
			t.Errorf("token without openid: HTTP %d, want 403", st)
		}
		if st, _, _ := e.getJSON(t, e.srv.URL+"/oidc/userinfo", nil); st != 401 {
			t.Errorf("no token: HTTP %d, want 401", st)
		}
	})

	t.Run("expired token", func(t *testing.T) {
		clock.Add(61 * time.Minute)
		if st, _, _ := e.graphCall(t, "GET", "/v1.0/me", aliceAT, ""); st != 401 {
			t.Errorf("HTTP %d, want 401", st)
		}
	})
}
