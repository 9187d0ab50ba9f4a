package entratest

import (
	"encoding/json"
	"strings"
)

// FaultNextAccessTokens spoils the next n access tokens the emulator
// issues (for any resource, Graph included, through any grant) with f, so
// that an API's refusal of each can be tested. The faults that concern
// access tokens are FaultExpired, FaultNotYetValid, FaultBadSignature,
// FaultUnsigned, FaultHMAC, FaultUnknownKID, FaultWrongAudience,
// FaultWrongIssuer, FaultMissingOID, FaultMissingTID, FaultMissingSub and
// FaultMissingIAT; the nonce and sid faults belong to ID tokens and leave
// an access token as it is (still counted). FaultNone clears the knob.
func (s *Server) FaultNextAccessTokens(f TokenFault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.atFault = tokenFaults{f, n}
}

func (s *Server) takeAccessFault() TokenFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := s.faults.atFault.take(); f {
	case FaultWrongNonce, FaultMissingNonce, FaultMissingSID:
		return FaultNone
	default:
		return f
	}
}

// requestedCapabilities reads the client capabilities a claims request
// declares (access_token.xms_cc.values, as MSAL's
// WithClientCapabilities sends them), lower-cased, for the xms_cc claim.
func requestedCapabilities(claims string) []string {
	if claims == "" {
		return nil
	}
	var m struct {
		AccessToken struct {
			CC struct {
				Values []string `json:"values"`
			} `json:"xms_cc"`
		} `json:"access_token"`
	}
	if json.Unmarshal([]byte(claims), &m) != nil {
		return nil
	}
	var out []string
	for _, v := range m.AccessToken.CC.Values {
		if v != "" && len(v) <= 32 && len(out) < 8 {
			out = append(out, strings.ToLower(v))
		}
	}
	return out
}
