package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
