package entraweb_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The library's core never links a metrics or tracing stack (the proxy
// and the command may: they offer Prometheus), and the command never
// links the testing package.
func TestDependencies(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	deps := func(pkg string) []string {
		out, err := exec.Command(goCmd, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	forbidden := []string{"github.com/prometheus/", "go.opentelemetry.io/"}
	for _, pkg := range []string{".", "./session/...", "./entratest"} {
		for _, d := range deps(pkg) {
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s links %s", pkg, d)
				}
			}
		}
	}
	proxyLinksPrometheus := false
	for _, d := range deps("./proxy") {
		proxyLinksPrometheus = proxyLinksPrometheus || strings.HasPrefix(d, "github.com/prometheus/client_golang/")
	}
	if !proxyLinksPrometheus {
		t.Error("./proxy does not link client_golang: is the check above looking at the right names?")
	}
	for _, d := range deps("./cmd/entraweb") {
		if d == "testing" {
			t.Error("./cmd/entraweb links the testing package")
		}
	}
}
