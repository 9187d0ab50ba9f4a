package entratest

import "time"

// redeemed remembers a code after its redemption until it would have
// expired, so that a replay is recognised and revokes its tokens.
type redeemed struct {
	family string
	until  time.Time // how long the family stays revoked after a replay
	forget time.Time
}

// sweepLoop drops expired codes and revocations, keeping memory bounded
// by what is live.
func (s *Server) sweepLoop() {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

func (s *Server) sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.codes {
		if now.After(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, r := range s.redeemedCodes {
		if now.After(r.forget) {
			delete(s.redeemedCodes, k)
		}
	}
	for k, until := range s.families {
		if now.After(until) {
			delete(s.families, k)
		}
	}
}
