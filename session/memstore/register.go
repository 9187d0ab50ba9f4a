package memstore

import "github.com/entraweb/entraweb/session"

// Importing this package makes "memory" a session store that
// configuration can name.
func init() {
	session.Register("memory", func(string) (session.Store, func() error, error) {
		s := New()
		return s, s.Close, nil
	})
}
