package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// TestManifestGolden runs `entraweb manifest` for DemoApp in each format
// and compares with testdata/manifest.FORMAT.golden (go test -run
// TestManifestGolden -update rewrites them).
func TestManifestGolden(t *testing.T) {
	for _, format := range []string{"json", "az", "bicep"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"manifest", "-app", "DemoApp", "-roles", "Read,Write,Admin",
				"-redirect", "https://demo.example.com", "-redirect", "http://localhost:8080/auth/callback", "-groups", "-format", format}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			golden := filepath.Join("testdata", "manifest."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s (run with -update if the change is meant):\n%s", golden, out.String())
			}
		})
	}
}

// TestManifestDoneWhen is the issue's own command: stable ids for
// DemoApp.Read, Write and Admin, the same on a second run.
func TestManifestDoneWhen(t *testing.T) {
	var first string
	for i := range 2 {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"manifest", "-app", "DemoApp", "-roles", "Read,Write,Admin"}, &out, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		for _, want := range []string{`"id": "c4024129-f106-5c8d-9a13-8deb89ac7b31"`, `"value": "DemoApp.Read"`, `"value": "DemoApp.Write"`, `"value": "DemoApp.Admin"`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %s:\n%s", want, out.String())
			}
		}
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Errorf("second run differs:\n%s\n---\n%s", first, out.String())
		}
	}
}

func TestManifestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"manifest"}, "-app is required"},
		{[]string{"manifest", "-app", "DemoApp", "-roles", "Read,Re ad"}, `"Re ad" is not a role name`},
		{[]string{"manifest", "-app", "DemoApp", "-roles", "Read=not-a-guid"}, "must be a GUID"},
		{[]string{"manifest", "-app", "DemoApp", "-redirect", "http://app.example.com"}, "use https"},
		{[]string{"manifest", "-app", "DemoApp", "-format", "yaml"}, "use json, az or bicep"},
		{[]string{"manifest", "-app", "DemoApp", "stray"}, `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		if !strings.Contains(errOut.String(), tt.want) || out.Len() != 0 {
			t.Errorf("%v: stderr %q (want %q), stdout %q", tt.args, errOut.String(), tt.want, out.String())
		}
	}
}

// TestManifestAzClientID: -client-id fills in the app of the az command.
func TestManifestAzClientID(t *testing.T) {
	var out, errOut bytes.Buffer
	id := "9d3b8e2a-4c1f-4a6e-b7d5-2e8f1a0c6b3d"
	if code := run(context.Background(), []string{"manifest", "-app", "DemoApp", "-client-id", id, "-format", "az"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "az ad app update --id '"+id+"' \\\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestManifestApps: -apps lets applications hold the roles (for daemons
// calling the API) and changes no id.
func TestManifestApps(t *testing.T) {
	out := func(args ...string) string {
		var o, e bytes.Buffer
		if code := run(context.Background(), append([]string{"manifest", "-app", "DemoApp"}, args...), &o, &e); code != 0 {
			t.Fatalf("exit %d: %s", code, e.String())
		}
		return o.String()
	}
	plain, apps := out(), out("-apps")
	if strings.Contains(plain, `"Application"`) || strings.Count(apps, `"Application"`) != 3 {
		t.Errorf("-apps: Application in %d roles, without -apps in %d; want 3 and 0", strings.Count(apps, `"Application"`), strings.Count(plain, `"Application"`))
	}
	for _, id := range []string{"c4024129-f106-5c8d-9a13-8deb89ac7b31", "fc69de3b-7986-583b-9f09-6ac3f71b6dc9"} {
		if !strings.Contains(apps, id) {
			t.Errorf("-apps changed the id %s", id)
		}
	}
}
