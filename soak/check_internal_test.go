package soak

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// The soak run's checks must be able to fail: each case here is an
// answer they must refuse, or one they must let pass. These run in every
// go test ./..., with or without ENTRAWEB_SOAK.
func TestJudge(t *testing.T) {
	t0 := time.Now()
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	log := &faultLog{t0: t0, windows: []window{
		{kind: faultRedis, start: at(10), end: at(12), slack: afterFault, excuses: true},
		{kind: faultKeys, start: at(20), end: at(22)}, // excuses nothing
	}}
	alice := identity{OID: "oid-alice", Username: "alice@x"}
	bob := identity{OID: "oid-bob", Username: "bob@x"}
	aliceWithBobsToken := identity{OID: "oid-alice", Username: "alice@x", TokenOID: "oid-bob", TokenSum: "abc"}
	retry := "<p>Your session is not lost. <a href=\"/page\">Try again</a></p>"
	during, after, calm, rotating := at(11), at(13.5), at(30), at(21)

	cases := []struct {
		name string
		a    answer
		got  *identity
		want string // "ok", "fault" or a part of the violation
	}{
		{"own page", answer{op: "page", start: calm, end: calm, status: 200}, &alice, "ok"},
		{"another user's page", answer{op: "page", start: calm, end: calm, status: 200}, &bob, "another user's identity"},
		{"another user's token", answer{op: "token", start: calm, end: calm, status: 200}, &aliceWithBobsToken, "token of oid oid-bob"},
		{"another user's page, even in a fault", answer{op: "page", start: during, end: during, status: 200}, &bob, "another user's identity"},
		{"200 without an identity", answer{op: "page", start: calm, end: calm, status: 200, body: "hello"}, nil, "without the user's identity"},
		{"signed out in a fault", answer{op: "page", start: during, end: during, status: 302, location: "/auth/login?return=%2Fpage", signedIn: true}, nil, "was signed out"},
		{"401 in a fault", answer{op: "token", start: during, end: during, status: 401, signedIn: true}, nil, "was signed out"},
		{"proxy signs out", answer{op: "proxy", start: calm, end: calm, status: 302, location: "/.auth/login?return=%2Fecho", signedIn: true}, nil, "was signed out"},
		{"503 retry page in a fault", answer{op: "page", start: during, end: during, status: 503, body: retry}, nil, "fault"},
		{"502 retry page just after a fault", answer{op: "token", start: after, end: after, status: 502, body: retry}, nil, "fault"},
		{"503 without a fault", answer{op: "page", start: calm, end: calm, status: 503, body: retry}, nil, "with no fault injected"},
		{"503 during a key rotation", answer{op: "page", start: rotating, end: rotating, status: 503, body: retry}, nil, "with no fault injected"},
		{"503 without the retry page", answer{op: "page", start: during, end: during, status: 503, body: "oops"}, nil, "without the retry page"},
		{"500 in a fault", answer{op: "page", start: during, end: during, status: 500, body: retry}, nil, "only 502 and 503"},
		{"404 in a fault", answer{op: "page", start: during, end: during, status: 404}, nil, "404 during"},
		{"connection error in a fault", answer{op: "proxy", start: during, end: during, err: errors.New("reset")}, nil, "fault"},
		{"connection error without a fault", answer{op: "proxy", start: calm, end: calm, err: errors.New("reset")}, nil, "with no fault injected"},
		{"request that began before the fault", answer{op: "page", start: at(9), end: at(10.5), status: 503, body: retry}, nil, "fault"},
		{"sign-in stopped at the provider in a fault", answer{op: "sign-in", start: during, end: during, status: 503, body: "{}", fromProvider: true}, nil, "fault"},
		{"sign-in stopped at the provider without a fault", answer{op: "sign-in", start: calm, end: calm, status: 503, fromProvider: true}, nil, "with no fault injected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := judge(c.a, alice, c.got, log)
			switch c.want {
			case "ok":
				if !v.ok || v.violation != "" {
					t.Errorf("got %+v, want ok", v)
				}
			case "fault":
				if v.fault == "" || v.violation != "" {
					t.Errorf("got %+v, want excused by a fault", v)
				}
			default:
				if !strings.Contains(v.violation, c.want) {
					t.Errorf("got %+v, want a violation saying %q", v, c.want)
				}
			}
		})
	}
}

func TestOwners(t *testing.T) {
	var o owners
	if other := o.claim("session", "s1", "alice"); other != "" {
		t.Fatalf("first claim: %q", other)
	}
	if other := o.claim("session", "s1", "alice"); other != "" {
		t.Fatalf("alice again: %q", other)
	}
	if other := o.claim("token", "s1", "bob"); other != "" {
		t.Fatalf("a token equal to a session value is another thing: %q", other)
	}
	if other := o.claim("session", "s1", "bob"); other != "alice" {
		t.Fatalf("bob with alice's session: %q, want alice", other)
	}
}

func TestIdentityReaders(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"oid":"oid-1","aud":"x"}`))
	tok := "e30." + payload + ".sig"
	if got := tokenOID(tok); got != "oid-1" {
		t.Errorf("tokenOID: %q", got)
	}
	if got := tokenOID("not a token"); got != "" {
		t.Errorf("tokenOID of junk: %q", got)
	}
	id := pageIdentity("soak oid=o user=u@x token-oid=t token=d inst=B\n")
	if id == nil || *id != (identity{OID: "o", Username: "u@x", TokenOID: "t", TokenSum: "d"}) {
		t.Errorf("pageIdentity: %+v", id)
	}
	if pageIdentity("<html>sign in</html>") != nil {
		t.Error("pageIdentity read an identity from a page without one")
	}
	h := `{"X-Ms-Client-Principal-Id":["o"],"X-Ms-Client-Principal-Name":["u@x"],"X-Ms-Token-Aad-Access-Token":["` + tok + `"]}`
	id = headerIdentity(h)
	if id == nil || id.OID != "o" || id.Username != "u@x" || id.TokenOID != "oid-1" || id.TokenSum != digest(tok) {
		t.Errorf("headerIdentity: %+v", id)
	}
	if headerIdentity(`{"Accept":["*/*"]}`) != nil {
		t.Error("headerIdentity read an identity from headers without one")
	}
}
