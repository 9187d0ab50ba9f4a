package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// TestEmulatorRefusesRemoteListen: the emulator's users and secrets are
// public, so a -listen address beyond loopback is refused as bad usage
// unless -allow-remote asks for it, and then it is warned about.
func TestEmulatorRefusesRemoteListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8443", ":8443", "[::]:8443", "192.0.2.10:8443", "emulator.example:8443", "8443"} {
		t.Run("refused "+addr, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"emulator", "-listen", addr, "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, &out, &errOut)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), addr) || !strings.Contains(errOut.String(), "-allow-remote") && addr != "8443" {
				t.Errorf("the message names neither the address nor -allow-remote:\n%s", errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("the emulator started:\n%s", out.String())
			}
		})
	}
	t.Run("allowed with -allow-remote", func(t *testing.T) {
		// 192.0.2.0/24 is TEST-NET-1, on no interface here: the listen then
		// fails, so the test opens nothing to the network. Were it to
		// succeed, the ended context stops the emulator at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"emulator", "-allow-remote", "-listen", "192.0.2.10:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, &out, &errOut)
		if code == 2 {
			t.Fatalf("exit code 2: -allow-remote did not lift the refusal:\n%s", errOut.String())
		}
		if !strings.Contains(errOut.String(), "WARNING") || !strings.Contains(errOut.String(), "192.0.2.10:0") {
			t.Errorf("no warning about serving beyond this machine:\n%s", errOut.String())
		}
	})
}

func TestIsLoopbackListen(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8443", true},
		{"127.8.9.10:0", true},
		{"[::1]:8443", true},
		{"localhost:8443", true},
		{"LocalHost:8443", true},
		{":8443", false},
		{"0.0.0.0:8443", false},
		{"[::]:8443", false},
		{"10.0.0.1:8443", false},
		{"128.0.0.1:8443", false},
		{"localhost.example:8443", false},
		{"[fe80::1%lo]:8443", false},
	}
	for _, tt := range tests {
		if got, err := isLoopbackListen(tt.addr); err != nil || got != tt.ok {
			t.Errorf("isLoopbackListen(%q) = %v, %v; want %v", tt.addr, got, err, tt.ok)
		}
	}
	if _, err := isLoopbackListen("8443"); err == nil {
		t.Error("a listen address without a host:port form was accepted")
	}
}

// TestEmulatorBannerSaysTestOnly: the banner says plainly that this is a
// test identity provider, not for production.
func TestEmulatorBannerSaysTestOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // print the banner, then stop at once
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"emulator", "-listen", "127.0.0.1:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, &out, &errOut); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut.String())
	}
	banner := out.String()
	for _, want := range []string{"TEST identity provider", "NOT FOR PRODUCTION"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner does not say %q:\n%s", want, banner)
		}
	}
	if strings.Contains(errOut.String(), "WARNING") {
		t.Errorf("a loopback address was warned about:\n%s", errOut.String())
	}
}

