package entratest_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// The emulator must never be the bottleneck of a load test: these measure
// whole sign-ins (authorize + token) and code redemptions over TLS with
// keep-alive connections, as an app under test would drive them.

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

func authorizeURL(srv *entratest.Server, p pkce) string {
	q := url.Values{
		"client_id":             {entratest.DemoClientID},
		"response_type":         {"code"},
		"redirect_uri":          {"http://localhost:8080/auth/callback"},
		"scope":                 {"openid profile offline_access User.Read"},
		"state":                 {rand.Text()},
		"nonce":                 {rand.Text()},
		"code_challenge":        {p.challenge},
		"code_challenge_method": {"S256"},
	}
	return srv.Authority() + "/oauth2/v2.0/authorize?" + q.Encode()
}

func redeem(b *testing.B, srv *entratest.Server, client *http.Client, code string, p pkce) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret},
		"code":          {code},
		"redirect_uri":  {"http://localhost:8080/auth/callback"},
		"code_verifier": {p.verifier},
		"scope":         {"User.Read openid profile offline_access"},
		"client_info":   {"1"},
	}
	resp, err := client.Post(srv.Authority()+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 || body["id_token"] == nil {
		b.Fatalf("token: %d %v", resp.StatusCode, body["error_description"])
	}
}

// BenchmarkSignIn is a whole sign-in of a user with an SSO session:
// authorize (silent, answered with a code) then the code redemption.
func BenchmarkSignIn(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		br := srv.Browser()
		p := newPKCE()
		if _, err := br.SignIn(ctx, authorizeURL(srv, p), "alice@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
			b.Fatal(err)
		}
		for pb.Next() {
			p := newPKCE()
			cb, err := br.SignIn(ctx, authorizeURL(srv, p), "", "")
			if err != nil {
				b.Fatal(err)
			}
			redeem(b, srv, br.HTTPClient(), cb.Params.Get("code"), p)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign-ins/s")
}

// BenchmarkCodeRedemption is the token endpoint alone: codes are made
// before the timer starts.
func BenchmarkCodeRedemption(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	ctx := context.Background()
	br := srv.Browser()
	if _, err := br.SignIn(ctx, authorizeURL(srv, newPKCE()), "bob@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
		b.Fatal(err)
	}
	type pending struct {
		code string
		p    pkce
	}
	codes := make(chan pending, b.N)
	for range b.N {
		p := newPKCE()
		cb, err := br.SignIn(ctx, authorizeURL(srv, p), "", "")
		if err != nil {
			b.Fatal(err)
		}
		codes <- pending{cb.Params.Get("code"), p}
	}
	close(codes)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := <-codes
			redeem(b, srv, srv.Client(), c.code, c.p)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redemptions/s")
}
