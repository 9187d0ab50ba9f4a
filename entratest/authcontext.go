package entratest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
)

// Conditional Access authentication context: Graph can be made to demand
// an authentication context (RequireAuthContext), answering tokens without
// it with a claims challenge; a claims request for access_token.acrs at
// authorize or the token endpoint puts the asked contexts in the access
// tokens' acrs claim.

// maxACRS bounds the authentication contexts one request can ask for (the
// platform has c1 to c99).
const maxACRS = 99

// RequireAuthContext makes the emulated Graph refuse every delegated access
// token whose acrs claim lacks id (an authentication context id such as
// "c1") with a 401 claims challenge, as Graph does when a Conditional
// Access policy targets an authentication context. An empty id clears it.
func (s *Server) RequireAuthContext(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.authContext = id
}

// ClearAuthContext stops Graph demanding an authentication context.
func (s *Server) ClearAuthContext() { s.RequireAuthContext("") }

func (s *Server) requiredAuthContext() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.authContext
}

// requestedACRS reads the authentication contexts a claims request asks
// the access token to carry: access_token.acrs.value or .values. Any other
// claims request (client capabilities xms_cc, MSAL Node's default claims)
// asks for none.
func requestedACRS(claims string) []string {
	if claims == "" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(claims), &m) != nil {
		return nil
	}
	at, _ := m["access_token"].(map[string]any)
	acrs, _ := at["acrs"].(map[string]any)
	var out []string
	add := func(v any) {
		if id, ok := v.(string); ok && id != "" && len(id) <= 64 && len(out) < maxACRS && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	add(acrs["value"])
	if vs, ok := acrs["values"].([]any); ok {
		for _, v := range vs {
			add(v)
		}
	}
	return out
}

// mergeACRS joins two lists of authentication contexts without repeats.
func mergeACRS(a, b []string) []string {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) && len(out) < maxACRS {
			out = append(out, id)
		}
	}
	return out
}

// hasACR reports whether a verified token's acrs claim holds id.
func (p *jwtParts) hasACR(id string) bool {
	vs, _ := p.claims["acrs"].([]any)
	return slices.Contains(vs, any(id))
}

// authContextChallenge answers a Graph request with the claims challenge
// for authentication context id. The claims are standard base64, as Graph
// sends them (unlike the base64url of JWTs).
func (s *Server) authContextChallenge(w http.ResponseWriter, r *http.Request, id string) {
	claims, _ := json.Marshal(map[string]any{"access_token": map[string]any{"acrs": map[string]any{"essential": true, "value": id}}})
	w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.URL+`/common/oauth2/authorize", client_id="`+GraphAppID+
		`", error="insufficient_claims", claims="`+base64.StdEncoding.EncodeToString(claims)+`"`)
	s.graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken",
		"The access token lacks the authentication context '"+clip(id)+"' a Conditional Access policy requires; ask for a token with the claims of the WWW-Authenticate challenge.")
}
