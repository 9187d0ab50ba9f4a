package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func TestUsageExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"tenants": [], "nope": 1}`), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		out  string // expected in stdout+stderr
	}{
		{"no command", nil, 2, "Usage: entraweb"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"help", []string{"-h"}, 0, "emulator"},
		{"emulator help", []string{"emulator", "-h"}, 0, "-listen"},
		{"emulator bad flag", []string{"emulator", "-bogus"}, 2, "flag provided but not defined"},
		{"emulator stray argument", []string{"emulator", "extra"}, 2, `unexpected argument "extra"`},
		{"emulator bad config", []string{"emulator", "-config", bad}, 1, `unknown field "nope"`},
		{"emulator missing config", []string{"emulator", "-config", filepath.Join(t.TempDir(), "none.json")}, 1, "no such file"},
		{"version", []string{"version"}, 0, "MSAL Go"},
		{"version names Go", []string{"version"}, 0, "\nGo go1."},
		{"version stray argument", []string{"version", "x"}, 2, "Usage: entraweb version"},
		{"demo help", []string{"demo", "-h"}, 0, "-listen"},
		{"demo bad flag", []string{"demo", "-bogus"}, 2, "flag provided but not defined"},
		{"demo stray argument", []string{"demo", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, &out, &out)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; output:\n%s", code, tt.code, out.String())
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("output does not mention %q:\n%s", tt.out, out.String())
			}
		})
	}
}

func TestPrintConfigRoundTrips(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"emulator", "-print-config"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	cfg, err := entratest.ParseConfig(out.Bytes())
	if err != nil {
		t.Fatalf("printed configuration does not load back: %v", err)
	}
	if cfg.Tenants[0].Apps[0].ClientID != entratest.DemoClientID {
		t.Errorf("printed configuration lost the demo app")
	}
}

// TestEmulatorServes starts the command as a user would, reads the banner,
// trusts the CA file it wrote and fetches the discovery document.
func TestEmulatorServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "-listen", "127.0.0.1:0", "-ca-file", caFile}, pw, io.Discard)
		pw.Close()
	}()
	banner := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.Contains(k, " ") {
			banner[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	authority, _, _ := strings.Cut(banner["Authority"], " ")
	if !strings.HasPrefix(authority, "https://127.0.0.1:") || !strings.HasSuffix(authority, "/"+entratest.DemoTenantID) {
		t.Fatalf("banner authority = %q; banner: %v", authority, banner)
	}
	if banner["CA file"] != "" && banner["CA file"] != caFile {
		t.Errorf("banner CA file = %q, want %q", banner["CA file"], caFile)
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file holds no certificate")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(authority + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["issuer"] != authority+"/v2.0" {
		t.Errorf("issuer = %v, want %s/v2.0", doc["issuer"], authority)
	}
	client.CloseIdleConnections()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code after interrupt = %d, want 0", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("emulator did not stop after its context ended")
	}
}

// TestDemoServes runs `entraweb demo` with no tenant configured, as a new
// user does: the banner names the app and the users, the home page
// answers, a protected page sends the browser to the in-process
// emulator, and the command stops cleanly when its context ends.
func TestDemoServes(t *testing.T) {
	for _, k := range []string{"AZURE_TENANT_ID", "AzureAd__TenantId"} {
		t.Setenv(k, "")
	}
	t.Chdir(t.TempDir()) // no appsettings.json, and proof that nothing is written
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"demo", "-listen", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	var appURL string
	var banner strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		banner.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "entraweb demo: open "); ok {
			appURL = strings.TrimSpace(u)
		}
		if strings.Contains(line, "Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if appURL == "" {
		t.Fatalf("no URL in the banner:\n%s%s", banner.String(), stderr.String())
	}
	for _, want := range []string{"alice@contoso.onmicrosoft.com", "DemoApp.Admin", "bob@", "carol@", "dave@", "(none)", entratest.DemoPassword, "250 groups", "emulator runs in-process"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(appURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Sign in") {
		t.Errorf("home: %d\n%.300s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", appURL+"read", nil)
	req.Header.Set("Accept", "text/html")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.Contains(loc, "/auth/login") {
		t.Errorf("/read without a session: %d to %q", resp.StatusCode, loc)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code after interrupt = %d, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after its context ended")
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("the demo wrote into the working directory: %v", entries)
	}
}

// TestDemoUsesAConfiguredTenant: with a tenant in the environment the demo
// signs in there, not at the emulator. The authority here is a closed
// local port, so the test reaches no network and ends at discovery.
func TestDemoUsesAConfiguredTenant(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("AZURE_TENANT_ID", entratest.DemoTenantID)
	t.Setenv("AZURE_CLIENT_ID", entratest.DemoClientID)
	t.Setenv("AZURE_CLIENT_SECRET", "not-a-real-secret")
	t.Setenv("AZURE_AUTHORITY_HOST", "https://127.0.0.1:1/")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"demo", "-listen", "127.0.0.1:0"}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the authority is unreachable)", code)
	}
	if !strings.Contains(out.String(), "using the tenant "+entratest.DemoTenantID) {
		t.Errorf("no mention of the configured tenant:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Errorf("the error does not name the authority:\n%s", errOut.String())
	}
}
