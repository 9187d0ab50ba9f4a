package entraweb

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	type ch = map[string]string // "" holds the scheme
	tests := []struct {
		name, header string
		want         []ch
	}{
		{"graph", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="e30="`,
			[]ch{{"": "bearer", "realm": "", "authorization_uri": "https://login.microsoftonline.com/common/oauth2/authorize", "client_id": "00000003-0000-0000-c000-000000000000", "error": "insufficient_claims", "claims": "e30="}}},
		{"tokens and case", `BEARER Error=insufficient_claims ,  Claims = abc`, []ch{{"": "bearer", "error": "insufficient_claims", "claims": "abc"}}},
		{"escapes", `Bearer realm="a \"quoted\" \\ realm, with a comma", error="x"`, []ch{{"": "bearer", "realm": `a "quoted" \ realm, with a comma`, "error": "x"}}},
		{"two challenges", `Basic realm="files", Bearer error="insufficient_claims", claims="e30="`,
			[]ch{{"": "basic", "realm": "files"}, {"": "bearer", "error": "insufficient_claims", "claims": "e30="}}},
		{"token68 first", `Negotiate a87421/+=, Bearer realm="r"`, []ch{{"": "negotiate"}, {"": "bearer", "realm": "r"}}},
		{"bare schemes", `Negotiate, NTLM`, []ch{{"": "negotiate"}, {"": "ntlm"}}},
		{"empty list items", `,, Bearer ,, realm="r",,`, []ch{{"": "bearer", "realm": "r"}}},
		{"a parameter twice drops the challenge", `Bearer claims="e30=", claims="eyJ4Ijp7fX0=", Basic realm="b"`, []ch{{"": "basic", "realm": "b"}}},
		{"unterminated quote", `Basic realm="a", Bearer claims="e30=`, []ch{{"": "basic", "realm": "a"}}},
		{"control character", "Bearer claims=\"e3\x0030=\"", nil},
		{"escaped control character", "Bearer claims=\"\\\x01\"", nil},
		{"garbage after a value", `Bearer error="x"y, Basic`, nil},
		{"no scheme", `="x"`, nil},
		{"empty", ``, nil},
		{"too long", `Bearer realm="` + strings.Repeat("a", maxChallengeHeader) + `"`, nil},
	}
	for _, tt := range tests {
		var got []ch
		for _, c := range parseChallenges(tt.header) {
			m := maps.Clone(c.params)
			m[""] = c.scheme
			got = append(got, m)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if !maps.Equal(got[i], tt.want[i]) {
				t.Errorf("%s: challenge %d = %v, want %v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

func TestClaimsChallengeHeaders(t *testing.T) {
	const claims = `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	std := base64.StdEncoding.EncodeToString([]byte(claims))
	tests := []struct {
		name    string
		headers []string
		want    string // "" means no challenge
	}{
		{"standard base64", []string{`Bearer error="insufficient_claims", claims="` + std + `"`}, claims},
		{"base64url without padding", []string{`Bearer error="insufficient_claims", claims="` + base64.RawURLEncoding.EncodeToString([]byte(claims)) + `"`}, claims},
		{"plain JSON, escaped", []string{`Bearer error="insufficient_claims", claims="{\"access_token\":{}}"`}, `{"access_token":{}}`},
		{"second header value", []string{`Basic realm="x"`, `Bearer error="insufficient_claims", claims="` + std + `"`}, claims},
		{"second challenge", []string{`PoP nonce="n", Bearer error="insufficient_claims", claims="` + std + `"`}, claims},
		{"other error", []string{`Bearer error="invalid_token", claims="` + std + `"`}, ""},
		{"not bearer", []string{`Basic error="insufficient_claims", claims="` + std + `"`}, ""},
		{"no claims", []string{`Bearer error="insufficient_claims"`}, ""},
		{"bad base64", []string{`Bearer error="insufficient_claims", claims="%%%"`}, ""},
		{"JSON array", []string{`Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(`[{}]`)) + `"`}, ""},
		{"broken JSON", []string{`Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(`{"a":`)) + `"`}, ""},
		{"too large", []string{`Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(`{"a":"`+strings.Repeat("x", maxStepUpClaims)+`"}`)) + `"`}, ""},
		{"unknown request", []string{`Bearer error="insufficient_claims", claims="{\"evil\":{}}"`}, ""},
		{"not an object", []string{`Bearer error="insufficient_claims", claims="{\"access_token\":\"x\"}"`}, ""},
		{"empty", []string{`Bearer error="insufficient_claims", claims="e30="`}, ""},
		{"rebuilt", []string{`Bearer error="insufficient_claims", claims="{ \"access_token\" : {\"a\":1}, \"access_token\":{\"nbf\":{\"value\":12345678901234567890}} }"`},
			`{"access_token":{"nbf":{"value":12345678901234567890}}}`},
		{"claims twice", []string{`Bearer error="insufficient_claims", claims="` + std + `", claims="e30="`}, ""},
	}
	for _, tt := range tests {
		got, ok := claimsChallenge(tt.headers)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: %q %v, want %q", tt.name, got, ok, tt.want)
		}
	}
}

// FuzzChallengeHeader reads arbitrary WWW-Authenticate values: never a
// panic, and claims only ever come out as one small JSON object.
func FuzzChallengeHeader(f *testing.F) {
	f.Add(`Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`)
	f.Add(`Basic realm="a\"b", Bearer error=insufficient_claims, claims="{\"a\":1}"`)
	f.Add(`Negotiate abc==, Bearer error="insufficient_claims", claims="e30"`)
	f.Add(`Bearer claims="\`)
	f.Fuzz(func(t *testing.T, h string) {
		for _, c := range parseChallenges(h) {
			if c.scheme == "" || strings.ToLower(c.scheme) != c.scheme {
				t.Fatalf("scheme %q", c.scheme)
			}
		}
		if claims, ok := claimsChallenge([]string{h}); ok {
			// One small object of claims requests, as encoding/json writes it.
			var m map[string]map[string]any
			d := json.NewDecoder(strings.NewReader(claims))
			d.UseNumber()
			if len(claims) > maxStepUpClaims || d.Decode(&m) != nil || len(m) == 0 {
				t.Fatalf("claims %q", claims)
			}
			if again, _ := json.Marshal(m); string(again) != claims {
				t.Fatalf("claims %q are not as rebuilt: %s", claims, again)
			}
		}
	})
}

// FuzzChallengeRoundTrip quotes an arbitrary value the way a server
// would and reads it back unchanged, wherever it stands among the
// parameters.
func FuzzChallengeRoundTrip(f *testing.F) {
	f.Add(`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`, "realm")
	f.Add(`a "b" \c, d=e`, "x")
	f.Fuzz(func(t *testing.T, v, name string) {
		for i := 0; i < len(v); i++ {
			if !quotable(v[i]) {
				return
			}
		}
		if name == "" || strings.EqualFold(name, "error") || strings.EqualFold(name, "claims") {
			return
		}
		for i := 0; i < len(name); i++ {
			if !isTchar(name[i]) {
				return
			}
		}
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)
		h := `Basic realm="x", Bearer error="insufficient_claims", ` + name + `="` + q + `", claims="e30="`
		if len(h) > maxChallengeHeader {
			return
		}
		cs := parseChallenges(h)
		if len(cs) != 2 || cs[1].params[strings.ToLower(name)] != v || cs[1].params["claims"] != "e30=" {
			t.Fatalf("%q read as %+v", h, cs)
		}
	})
}
