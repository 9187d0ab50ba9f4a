package entratest

import (
	"fmt"
	"slices"
	"testing"
)

// TestLoopbackRedirectPorts: an http loopback redirect URI matches on any
// port, as Entra ID does, but only on a port a browser could use: 1 to
// 65535, decimal digits without a leading zero.
func TestLoopbackRedirectPorts(t *testing.T) {
	registered := []string{"http://localhost/auth/callback", "http://127.0.0.1/cb", "http://[::1]/cb", "https://localhost/secure"}
	tests := []struct {
		uri string
		ok  bool
	}{
		{"http://localhost/auth/callback", true}, // exactly as registered
		{"http://localhost:1/auth/callback", true},
		{"http://localhost:8080/auth/callback", true},
		{"http://localhost:65535/auth/callback", true},
		{"http://127.0.0.1:3000/cb", true},
		{"http://[::1]:3000/cb", true},
		{"http://localhost:0/auth/callback", false},
		{"http://localhost:65536/auth/callback", false},
		{"http://localhost:99999/auth/callback", false},
		{"http://localhost:123456/auth/callback", false},
		{"http://localhost:09/auth/callback", false},
		{"http://localhost:0080/auth/callback", false},
		{"http://localhost:00/auth/callback", false},
		{"http://localhost:+80/auth/callback", false},
		{"http://localhost:-1/auth/callback", false},
		{"http://localhost:8o/auth/callback", false},
		{"http://localhost:/auth/callback", false},
		{"http://[::1]:070/cb", false},
		{"http://localhost:8080/auth/callback/", false}, // only the port may differ
		{"https://localhost:8443/secure", false},        // https is matched exactly
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if got := redirectAllowed(registered, tt.uri); got != tt.ok {
				t.Errorf("redirectAllowed(%q) = %v, want %v", tt.uri, got, tt.ok)
			}
		})
	}
}

// TestSSOAppsBounded: the SSO cookie remembers the latest maxSSOApps apps,
// each once, and stays small.
func TestSSOAppsBounded(t *testing.T) {
	var st ssoState
	var ids []string
	for i := range maxSSOApps + 5 {
		id := StableID(fmt.Sprint("app:", i))
		ids = append(ids, id)
		st.addApp(id)
	}
	if want := ids[5:]; !slices.Equal(st.Apps, want) {
		t.Fatalf("apps %v, want the latest %d", st.Apps, maxSSOApps)
	}
	st.addApp(ids[10]) // signing in again makes it the latest, not a second entry
	if len(st.Apps) != maxSSOApps || st.Apps[len(st.Apps)-1] != ids[10] || slices.Index(st.Apps, ids[10]) != maxSSOApps-1 {
		t.Errorf("after a second sign-in to %s: %v", ids[10], st.Apps)
	}
	st.OID, st.TID, st.SID = StableID("user"), DemoTenantID, newGUID()
	st.AuthTime, st.Expires = 1<<40, 1<<40
	if n := len(newSealer().seal("sso", st)); n > 2000 {
		t.Errorf("a full SSO cookie is %d bytes; browsers cap a cookie at 4096", n)
	}
}
