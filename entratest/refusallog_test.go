package entratest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// emuLogBuffer collects a logger's output; the server writes it from its
// own goroutines.
type emuLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *emuLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *emuLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records decodes the JSON lines written so far.
func (b *emuLogBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber() // AADSTS codes print as integers
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRefusedRequestsAreLogged: every refusal leaves one Info line saying
// why, with structured keys, and no line holds a secret, password, code or
// token the refused request carried.
func TestRefusedRequestsAreLogged(t *testing.T) {
	var logs emuLogBuffer
	e := newEmu(t, &entratest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	const (
		wrongSecret   = "wrong-secret-value-4711"
		wrongPassword = "wrong-password-0815"
		bogusCode     = "1.entratest.bogus-code-value-42"
	)
	idt := e.signInTokens(t, emuBob)["id_token"].(string)
	forged := idt[:strings.LastIndexByte(idt, '.')+1] + "AAAA"
	secrets := []string{entratest.DemoClientSecret, entratest.DemoPassword, wrongSecret, wrongPassword, bogusCode, idt, forged}

	logout := func(v url.Values) func(t *testing.T) {
		return func(t *testing.T) { emuGet(t, e.noFollow, e.logoutURL(v)) }
	}
	token := func(v url.Values) func(t *testing.T) {
		return func(t *testing.T) { e.post(t, "", v, nil) }
	}
	tests := []struct {
		name string
		do   func(t *testing.T)
		msg  string
		want map[string]string // attribute -> a part of its value
	}{
		{"logout to an unregistered URI", logout(url.Values{"client_id": {entratest.DemoClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}),
			"entratest: logout not redirected", map[string]string{"post_logout_redirect_uri": "https://evil.example/", "client_id": entratest.DemoClientID, "reason": "not registered for application"}},
		{"logout without an app or a session", logout(url.Values{"post_logout_redirect_uri": {"http://localhost/"}}),
			"entratest: logout not redirected", map[string]string{"reason": "no SSO session"}},
		{"logout with a forged id_token_hint", logout(url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {"http://localhost/"}}),
			"entratest: logout not redirected", map[string]string{"reason": "id_token_hint was not issued by this emulator"}},
		{"logout with a session none of whose apps registered the URI", func(t *testing.T) {
			b := e.srv.Browser()
			e.signIn(t, b, e.authURL("", nil), emuAlice)
			emuGet(t, b.HTTPClient(), e.logoutURL(url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}))
		}, "entratest: logout not redirected", map[string]string{"reason": "signed in during this SSO session"}},
		{"instance discovery of another host", func(t *testing.T) {
			e.getJSON(t, e.srv.URL+"/common/discovery/instance?api-version=1.1&authorization_endpoint="+
				url.QueryEscape("https://login.microsoftonline.com/common/oauth2/v2.0/authorize"), nil)
		}, "entratest: instance discovery refused", map[string]string{"aadsts": "50049", "error": "invalid_instance", "authorization_endpoint": "login.microsoftonline.com"}},
		{"authorize with an unregistered redirect URI", func(t *testing.T) {
			emuGet(t, e.noFollow, e.authURL("", url.Values{"redirect_uri": {"https://evil.example/cb"}}))
		}, "entratest: sign-in refused", map[string]string{"aadsts": "50011", "client_id": entratest.DemoClientID, "redirect_uri": "https://evil.example/cb", "reason": "does not match"}},
		{"authorize with a loopback URI on port 99999", func(t *testing.T) {
			emuGet(t, e.noFollow, e.authURL("", url.Values{"redirect_uri": {"http://localhost:99999/auth/callback"}}))
		}, "entratest: sign-in refused", map[string]string{"aadsts": "50011"}},
		{"authorize with a bad response_type", func(t *testing.T) {
			emuGet(t, e.noFollow, e.authURL("", url.Values{"response_type": {"token"}}))
		}, "entratest: authorize refused", map[string]string{"aadsts": "700054", "error": "unsupported_response_type", "client_id": entratest.DemoClientID}},
		{"sign-in with a wrong password", func(t *testing.T) {
			_, err := e.srv.Browser().SignIn(context.Background(), e.authURL("", nil), emuCarol, wrongPassword)
			if pe := (*entratest.PageError)(nil); !errors.As(err, &pe) {
				t.Fatalf("sign-in with a wrong password: %v", err)
			}
		}, "entratest: sign-in refused", map[string]string{"aadsts": "50126", "username": emuCarol}},
		{"sign-in with a password typed as the username", func(t *testing.T) {
			e.srv.Browser().SignIn(context.Background(), e.authURL("", nil), wrongPassword, wrongPassword)
		}, "entratest: sign-in refused", map[string]string{"aadsts": "50034", "reason": "unknown username"}},
		{"token: wrong client secret", token(url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
			"client_secret": {wrongSecret}, "scope": {"https://graph.microsoft.com/.default"}}),
			"entratest: token request refused", map[string]string{"aadsts": "7000215", "error": "invalid_client", "grant": "client_credentials", "client_id": entratest.DemoClientID}},
		{"token: unknown code", token(emuRedeemForm(bogusCode)),
			"entratest: token request refused", map[string]string{"aadsts": "9002313", "grant": "authorization_code"}},
		{"token: client credentials on organizations", func(t *testing.T) {
			e.post(t, "organizations", url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
				"client_secret": {entratest.DemoClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}, nil)
		}, "entratest: token request refused", map[string]string{"aadsts": "50059"}},
		{"token: unknown tenant", func(t *testing.T) {
			e.post(t, entratest.StableID("no-such-tenant"), url.Values{"grant_type": {"client_credentials"}}, nil)
		}, "entratest: unknown tenant", map[string]string{"aadsts": "90002"}},
		{"graph without a token", func(t *testing.T) {
			resp, _ := emuGet(t, e.srv.Client(), e.srv.GraphURL()+"/v1.0/me")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("Graph without a token: HTTP %d", resp.StatusCode)
			}
		}, "entratest: graph request refused", map[string]string{"status": "401", "code": "InvalidAuthenticationToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.records(t))
			tt.do(t)
			recs := logs.records(t)[before:]
			var found map[string]any
			for _, r := range recs {
				if r["msg"] == tt.msg {
					found = r
				}
			}
			if found == nil {
				t.Fatalf("no %q line; logged:\n%v", tt.msg, recs)
			}
			if found["level"] != "INFO" {
				t.Errorf("level %v, want INFO", found["level"])
			}
			for k, v := range tt.want {
				if got := fmt.Sprint(found[k]); !strings.Contains(got, v) {
					t.Errorf("%s = %q, want it to contain %q (line %v)", k, got, v, found)
				}
			}
		})
	}
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log holds a secret, password, code or token (%.12s…):\n%s", s, out)
		}
	}
}
