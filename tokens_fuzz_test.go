package entraweb

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
)

// FuzzClaimsChallenge feeds arbitrary WWW-Authenticate headers, as a
// downstream API (or anything in between) may send: never a panic, and a
// challenge only with JSON claims.
func FuzzClaimsChallenge(f *testing.F) {
	f.Add(`Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`)
	f.Add(`Bearer error=insufficient_claims, claims=e30`)
	f.Add(`Bearer error="insufficient_claims", claims="`)
	f.Add(`Basic realm="x"`)
	f.Add("Bearer error=\"insufficient_claims\", claims=\"\t{}\"")
	a := &Auth{}
	f.Fuzz(func(t *testing.T, h string) {
		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {h}}}
		err := a.ClaimsChallenge(resp, "User.Read")
		if ire, ok := err.(*InteractionRequiredError); ok && (len(ire.Claims) == 0 || ire.Claims[0] != '{') {
			t.Fatalf("a challenge with claims %q", ire.Claims)
		}
	})
}

// FuzzStepUp opens arbitrary "req" parameters of the login URL: only what
// this app sealed opens.
func FuzzStepUp(f *testing.F) {
	// A key of this process: a seed sealed by another fuzzing process
	// must not open either.
	box, err := session.NewBox([]byte((rand.Text() + rand.Text())[:32]))
	if err != nil {
		f.Fatal(err)
	}
	s, _ := goodConfig().validate()
	s.now = time.Now
	a := &Auth{s: s, pending: &pendingJar{box: box, now: time.Now}}
	good := a.sealStepUp([]string{"Mail.Read"}, `{"access_token":{}}`, "session-secret")
	f.Add(good)
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		su, ok := a.openStepUp(v, "session-secret")
		if ok && v != good {
			t.Fatalf("a forged step-up opened: %+v", su)
		}
	})
}

// A step-up mark counts as a repeat only for the same scopes and claims,
// within stepUpRepeatWindow.
func TestStepUpRepeated(t *testing.T) {
	s, _ := goodConfig().validate()
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	a := &Auth{s: s}
	scopes, claims := []string{"Mail.Read", "User.Read"}, `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	mark := a.stepUpMark(scopes, claims)
	for _, tt := range []struct {
		name   string
		later  time.Duration
		mark   string
		scopes []string
		claims string
		want   bool
	}{
		{"same, at once", 0, mark, scopes, claims, true},
		{"same, within the window", stepUpRepeatWindow, mark, scopes, claims, true},
		{"same, after the window", stepUpRepeatWindow + time.Second, mark, scopes, claims, false},
		{"other claims", 0, mark, scopes, `{"access_token":{"acrs":{"essential":true,"value":"c2"}}}`, false},
		{"other scopes", 0, mark, []string{"Mail.Read"}, claims, false},
		{"scopes run together", 0, mark, []string{"Mail.ReadUser.Read"}, claims, false},
		{"no mark", 0, "", scopes, claims, false},
		{"malformed mark", 0, "yesterday " + mark[strings.IndexByte(mark, ' ')+1:], scopes, claims, false},
		{"mark from far in the future", -2 * time.Minute, mark, scopes, claims, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.now = func() time.Time { return now.Add(tt.later) }
			if got := a.stepUpRepeated(tt.mark, tt.scopes, tt.claims); got != tt.want {
				t.Errorf("stepUpRepeated = %v, want %v", got, tt.want)
			}
		})
	}
}
