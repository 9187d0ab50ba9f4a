package entraweb

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

// openStore builds the session manager on the configured store.
func (a *Auth) openStore(ctx context.Context, cfg Config) error {
	s := a.s
	keys := s.sessionKeys
	store := cfg.Store
	if store == nil {
		// The store is what configuration names; linking a store package
		// only makes its name available and changes no default.
		switch s.store {
		case "", "memory":
			mem := memstore.New()
			store = mem
			a.closers = append(a.closers, mem.Close)
			if len(keys) == 0 {
				keys = [][]byte{randomKey()}
			}
		case "bolt":
			open, ok := session.Opener("bolt")
			if !ok {
				return errors.New(`entraweb: Entraweb:Session:Store is "bolt" but the bolt store is not linked in: add: import _ "github.com/entraweb/entraweb/session/boltstore"`)
			}
			path := cfg.Session.Path // validate made sure of one
			st, closer, err := open(path)
			if err != nil {
				return fmt.Errorf("entraweb: session store: %w", err)
			}
			store = st
			a.closers = append(a.closers, closer)
			if len(keys) == 0 {
				k, err := keyBeside(path)
				if err != nil {
					a.Close()
					return err
				}
				s.log.Warn("entraweb: sessions are encrypted with a key generated beside the store; production needs its own key in Entraweb:Session:Key (openssl rand -base64 32)", "key_file", path+".key")
				keys = [][]byte{k}
			}
		case "redis":
			open, ok := session.Opener("redis")
			if !ok {
				return errors.New(`entraweb: Entraweb:Session:Store is "redis" but the redis store is not linked in: add: import _ "github.com/entraweb/entraweb/session/redisstore"`)
			}
			dsn, err := redisDSN(string(cfg.Session.RedisURL), cfg.Session.KeyPrefix)
			if err != nil {
				return err
			}
			// redisstore's errors show the URL with its password redacted.
			st, closer, err := open(dsn)
			if err != nil {
				return fmt.Errorf("entraweb: session store: %w", err)
			}
			store = st
			a.closers = append(a.closers, closer)
			// validate made sure of a configured key: a random one per
			// process would strand every session on its instance.
		}
	}
	if p, ok := store.(interface{ Ping(context.Context) error }); ok {
		// A store that is down at start-up is not fatal (it may come back
		// before the first request), but it should not go unnoticed.
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			s.log.Warn("entraweb: the session store does not answer; requests that need it get 503 until it does", "err", err)
		}
	}
	if cfg.Observe != nil {
		store = observedStore{Store: store, observe: cfg.Observe}
	}
	if len(keys) == 0 {
		return errors.New("entraweb: Entraweb:Session:Key is required with a store built in code (make one with: openssl rand -base64 32)")
	}
	box, err := session.NewBox(keys...)
	if err != nil {
		return fmt.Errorf("entraweb: session key: %w", err)
	}
	a.sessions = &session.Manager{
		Store:       store,
		Box:         box,
		IdleTimeout: s.idle,
		Lifetime:    s.life,
		IsSecure:    s.origin.Secure,
		Now:         func() time.Time { return s.now() },
		Logger:      s.log,
	}
	a.pending = &pendingJar{box: box, now: func() time.Time { return s.now() }}
	return nil
}

// redisDSN adds the configured key prefix to a Redis URL as the
// key_prefix parameter redisstore reads.
func redisDSN(raw, prefix string) (string, error) {
	if prefix == "" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw, nil // redisstore explains, without the password
	}
	q := u.Query()
	if p := q.Get("key_prefix"); p != "" && p != prefix {
		return "", fmt.Errorf("entraweb: Entraweb:Session:KeyPrefix %q differs from the RedisUrl's key_prefix %q: keep one", prefix, p)
	}
	q.Set("key_prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// keyBeside reads the key kept next to a store file, making it on first
// use (readable by the owner only).
func keyBeside(path string) ([]byte, error) {
	kf := path + ".key"
	b, err := os.ReadFile(kf)
	if err == nil {
		k, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("entraweb: %s: %w", kf, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("entraweb: session key file: %w", err)
	}
	k := randomKey()
	if err := os.MkdirAll(filepath.Dir(kf), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(kf, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("entraweb: session key file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		return nil, err
	}
	return k, nil
}
