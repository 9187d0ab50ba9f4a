package entratest

import (
	"fmt"
	"net/http"
	"time"
)

// Endpoint names a group of the emulator's endpoints, for counters and
// fault knobs.
type Endpoint int

// The endpoints the emulator counts calls of.
const (
	EndpointDiscovery       Endpoint = iota // /{tenant}/v2.0/.well-known/openid-configuration
	EndpointKeys                            // /{tenant}/discovery/v2.0/keys
	EndpointAuthorize                       // authorize, and the sign-in and consent forms it shows
	EndpointToken                           // /{tenant}/oauth2/v2.0/token
	EndpointLogout                          // /{tenant}/oauth2/v2.0/logout
	EndpointUserInfo                        // /oidc/userinfo
	EndpointInstance                        // /common/discovery/instance
	EndpointGraph                           // /v1.0/...
	EndpointManagedIdentity                 // /msi/token, the managed identity endpoint
	numEndpoints
)

var endpointNames = [numEndpoints]string{"discovery", "keys", "authorize", "token", "logout", "userinfo", "instance", "graph", "managedidentity"}

func (e Endpoint) String() string {
	if e >= 0 && e < numEndpoints {
		return endpointNames[e]
	}
	return fmt.Sprintf("Endpoint(%d)", int(e))
}

// TokenFault is a way the emulator can spoil the ID tokens it issues, to
// test that a relying party refuses them.
type TokenFault int

// The ID-token faults.
const (
	FaultNone          TokenFault = iota
	FaultExpired                  // exp and iat an hour in the past
	FaultNotYetValid              // nbf and iat an hour in the future
	FaultBadSignature             // signature bytes altered
	FaultUnsigned                 // alg "none" and no signature
	FaultHMAC                     // HS256, keyed with the signing key's public key (the classic key-confusion attack)
	FaultUnknownKID               // signed by a key that is not in the JWKS
	FaultWrongAudience            // aud is another client id
	FaultWrongIssuer              // iss of another tenant
	FaultWrongNonce               // nonce differs from the request's
	FaultMissingNonce             // no nonce claim
	FaultMissingOID               // no oid claim
	FaultMissingTID               // no tid claim
	FaultMissingSub               // no sub claim
	FaultMissingIAT               // no iat claim
	FaultMissingSID               // no sid claim (tenants that issue it only as an optional claim)
)

var faultNames = [...]string{"none", "expired", "not-yet-valid", "bad-signature", "unsigned", "hmac", "unknown-kid",
	"wrong-audience", "wrong-issuer", "wrong-nonce", "missing-nonce", "missing-oid", "missing-tid", "missing-sub", "missing-iat", "missing-sid"}

func (f TokenFault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("TokenFault(%d)", int(f))
}

// Outage is how the emulator answers while it is made unavailable.
type Outage int

// The outage modes.
const (
	OutageNone  Outage = iota
	Outage503          // every endpoint answers 503 temporarily_unavailable
	OutageReset        // every connection is closed without an answer
)

type faultState struct {
	idFault      tokenFaults
	atFault      tokenFaults // see FaultNextAccessTokens
	latency      time.Duration
	outage       Outage
	failStatus   [numEndpoints]int
	failLeft     [numEndpoints]int
	signInErr    int // next sign-in ends with this AADSTS code redirected to the app
	signInErrSet bool
	authContext  string // the authentication context Graph demands, if any
}

// FaultNextIDTokens spoils the next n ID tokens the token endpoint issues
// with f. FaultNone clears it.
func (s *Server) FaultNextIDTokens(f TokenFault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.idFault = tokenFaults{f, n}
}

func (s *Server) takeIDFault() TokenFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.idFault.take()
}

// tokenFaults is a fault for the next left tokens of a kind.
type tokenFaults struct {
	f    TokenFault
	left int
}

// take returns the fault for the next token (FaultNone once they are
// used up) and counts it.
func (t *tokenFaults) take() TokenFault {
	if t.left <= 0 {
		return FaultNone
	}
	t.left--
	return t.f
}

// SetLatency delays every answer by d (0 to stop).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = d
}

// SetOutage makes every endpoint unavailable (Outage503, OutageReset) or
// brings them back (OutageNone).
func (s *Server) SetOutage(o Outage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.outage = o
}

// FailNext makes the next n calls to ep answer with status (a 5xx), with
// the platform's JSON error body.
func (s *Server) FailNext(ep Endpoint, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failStatus[ep], s.faults.failLeft[ep] = status, n
}

// FailNextSignIn makes the next sign-in that would succeed redirect to the
// app with the error of an AADSTS code instead (e.g. 50105, 65004, 53003),
// so an app's handling of authorize errors can be tested.
func (s *Server) FailNextSignIn(aadsts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.signInErr, s.faults.signInErrSet = aadsts, true
}

func (s *Server) takeSignInFault() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.faults.signInErrSet {
		return 0, false
	}
	s.faults.signInErrSet = false
	return s.faults.signInErr, true
}

// RotateKeys makes a new signing key current. The old keys stay published
// until RetireOldKeys, as the platform overlaps its keys.
func (s *Server) RotateKeys() error {
	k, err := newSigningKey(time.Now())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append([]*signingKey{k}, s.keys...)
	return nil
}

// RetireOldKeys stops publishing every key but the current one.
func (s *Server) RetireOldKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[:1]
}

// SigningKeyID is the kid of the current signing key.
func (s *Server) SigningKeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[0].kid
}

// Calls is the number of requests ep has received.
func (s *Server) Calls(ep Endpoint) int64 { return s.calls[ep].Load() }

// ResetCalls sets every counter to zero.
func (s *Server) ResetCalls() {
	for i := range s.calls {
		s.calls[i].Store(0)
	}
}

// instrument counts calls to ep and applies the fault knobs.
func (s *Server) instrument(ep Endpoint, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls[ep].Add(1)
		s.mu.Lock()
		latency, outage := s.faults.latency, s.faults.outage
		status := 0
		if s.faults.failLeft[ep] > 0 {
			s.faults.failLeft[ep]--
			status = s.faults.failStatus[ep]
		}
		s.mu.Unlock()
		if latency > 0 {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case outage == OutageReset:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case outage == Outage503:
			status = http.StatusServiceUnavailable
		}
		if status != 0 {
			s.log.Info("entratest: request failed by a fault knob", "endpoint", ep.String(), "status", status, "aadsts", 90033)
			w.Header().Set("Retry-After", "1")
			s.writeJSONError(w, r, &aadError{status: status, code: 90033})
			return
		}
		h(w, r)
	})
}
