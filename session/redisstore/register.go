package redisstore

import "github.com/entraweb/entraweb/session"

// Importing this package makes "redis" a session store that configuration
// can name (Entraweb:Session:Store), with the Redis URL as the data
// source name.
func init() {
	session.Register("redis", func(url string) (session.Store, func() error, error) {
		s, err := Open(url)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	})
}
