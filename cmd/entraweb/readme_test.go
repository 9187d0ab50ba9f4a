package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/internal/manifest"
)

// readmeCommands returns the `go run ./cmd/entraweb ...` lines of the
// README's "Register your app in Entra ID" section (its shell blocks),
// as argument lists, comments removed.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Register your app in Entra ID\n"
	_, section, ok := strings.Cut(string(b), heading)
	if !ok {
		t.Fatalf("README.md has no section %q", strings.TrimSpace(heading))
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var cmds [][]string
	inShell := false
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```"):
			inShell = !inShell && line == "```sh"
		case inShell:
			line, _, _ = strings.Cut(line, "#")
			if rest, ok := strings.CutPrefix(line, "go run ./cmd/entraweb "); ok {
				cmds = append(cmds, strings.Fields(rest))
			}
		}
	}
	return cmds
}

// TestReadmeRegisterCommands runs the commands the README's "Register
// your app" section tells a person to type, as written: the manifest
// commands print the pinned and the seed's ids, and doctor passes for
// an app in ../myapp configured for the emulator's DemoApp.
func TestReadmeRegisterCommands(t *testing.T) {
	cmds := readmeCommands(t)
	var manifests, doctors int
	for _, args := range cmds {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			switch args[0] {
			case "manifest":
				manifests++
				var out, errOut bytes.Buffer
				if code := run(context.Background(), args, &out, &errOut); code != 0 {
					t.Fatalf("exit %d: %s", code, errOut.String())
				}
				want := manifest.RoleID("DemoApp.Read")
				if strings.Contains(strings.Join(args, " "), "Read=") {
					want = "a8161423-2e8e-46c4-9997-f984faccb625"
				}
				if !strings.Contains(out.String(), `"id": "`+want+`"`) {
					t.Errorf("no id %s for DemoApp.Read:\n%s", want, out.String())
				}
			case "doctor":
				doctors++
				_, dir, env := doctorSetup(t)
				work := filepath.Join(filepath.Dir(dir), "work")
				if err := os.Rename(dir, filepath.Join(filepath.Dir(dir), "myapp")); err != nil {
					t.Fatal(err)
				}
				os.Mkdir(work, 0o700)
				env = append(env[:len(env):len(env)], "SSL_CERT_FILE="+filepath.Join(filepath.Dir(dir), "myapp", "ca.pem"))
				code, out, errOut := runChildIn(t, work, env, args...)
				if code != 0 {
					t.Fatalf("exit %d:\n%s%s", code, out, errOut)
				}
				if strings.Contains(strings.Join(args, " "), "-json") {
					var rep struct{ OK bool }
					if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK {
						t.Errorf("not a passing JSON report (%v):\n%s", err, out)
					}
				} else if !strings.Contains(out, "No check failed.") {
					t.Errorf("output:\n%s", out)
				}
			default:
				t.Errorf("the README names a command this test does not run: %v", args)
			}
		})
	}
	if manifests != 2 || doctors != 2 {
		t.Errorf("found %d manifest and %d doctor commands in the README section; the test expects 2 and 2", manifests, doctors)
	}
}
