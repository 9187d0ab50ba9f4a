package entratest

import (
	"net/http"
	"time"
)

// SetClockSkew moves the emulator's clock d away from its Options.Now (d
// may be negative; 0 puts it back): the tokens it issues, the expiry
// checks it makes and the Date header of every answer follow, as they
// would on a provider whose clock differs from the relying party's.
func (s *Server) SetClockSkew(d time.Duration) { s.skew.Store(int64(d)) }

// dated sets the Date header from the emulator's clock, so that clients
// comparing it with theirs (entraweb doctor) see its skew.
func (s *Server) dated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	})
}
