package demo_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// The profile page calls Graph through Options.HTTPClient's transport:
// here one that sends graph.example.test's requests to the emulator.
func TestProfileThroughOptionsTransport(t *testing.T) {
	st := startStackWith(t, stackOptions{graphURL: "https://graph.example.test"})
	b := st.emu.Browser()
	resp, body, err := b.Visit(context.Background(), st.url+"/profile", "carol@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="profile"`) ||
		!strings.Contains(body, "Carol Reader") || !strings.Contains(body, "https://graph.example.test/v1.0/me") {
		t.Fatalf("profile: %v %v\n%.600s", err, resp, body)
	}
}

// Graph asks for an authentication context: the profile page sends the
// user through a sign-in with Graph's claims and shows the profile after.
func TestProfileClaimsChallenge(t *testing.T) {
	st := startStack(t)
	ctx := context.Background()
	b := st.emu.Browser()
	if resp, body, err := b.Visit(ctx, st.url+"/profile", "bob@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil || !strings.Contains(body, "Bob Writer") {
		t.Fatalf("profile: %v %v", err, resp)
	}
	st.emu.RequireAuthContext("c1")
	graph := st.emu.Calls(entratest.EndpointGraph)
	resp, body, err := b.Visit(ctx, st.url+"/profile", "", "")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile" || !strings.Contains(body, `id="profile"`) {
		t.Fatalf("after the claims challenge: %v %v\n%.600s", err, resp, body)
	}
	if got := st.emu.Calls(entratest.EndpointGraph) - graph; got != 2 {
		t.Errorf("Graph calls = %d, want 2 (refused, then with the new token)", got)
	}
}

// Graph down: a page that says so, with a way to try again.
func TestProfileGraphUnreachable(t *testing.T) {
	st := startStack(t)
	ctx := context.Background()
	b := st.emu.Browser()
	if resp, body, err := b.Visit(ctx, st.url+"/profile", "carol@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil || !strings.Contains(body, "Carol Reader") {
		t.Fatalf("profile: %v %v", err, resp)
	}
	st.emu.SetOutage(entratest.OutageReset) // the token is cached: only Graph's call fails
	resp, body, err := b.Visit(ctx, st.url+"/profile", "", "")
	if err != nil || resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "could not be reached") || !strings.Contains(body, "Try again") {
		t.Fatalf("profile with Graph down: %v %v\n%.600s", err, resp, body)
	}
}
