package entraweb

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// A resource that wants more from a token than it got (Conditional Access,
// continuous access evaluation) answers 401 with a Bearer challenge such as
//
//	WWW-Authenticate: Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsi..."
//
// The header comes from a remote server and from anything in between, so
// it is read strictly: RFC 9110's grammar (several challenges, token68,
// quoted strings with backslash escapes), a size limit, and a challenge
// with a parameter named twice is ignored, so that no reading of an
// ambiguous header can differ from another.

// maxChallengeHeader bounds the WWW-Authenticate value read: real ones are
// well under a kilobyte, and claims past maxStepUpClaims are refused anyway.
const maxChallengeHeader = 8 << 10

// authChallenge is one challenge of a WWW-Authenticate header.
type authChallenge struct {
	scheme string            // lower case
	params map[string]string // names lower case, values unquoted
}

// parseChallenges reads the challenges of one WWW-Authenticate value. It
// stops at the first syntax error and returns the complete challenges
// before it.
func parseChallenges(h string) []authChallenge {
	if len(h) > maxChallengeHeader {
		return nil
	}
	p := &challengeParser{s: h}
	var out []authChallenge
	var cur *authChallenge
	bad := false // cur named a parameter twice
	done := func() {
		if cur != nil && !bad {
			out = append(out, *cur)
		}
		cur, bad = nil, false
	}
	for {
		p.skipListSeparators()
		if p.eof() {
			done()
			return out
		}
		name := p.token()
		if name == "" {
			return out // neither a scheme nor a parameter: give up on the rest
		}
		save := p.i
		p.skipSpace()
		if cur != nil && p.peek() == '=' {
			// name=value: a parameter of the current challenge.
			p.i++
			p.skipSpace()
			val, ok := p.value()
			if !ok {
				return out
			}
			k := strings.ToLower(name)
			if _, dup := cur.params[k]; dup {
				bad = true
			}
			cur.params[k] = val
			if !p.endOfItem() {
				return out
			}
			continue
		}
		// A new challenge: its scheme, then a token68, parameters, or nothing.
		p.i = save
		done()
		cur = &authChallenge{scheme: strings.ToLower(name), params: map[string]string{}}
		if p.eof() || p.peek() == ',' {
			continue
		}
		if p.peek() != ' ' && p.peek() != '\t' {
			return out
		}
		p.skipSpace()
		if p.token68() {
			continue
		}
	}
}

type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) eof() bool { return p.i >= len(p.s) }

func (p *challengeParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *challengeParser) skipSpace() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipListSeparators() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

// endOfItem reports whether only spaces stand before the next comma or the
// end, and moves there.
func (p *challengeParser) endOfItem() bool {
	p.skipSpace()
	return p.eof() || p.peek() == ','
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *challengeParser) token() string {
	start := p.i
	for !p.eof() && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 consumes a token68 (as Basic and Negotiate challenges carry) if
// one stands alone at the position, up to the next comma or the end.
func (p *challengeParser) token68() bool {
	j := p.i
	for j < len(p.s) && (isAlnum(p.s[j]) || strings.IndexByte("-._~+/", p.s[j]) >= 0) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return false // "name=value" or something else, not a token68
	}
	p.i = k
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// value reads a parameter's value: a token or a quoted string.
func (p *challengeParser) value() (string, bool) {
	if p.peek() != '"' {
		v := p.token()
		return v, v != ""
	}
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String(), true
		case c == '\\':
			if p.eof() || !quotable(p.s[p.i]) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case quotable(c):
			b.WriteByte(c)
		default:
			return "", false // a control character
		}
	}
	return "", false // no closing quote
}

// quotable: HTAB, SP, VCHAR and obs-text may stand in a quoted string.
func quotable(c byte) bool { return c == '\t' || c >= 0x20 && c != 0x7f }

// claimsChallenge finds a claims challenge among WWW-Authenticate values:
// a Bearer challenge with error="insufficient_claims" and claims that
// decode (base64, as Graph sends them, or plain) to a JSON object of
// claims requests of at most maxStepUpClaims bytes. The claims are
// returned as JSON text, ready for the authorize request's claims
// parameter.
func claimsChallenge(headers []string) (string, bool) {
	for _, h := range headers {
		for _, c := range parseChallenges(h) {
			if c.scheme != "bearer" || c.params["error"] != "insufficient_claims" {
				continue
			}
			if claims, ok := decodeClaims(c.params["claims"]); ok {
				return claims, true
			}
		}
	}
	return "", false
}

func decodeClaims(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 4*maxStepUpClaims {
		return "", false
	}
	claims := v
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			claims = string(b)
			break
		}
	}
	// What goes on to Entra ID is rebuilt from what was read: one JSON
	// object of claims requests (access_token, id_token, userinfo, each an
	// object), so duplicate names and odd spacing never reach it, small
	// enough for the pending sign-in cookie (real challenges are a few
	// hundred bytes).
	claims = strings.TrimSpace(claims)
	if len(claims) > maxStepUpClaims || !strings.HasPrefix(claims, "{") || !json.Valid([]byte(claims)) {
		return "", false
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(claims))
	d.UseNumber() // numbers pass unchanged
	if d.Decode(&m) != nil || len(m) == 0 {
		return "", false
	}
	for k, v := range m {
		if _, ok := v.(map[string]any); !ok || (k != "access_token" && k != "id_token" && k != "userinfo") {
			return "", false
		}
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > maxStepUpClaims {
		return "", false
	}
	return string(b), true
}
