package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a TB that notes how the test would have ended.
type recorder struct{ fatal, skip string }

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestMissing(t *testing.T) {
	for _, tt := range []struct {
		ci        string
		wantFatal bool
	}{{"", false}, {"true", true}, {"1", true}} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{}
			if p := LookPath(r, "apt-get install -y nothing", "entraweb-no-such-program"); p != "" {
				t.Fatalf("found %q", p)
			}
			switch {
			case tt.wantFatal && (r.fatal == "" || r.skip != ""):
				t.Errorf("under CI=%q: fatal %q, skip %q; want a failure", tt.ci, r.fatal, r.skip)
			case !tt.wantFatal && (r.skip == "" || r.fatal != ""):
				t.Errorf("without CI: fatal %q, skip %q; want a skip", r.fatal, r.skip)
			}
			msg := r.fatal + r.skip
			if !strings.Contains(msg, "entraweb-no-such-program") || !strings.Contains(msg, "apt-get install -y nothing") {
				t.Errorf("the message does not say what is missing and how to get it: %q", msg)
			}
		})
	}
	if p := LookPath(&recorder{}, "", "no-such-program", "sh"); p == "" {
		t.Error("sh not found: LookPath does not try every name")
	}
}
