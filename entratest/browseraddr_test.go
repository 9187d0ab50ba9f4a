package entratest_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// With BrowserAddr the pages a person sees are served over plain HTTP on
// loopback, so a browser that does not trust the emulator's CA signs in
// without a certificate warning; tokens stay on TLS.
func TestBrowserAddr(t *testing.T) {
	srv := entratest.NewServer(t, &entratest.Options{BrowserAddr: "127.0.0.1:0"})
	if !strings.HasPrefix(srv.BrowserURL(), "http://127.0.0.1:") {
		t.Fatalf("BrowserURL = %s", srv.BrowserURL())
	}
	resp, err := srv.Client().Get(srv.Authority() + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if !strings.HasPrefix(doc["authorization_endpoint"], srv.BrowserURL()+"/") || !strings.HasPrefix(doc["end_session_endpoint"], srv.BrowserURL()+"/") ||
		!strings.HasPrefix(doc["token_endpoint"], srv.URL+"/") || !strings.HasPrefix(doc["jwks_uri"], srv.URL+"/") {
		t.Errorf("discovery: %v", doc)
	}
	q := url.Values{"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:9/auth/callback"},
		"scope": {"openid"}, "state": {"s1"}}
	b := srv.Browser()
	ctx := context.Background()
	cb, err := b.SignIn(ctx, doc["authorization_endpoint"]+"?"+q.Encode(), "carol@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil || cb.Params.Get("code") == "" {
		t.Fatalf("sign-in over plain HTTP: %v %v", err, cb)
	}
	// The SSO cookie set over HTTP is not Secure, so it works there: the
	// next sign-in is silent.
	q.Set("state", "s2")
	cb, err = b.SignIn(ctx, doc["authorization_endpoint"]+"?"+q.Encode(), "", "")
	if err != nil || cb.Params.Get("state") != "s2" || cb.Params.Get("code") == "" {
		t.Fatalf("silent sign-in over plain HTTP: %v %v", err, cb)
	}
	if _, err := entratest.Start(entratest.Options{BrowserAddr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a non-loopback BrowserAddr: %v", err)
	}
}
