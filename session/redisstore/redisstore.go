package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/entraweb/entraweb/session"
)

// DefaultOpTimeout bounds one Find, Commit or Delete when Config.OpTimeout
// is zero.
const DefaultOpTimeout = 2 * time.Second

// Config opens a Store with settings other than a URL's.
type Config struct {
	// URL locates Redis: redis://[user:password@]host[:port][/db][?params]
	// or rediss:// for TLS. See the package documentation for the
	// parameters (Sentinel, Cluster, timeouts, key prefix). Required
	// unless Client is set.
	URL string
	// KeyPrefix goes before every key, so several apps can share a
	// database. Empty means the URL's key_prefix, else DefaultKeyPrefix.
	KeyPrefix string
	// TLSConfig replaces the TLS settings of a rediss:// URL: to trust a
	// private CA or present a client certificate. (The system roots and
	// SSL_CERT_FILE work without it.)
	TLSConfig *tls.Config
	// OpTimeout bounds each operation from start to end (waiting for a
	// pooled connection, dialling, writing, reading), whatever deadline
	// the caller's context has or lacks. Zero means DefaultOpTimeout.
	OpTimeout time.Duration
	// LocalCacheTTL, when positive, turns on a cache in this process of
	// what Find reads, kept this long: a signed-in request then reads
	// Redis about once per LocalCacheTTL per session and instance. The
	// price is staleness: a session signed out (or a record changed) on
	// another instance stays usable here for up to LocalCacheTTL. What
	// this instance writes or deletes is seen at once. Zero (the default)
	// means no cache; the URL parameter local_cache_ttl sets it too.
	LocalCacheTTL time.Duration
	// LocalCacheSize bounds the entries of the local cache. Zero means
	// DefaultLocalCacheSize.
	LocalCacheSize int
	// Client, when set, is used as it is instead of a client made from
	// URL, and Close leaves it open. Give it short timeouts: a request
	// waits as long as the client does.
	Client redis.UniversalClient
}

// Store is a session.Store in Redis, safe for concurrent use.
type Store struct {
	c         redis.UniversalClient
	prefix    string
	opTimeout time.Duration
	owned     bool
	local     *localCache // nil: off
	now       func() time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ session.Store = (*Store)(nil)

// Open connects to the Redis that url names, with the defaults for
// everything else. It does not wait for Redis to answer: a Redis that is
// down makes operations fail until it is back.
func Open(url string) (*Store, error) {
	return Config{URL: url}.Open()
}

// Open makes the Store c describes.
func (c Config) Open() (*Store, error) {
	s := &Store{prefix: c.KeyPrefix, opTimeout: c.OpTimeout, now: time.Now}
	if s.opTimeout <= 0 {
		s.opTimeout = DefaultOpTimeout
	}
	ttl := c.LocalCacheTTL
	switch {
	case c.Client != nil:
		if c.URL != "" || c.TLSConfig != nil {
			return nil, errors.New("redisstore: Config.Client excludes URL and TLSConfig")
		}
		s.c = c.Client
	case c.URL == "":
		return nil, errors.New("redisstore: Config.URL is empty (redis://host:6379)")
	default:
		st, err := parseURL(c.URL)
		if err != nil {
			return nil, err
		}
		if s.prefix == "" {
			s.prefix = st.keyPrefix
		}
		if ttl == 0 {
			ttl = st.localCacheTTL
		}
		o := st.opts
		if c.TLSConfig != nil {
			if o.TLSConfig == nil {
				return nil, fmt.Errorf("redisstore: Config.TLSConfig is set but the URL %s is not rediss://", Redact(c.URL))
			}
			o.TLSConfig = c.TLSConfig.Clone()
		}
		// Fail fast and recover alone. One retry covers a pooled
		// connection that a Redis restart closed; a failed dial is not
		// retried, and once dials keep failing go-redis stops dialling
		// per call and probes in the background (every second) instead,
		// so an outage costs each request one refused connection or
		// less, never a storm.
		o.PoolTimeout = o.ReadTimeout
		o.MaxRetries = 1
		o.MinRetryBackoff = 10 * time.Millisecond
		o.MaxRetryBackoff = 100 * time.Millisecond
		o.DialerRetries = 1
		o.ContextTimeoutEnabled = true
		// Maintenance notifications are a Redis Enterprise handshake;
		// open source Redis refuses them on every new connection.
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		s.c = redis.NewUniversalClient(&o)
		s.owned = true
	}
	if s.prefix == "" {
		s.prefix = DefaultKeyPrefix
	}
	if ttl > 0 {
		s.local = newLocalCache(ttl, c.LocalCacheSize)
	}
	return s, nil
}

// bound gives ctx the store's deadline unless it has a sooner one.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opTimeout)
}

// Find implements session.Store with one GET. Redis hides a key once its
// TTL, set by Commit to the expiry, has run out.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var gen uint64
	if s.local != nil {
		b, ok, g := s.local.get(key, s.now())
		if ok {
			return b, true, nil
		}
		gen = g
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	b, err := s.c.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: find: %w", err)
	}
	if s.local != nil {
		s.local.put(key, b, gen, s.now())
	}
	return b, true, nil
}

// Commit implements session.Store with one SET with a TTL in
// milliseconds that ends at expiry, measured on this machine's clock (a
// relative TTL, so Redis's clock does not matter). An expiry less than a
// millisecond away deletes key.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ttl := time.Until(expiry).Truncate(time.Millisecond)
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// go-redis sends PX when the TTL is not whole seconds, EX otherwise.
	err := s.c.Set(ctx, s.prefix+key, data, ttl).Err()
	if s.local != nil {
		s.local.drop(key) // after the write, even a failed one
	}
	if err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	return nil
}

// Delete implements session.Store with one DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.c.Del(ctx, s.prefix+key).Err()
	if s.local != nil {
		s.local.drop(key)
	}
	if err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}

// Ping checks that Redis answers, for start-up checks and health probes.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the client the Store made (not one passed in
// Config.Client). Closing twice is not an error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			s.closeErr = s.c.Close()
		}
	})
	return s.closeErr
}
