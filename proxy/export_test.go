package proxy

import "time"

// SetClock replaces the clock the handler signs assertions by, before it
// serves anything.
func SetClock(h *Handler, now func() time.Time) { h.now = now }

// CleanPath is the path rules are matched against.
func CleanPath(p string) string { return cleanPath(p) }
