package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// build compiles the example into a temporary directory, as a user would
// run it.
func build(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the example with")
	}
	bin := filepath.Join(t.TempDir(), "basic")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// env is the process environment without any setting entraweb would read,
// plus extra.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(k)
		if strings.HasPrefix(upper, "AZURE_") || strings.HasPrefix(upper, "AZUREAD__") ||
			strings.HasPrefix(upper, "ENTRAWEB") || strings.HasSuffix(upper, "_ENVIRONMENT") || upper == "SSL_CERT_FILE" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSignInAgainstEmulator runs the built example against the emulator,
// trusting the emulator's CA only through SSL_CERT_FILE, and signs a
// browser in through it.
func TestSignInAgainstEmulator(t *testing.T) {
	bin := build(t)
	srv := entratest.NewServer(t, nil)
	caFile := filepath.Join(t.TempDir(), "emulator-ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "-listen", addr)
	cmd.Dir = t.TempDir() // no appsettings.json, and any file it wrote would be cleaned up
	cmd.Env = env(
		"SSL_CERT_FILE="+caFile,
		"AZURE_AUTHORITY_HOST="+srv.URL+"/",
		"AZURE_TENANT_ID="+entratest.DemoTenantID,
		"AZURE_CLIENT_ID="+entratest.DemoClientID,
		"AZURE_CLIENT_SECRET="+entratest.DemoClientSecret,
	)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("example output:\n%s", output.String())
		}
	})

	base := "http://" + addr
	waitUntilServing(t, base+"/auth/me", exited)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	username := "alice@" + entratest.DemoTenantDomain
	resp, body, err := srv.Browser().Visit(ctx, base+"/", username, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != base+"/" {
		t.Fatalf("landed on %s with %d: %.300s", resp.Request.URL, resp.StatusCode, body)
	}
	for _, want := range []string{"Hello, Alice Admin", "<b>" + username + "</b>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the home page does not show %q:\n%s", want, body)
		}
	}
	// /admin/ needs DemoApp.Admin: alice holds it, bob (DemoApp.Write) does not.
	if resp, body, err := srv.Browser().Visit(ctx, base+"/admin/", username, entratest.DemoPassword); err != nil ||
		resp.StatusCode != http.StatusOK || !strings.Contains(body, "DemoApp.Admin") {
		t.Errorf("alice at /admin/: %v %v %.300s", err, resp, body)
	}
	if resp, body, err := srv.Browser().Visit(ctx, base+"/admin/", "bob@"+entratest.DemoTenantDomain, entratest.DemoPassword); err != nil ||
		resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You need the role DemoApp.Admin") {
		t.Errorf("bob at /admin/: %v %v %.300s", err, resp, body)
	}

	// SIGTERM shuts the server down cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Skipf("cannot signal the example: %v", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the example exited with %v, want status 0", err)
		}
		exited <- err // for the cleanup
	case <-time.After(15 * time.Second):
		t.Error("the example did not stop within 15s of SIGTERM")
	}
}

// waitUntilServing polls url until the example answers, failing early if
// it exits.
func waitUntilServing(t *testing.T, url string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the example exited before serving: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not answer at %s within 30s: %v", url, err)
		}
	}
}

// TestBadConfiguration checks that the example refuses to start, with exit
// status 1 and a message naming every missing key.
func TestBadConfiguration(t *testing.T) {
	bin := build(t)
	// An authority nobody listens on: should a case ever pass validation,
	// the example fails fast instead of reaching the internet.
	const nowhere = "AZURE_AUTHORITY_HOST=https://127.0.0.1:1/"
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "no client id",
			env:  []string{nowhere, "AZURE_TENANT_ID=" + entratest.DemoTenantID, "AZURE_CLIENT_SECRET=" + entratest.DemoClientSecret},
			want: []string{"AzureAd:ClientId: missing", "AZURE_CLIENT_ID"},
		},
		{
			name: "nothing set",
			env:  []string{nowhere},
			want: []string{"AzureAd:TenantId", "AzureAd:ClientId", "client credential"},
		},
		{
			name: "client id not a GUID",
			env:  []string{nowhere, "AZURE_TENANT_ID=" + entratest.DemoTenantID, "AZURE_CLIENT_ID=my-app", "AZURE_CLIENT_SECRET=x"},
			want: []string{`AzureAd:ClientId: "my-app" is not a GUID`},
		},
		{
			name: "http authority",
			env: []string{"AZURE_AUTHORITY_HOST=http://127.0.0.1:1/", "AZURE_TENANT_ID=" + entratest.DemoTenantID,
				"AZURE_CLIENT_ID=" + entratest.DemoClientID, "AZURE_CLIENT_SECRET=x"},
			want: []string{"AzureAd:Instance", "https"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
			cmd.Dir = t.TempDir()
			cmd.Env = env(tt.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1; output:\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
		})
	}
}
