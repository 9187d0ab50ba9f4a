package proxy

import (
	"strconv"
	"testing"
)

// A flood of invented AADSTS codes (anyone can send a callback with an
// error_description of their choice for a sign-in they started) ends in
// "other" after the bound, and never takes the reasons' labels with it.
func TestLabelGuards(t *testing.T) {
	m := &metrics{reasons: labelGuard{max: 64}, codes: labelGuard{max: 64}}
	seen := map[string]bool{}
	for i := range 1000 {
		seen[m.codes.aadsts(strconv.Itoa(10000+i))] = true
	}
	if len(seen) != 65 || !seen["other"] {
		t.Errorf("%d distinct AADSTS labels after 1,000 codes, want 64 and other", len(seen))
	}
	if got := m.reasons.word("unknown_state"); got != "unknown_state" {
		t.Errorf("a genuine reason after the flood: %q", got)
	}
	for _, bad := range []string{"", "Bad Word", "x\n", "aadsts\x00", string(make([]byte, 41))} {
		if got := m.reasons.word(bad); got != "other" {
			t.Errorf("reason %q kept as %q", bad, got)
		}
	}
	for _, bad := range []string{"12a", "1234567890", "-1"} {
		if got := m.codes.aadsts(bad); got != "other" {
			t.Errorf("AADSTS %q kept as %q", bad, got)
		}
	}
	if got := m.codes.aadsts(""); got != "" {
		t.Errorf("no code: %q", got)
	}
}
