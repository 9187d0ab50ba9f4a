// Package testenv holds the one rule for tests that need a program this
// machine may lack (Chromium, redis-server, nginx, Caddy, Node, Python
// with Flask): without it the test is skipped with a message nobody can
// miss, except under CI (the CI variable set to anything), where it
// fails. CI installs every such program, so a missing one there is a
// broken machine, not a reason to test less.
package testenv

import (
	"os"
	"os/exec"
)

// TB is the part of testing.TB the rule needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Missing ends the test because what it needs is missing; install says
// how to get it, such as "apt-get install -y nginx".
func Missing(t TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing, and CI is set: this test must run in CI (%s)", what, install)
		return
	}
	t.Skipf("SKIPPED, NOT RUN: %s is missing. Install it (%s; `make test` does it as root) to run this test; under CI it fails instead.", what, install)
}

// LookPath returns the path of the first of names found on PATH or, for
// Debian's daemons, in /usr/sbin (which a user's PATH may lack); when
// none is found it calls Missing.
func LookPath(t TB, install string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	for _, n := range names {
		if p, err := exec.LookPath("/usr/sbin/" + n); err == nil {
			return p
		}
	}
	Missing(t, names[0], install)
	return ""
}