// lockedBuffer is a bytes.Buffer the emulator's goroutines may write to
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEmulatorVerboseLogsRefusals: with -v the command logs a refused
// request and why on stderr.
func TestEmulatorVerboseLogsRefusals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pr, pw := io.Pipe()
	var errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "-v", "-listen", "127.0.0.1:0", "-ca-file", caFile}, pw, &errOut)
		pw.Close()
	}()
	var authority string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "Authority:"); ok {
			authority, _, _ = strings.Cut(strings.TrimSpace(a), " ")
		}
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if authority == "" {
		t.Fatalf("no authority in the banner; stderr:\n%s", errOut.String())
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authority + "/oauth2/v2.0/logout?" + url.Values{"post_logout_redirect_uri": {"http://localhost/"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d", code)
	}
	// The handler logged before it answered, and the command has stopped.
	log := errOut.String()
	if !strings.Contains(log, "level=INFO") || !strings.Contains(log, "logout not redirected") || !strings.Contains(log, "no SSO session") {
		t.Errorf("-v did not log the refused logout and why:\n%s", log)
	}
}

func TestBrowserListenAddr(t *testing.T) {
	tests := []struct {
		name, listen, value string
		set                 bool
		want                string
		wantErr             string
	}{
		{"default follows -listen", "127.0.0.1:8443", "", false, "127.0.0.1:8444", ""},
		{"another -listen port", "127.0.0.1:9443", "", false, "127.0.0.1:9444", ""},
		{"free -listen port", "127.0.0.1:0", "", false, "127.0.0.1:0", ""},
		{"IPv6 loopback", "[::1]:8443", "", false, "[::1]:8444", ""},
		{"localhost", "localhost:8443", "", false, "localhost:8444", ""},
		{"no next port", "127.0.0.1:65535", "", false, "", "no next port"},
		{"-listen beyond loopback", "0.0.0.0:8443", "", false, "", ""},
		{"chosen", "127.0.0.1:8443", "127.0.0.1:9000", true, "127.0.0.1:9000", ""},
		{"off", "127.0.0.1:8443", "off", true, "", ""},
		{"empty turns it off", "127.0.0.1:8443", "", true, "", ""},
		{"chosen beyond loopback", "127.0.0.1:8443", "0.0.0.0:8444", true, "", "not a loopback address"},
		{"chosen without a host", "127.0.0.1:8443", "8444", true, "", "host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := browserListenAddr(tt.listen, tt.value, tt.set)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("browserListenAddr(%q, %q, %v) = %q, %v; want %q and an error saying %q", tt.listen, tt.value, tt.set, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestEmulatorRefusesRemoteBrowserListen: the browser pages carry the
// sign-in form over plain HTTP, so they are never served beyond loopback,
// not even with -allow-remote.
func TestEmulatorRefusesRemoteBrowserListen(t *testing.T) {
	for _, extra := range [][]string{nil, {"-allow-remote"}} {
		var out, errOut bytes.Buffer
		args := append([]string{"emulator", "-listen", "127.0.0.1:0", "-browser-listen", "0.0.0.0:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, extra...)
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit code %d, want 2; stderr:\n%s", args, code, errOut.String())
		}
		if !strings.Contains(errOut.String(), "-browser-listen") || !strings.Contains(errOut.String(), "loopback") {
			t.Errorf("%q: the message names neither -browser-listen nor loopback:\n%s", args, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("%q: the emulator started:\n%s", args, out.String())
		}
	}
}

// TestEmulatorBrowserPages: by default the command serves the pages a
// person's browser visits over plain HTTP on loopback, names that address
// in its banner and in discovery, and keeps tokens and keys on TLS, so a
// browser that never heard of the emulator's CA signs in without a
// certificate warning. -browser-listen off puts the pages back on TLS.
func TestEmulatorBrowserPages(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		banner, client := startEmulatorCommand(t)
		authority, _, _ := strings.Cut(banner["Authority"], " ")
		browser, _, _ := strings.Cut(banner["Browser"], " ")
		if !strings.HasPrefix(browser, "http://127.0.0.1:") || strings.HasPrefix(authority, browser) {
			t.Fatalf("banner: browser pages at %q, authority %q; want plain HTTP on a loopback port of their own", browser, authority)
		}
		doc := discovery(t, client, authority)
		for key, base := range map[string]string{
			"authorization_endpoint": browser, "end_session_endpoint": browser,
			"token_endpoint": authority, "jwks_uri": authority,
		} {
			if !strings.HasPrefix(doc[key], base+"/") {
				t.Errorf("discovery: %s = %q, want it under %s", key, doc[key], base)
			}
		}
		// The sign-in page answers over plain HTTP: no certificate to trust.
		q := url.Values{"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:8080/auth/callback"}, "scope": {"openid"}}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(doc["authorization_endpoint"] + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="password"`) {
			t.Errorf("GET %s: HTTP %d, want the sign-in page: %.300s", doc["authorization_endpoint"], resp.StatusCode, page)
		}
	})
	t.Run("off", func(t *testing.T) {
		banner, client := startEmulatorCommand(t, "-browser-listen", "off")
		authority, _, _ := strings.Cut(banner["Authority"], " ")
		browser, _, _ := strings.Cut(banner["Browser"], " ")
		if !strings.HasPrefix(authority, browser+"/") || !strings.HasPrefix(browser, "https://") {
			t.Errorf("banner: browser pages at %q, want the TLS address of %q", browser, authority)
		}
		if doc := discovery(t, client, authority); !strings.HasPrefix(doc["authorization_endpoint"], authority+"/") {
			t.Errorf("discovery: authorization_endpoint = %q, want it under %s", doc["authorization_endpoint"], authority)
		}
	})
}

// startEmulatorCommand runs `entraweb emulator` on free ports with extra
// flags until the test ends, and returns its banner's "Key: value" lines
// and a client that trusts the CA file it wrote.
func startEmulatorCommand(t *testing.T, extra ...string) (map[string]string, *http.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pr, pw := io.Pipe()
	var errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"emulator", "-listen", "127.0.0.1:0", "-ca-file", caFile}, extra...), pw, &errOut)
		pw.Close()
	}()
	banner := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && !strings.Contains(k, " ") {
			banner[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	pool := x509.NewCertPool()
	if pemBytes, err := os.ReadFile(caFile); err != nil || !pool.AppendCertsFromPEM(pemBytes) {
		cancel()
		t.Fatalf("no CA in %s (%v); stderr:\n%s", caFile, err, errOut.String())
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the emulator did not stop within 30s of its context ending")
		}
	})
	return banner, client
}

// discovery fetches an authority's OpenID configuration.
func discovery(t *testing.T, client *http.Client, authority string) map[string]string {
	t.Helper()
	resp, err := client.Get(authority + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	doc := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			doc[k] = s
		}
	}
	return doc
}

// TestEmulatorPortTaken: when a port is taken, the command says which
// flags choose others.
func TestEmulatorPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"emulator", "-listen", "127.0.0.1:0", "-browser-listen", taken.Addr().String(),
		"-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "-browser-listen") || !strings.Contains(errOut.String(), "127.0.0.1:0") {
		t.Errorf("exit code %d, want 1 and a message naming -browser-listen and 127.0.0.1:0:\n%s", code, errOut.String())
	}
}
