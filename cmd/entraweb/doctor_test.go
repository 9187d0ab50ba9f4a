package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// runChild runs `entraweb <args>` in a child process (the test binary
// again, through TestProxyHelperProcess) with env, so that SSL_CERT_FILE
// is read as a deployed command reads it. It returns the exit code and
// the output.
func runChild(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	return runChildIn(t, t.TempDir(), env, args...)
}

// runChildIn is runChild in the working directory dir.
func runChildIn(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestProxyHelperProcess$", "--"}, args...)...)
	cmd.Env = append(env, "ENTRAWEB_TEST_PROXY_CHILD=1")
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, out.String(), errOut.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), out.String(), errOut.String()
		}
		t.Fatal(err)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("entraweb %v did not finish:\n%s%s", args, out.String(), errOut.String())
	}
	return 0, "", ""
}

// doctorSetup starts the emulator and writes an app's settings for it:
// appsettings.json (DemoApp on http://localhost:8080, its roles), the
// secret in AZURE_CLIENT_SECRET, the emulator's CA in SSL_CERT_FILE.
func doctorSetup(t *testing.T) (srv *entratest.Server, dir string, env []string) {
	t.Helper()
	srv = entratest.NewServer(t, nil)
	dir = t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{
		"AzureAd": map[string]any{"Instance": srv.URL + "/", "TenantId": entratest.DemoTenantID, "ClientId": entratest.DemoClientID},
		"Entraweb": map[string]any{"GraphUrl": srv.GraphURL(), "PublicBaseUrl": "http://localhost:8080",
			"Roles": []string{"DemoApp.Read", "DemoApp.Write", "DemoApp.Admin"}, "MinimumRole": "DemoApp.Read"},
	}
	b, _ := json.Marshal(settings)
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(cleanEnv(), "SSL_CERT_FILE="+caFile, "AZURE_CLIENT_SECRET="+entratest.DemoClientSecret)
	return srv, dir, env
}

func TestDoctorCommand(t *testing.T) {
	_, dir, env := doctorSetup(t)
	// A Staging file over appsettings.json, chosen by the environment
	// name as the app chooses it.
	os.WriteFile(filepath.Join(dir, "appsettings.Staging.json"), []byte(`{"Entraweb": {"PublicBaseUrl": "https://staging.example.com"}}`), 0o600)
	tests := []struct {
		name  string
		env   []string
		args  []string
		code  int
		wants []string
	}{
		{"DemoApp", nil, nil, 0, []string{
			"✔ authority: ", "✔ clock: ", "✔ credential: Entra ID issued an app token", "✔ redirect URI: http://localhost:8080/auth/callback",
			"✔ registered redirect URIs: ", "✔ app roles: DemoApp.Read, DemoApp.Write, DemoApp.Admin defined and enabled", "No check failed."}},
		{"wrong secret", []string{"AZURE_CLIENT_SECRET=wrong-secret-value"}, nil, 1, []string{
			"✘ credential: the client credential was refused: The client secret is wrong. (AADSTS7000215)",
			"    fix: Use the secret's Value, not its Secret ID", "1 check failed."}},
		{"unreachable authority", []string{"AZURE_AUTHORITY_HOST=https://127.0.0.1:1/"}, nil, 1, []string{
			"✘ authority: https://127.0.0.1:1/" + entratest.DemoTenantID + " does not answer discovery", "    fix: check AzureAd:Instance"}},
		{"unregistered redirect URI (appsettings.Staging.json)", []string{"ENTRAWEB_ENVIRONMENT=Staging"}, nil, 1, []string{
			"environment Staging",
			"✘ registered redirect URIs: https://staging.example.com/auth/callback is not a redirect URI of the registration",
			"    fix: add https://staging.example.com/auth/callback under Authentication"}},
		{"quick", nil, []string{"-quick"}, 0, []string{"– credential: not checked (quick)"}},
		{"bad settings key", []string{"Entraweb__Nope=1"}, nil, 1, []string{"✘ configuration: ", "Nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"doctor", "-dir", dir}, tt.args...)
			code, out, errOut := runChild(t, append(env[:len(env):len(env)], tt.env...), args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, secret := range []string{entratest.DemoClientSecret, "wrong-secret-value", "eyJ"} {
				if strings.Contains(out+errOut, secret) {
					t.Errorf("output holds %q", secret)
				}
			}
		})
	}
}

func TestDoctorJSON(t *testing.T) {
	_, dir, env := doctorSetup(t)
	code, out, errOut := runChild(t, append(env, "AZURE_CLIENT_SECRET=wrong-secret-value"), "doctor", "-dir", dir, "-json")
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, errOut)
	}
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct{ Name, Status, Message, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	found := false
	for _, c := range rep.Checks {
		if c.Name == "credential" {
			found = c.Status == "fail" && strings.Contains(c.Message, "AADSTS7000215") && c.Fix != ""
		}
	}
	if rep.OK || !found {
		t.Errorf("report: %+v", rep)
	}
	if strings.Contains(out, "wrong-secret-value") {
		t.Error("the JSON holds the secret")
	}
}

func TestDoctorUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"doctor", "-h"}, 0, "-dir"},
		{[]string{"doctor", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"doctor", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "doctor"},
		{[]string{"-h"}, 0, "manifest"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s", tt.args, code, tt.code, tt.want, out.String())
		}
	}
}
