package entraweb

import (
	"crypto/rand"
	"net/http"
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
