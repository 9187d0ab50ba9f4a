package boltstore

import "github.com/entraweb/entraweb/session"

// Importing this package makes "bolt" a session store that configuration
// can name (Entraweb:Session:Store).
func init() {
	session.Register("bolt", func(path string) (session.Store, func() error, error) {
		s, err := Open(path)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	})
}
