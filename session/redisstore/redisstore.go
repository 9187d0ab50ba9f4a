package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/rueidis"

	"github.com/entraweb/entraweb/session"
)

// DefaultOpTimeout bounds one Find, Commit or Delete when Config.OpTimeout
// is zero.
const DefaultOpTimeout = 2 * time.Second

// DefaultClientCacheSize bounds, in bytes, the values each connection
// keeps in memory when Config.ClientCacheSize is zero.
const DefaultClientCacheSize = 64 << 20

// maxCacheTTL bounds how long a value Find read stays in memory without
// Redis confirming it. Redis's invalidation ends it as soon as the key
// changes, and rueidis cuts it to the key's own TTL (it reads PTTL with
// the value), so this only caps the life of an entry whose invalidation
// went missing on a connection that stayed up.
const maxCacheTTL = time.Minute

// Config opens a Store with settings other than a URL's.
type Config struct {
	// URL locates Redis: redis://[user:password@]host[:port][/db][?params]
	// or rediss:// for TLS. See the package documentation for the
	// parameters (Sentinel, Cluster, timeouts, key prefix). Required.
	URL string
	// KeyPrefix goes before every key, so several apps can share a
	// database. Empty means the URL's key_prefix, else DefaultKeyPrefix.
	KeyPrefix string
	// TLSConfig replaces the TLS settings of a rediss:// URL: to trust a
	// private CA or present a client certificate. (The system roots and
	// SSL_CERT_FILE work without it.)
	TLSConfig *tls.Config
	// OpTimeout bounds each operation from start to end (connecting,
	// writing, reading, one retry), whatever deadline the caller's context
	// has or lacks. Zero means DefaultOpTimeout.
	OpTimeout time.Duration
	// ClientCacheSize bounds, in bytes, the values each connection keeps
	// in memory for Find (one connection per Redis node). Zero means
	// DefaultClientCacheSize.
	ClientCacheSize int
	// Logger receives the store's few events: Redis refusing client-side
	// caching, a URL parameter that no longer has an effect. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is a session.Store in Redis, safe for concurrent use.
type Store struct {
	prefix    string
	opTimeout time.Duration
	log       *slog.Logger
	url       string // redacted, for logs
	opt       rueidis.ClientOption

	cur atomic.Pointer[client] // nil until connected, and after Close

	mu      sync.Mutex
	dialing chan struct{} // closed when the connection attempt under way ends
	dialErr error         // why the last attempt failed
	retryAt time.Time     // no new attempt before this
	noCache bool          // read Redis on every Find: configured, or tracking refused
	closed  bool
}

// client is a rueidis client and whether it keeps values in memory.
type client struct {
	rueidis.Client
	cached bool
}

var _ session.Store = (*Store)(nil)

// Open connects to the Redis that url names, with the defaults for
// everything else. It does not wait for Redis to answer: a Redis that is
// down makes operations fail until it is back.
func Open(url string) (*Store, error) {
	return Config{URL: url}.Open()
}

// Open makes the Store c describes and starts connecting in the
// background.
func (c Config) Open() (*Store, error) {
	if c.URL == "" {
		return nil, errors.New("redisstore: Config.URL is empty (redis://host:6379)")
	}
	st, err := parseURL(c.URL)
	if err != nil {
		return nil, err
	}
	s := &Store{
		prefix:    c.KeyPrefix,
		opTimeout: c.OpTimeout,
		log:       c.Logger,
		url:       Redact(c.URL),
		opt:       st.opt,
		noCache:   st.noCache,
	}
	if s.prefix == "" {
		s.prefix = st.keyPrefix
	}
	if s.opTimeout <= 0 {
		s.opTimeout = DefaultOpTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	o := &s.opt
	if c.TLSConfig != nil {
		if o.TLSConfig == nil {
			return nil, fmt.Errorf("redisstore: Config.TLSConfig is set but the URL %s is not rediss://", s.url)
		}
		o.TLSConfig = c.TLSConfig.Clone()
		if st.mode == modeSentinel {
			o.Sentinel.TLSConfig = c.TLSConfig.Clone()
		}
	}
	o.CacheSizeEachConn = c.ClientCacheSize
	if o.CacheSizeEachConn <= 0 {
		o.CacheSizeEachConn = DefaultClientCacheSize
	}
	// One connection per node, every command pipelined on it. Find
	// caches on that connection, and Commit and Delete send their write
	// on it followed by a PTTL of the key: Redis queues the invalidation
	// of the key before the PTTL's reply, and rueidis applies a push
	// before it reads the reply after it. So when Commit returns, no
	// stale copy is left for this instance's next Find. With several
	// connections a write could return before the invalidation on the
	// caching connection is read.
	o.PipelineMultiplex = -1
	// Fail fast and recover alone: a read is retried once, after 10ms,
	// which covers a connection a Redis restart closed; nothing waits
	// longer. A dead connection is dialled again on the next call.
	o.RetryDelay = retryOnce
	if st.mode == modeSentinel {
		// Besides following +switch-master, ask the sentinels now and
		// then: one missed event would otherwise leave the store on a
		// demoted master.
		o.Sentinel.TopologyRefreshInterval = 2 * time.Second
	}
	if len(st.ignored) > 0 {
		s.log.Warn("redisstore: local_cache_ttl no longer has an effect: Find now serves repeated reads from memory with Redis invalidating them on every change (client-side caching), so there is no staleness to tune; remove the parameter", "url", s.url)
	}
	s.startDial() // so the first request may find a connection ready
	return s, nil
}

func retryOnce(attempts int, _ rueidis.Completed, _ error) time.Duration {
	if attempts > 1 {
		return -1
	}
	return 10 * time.Millisecond
}

// Find implements session.Store with a GET that rueidis answers from
// memory while Redis has not invalidated it. The slice it returns shares
// memory with that cache: callers must not write to it (session.Store
// says they do not).
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	ctx, op := s.bound(ctx)
	defer op.release()
	k := s.prefix + key
	var b []byte
	err := s.run(ctx, func(c *client) error {
		var r rueidis.RedisResult
		if c.cached {
			r = c.DoCache(ctx, c.B().Get().Key(k).Cache(), maxCacheTTL)
		} else {
			r = c.Do(ctx, c.B().Get().Key(k).Build())
		}
		var err error
		b, err = r.AsBytes()
		return err
	})
	if rueidis.IsRedisNil(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: find: %w", err)
	}
	if b == nil {
		b = []byte{} // an empty value is there, not absent
	}
	return b, true, nil
}

// Commit implements session.Store with a SET with a TTL in milliseconds
// that ends at expiry, measured on this machine's clock (a relative TTL,
// so Redis's clock does not matter). An expiry less than a millisecond
// away deletes key.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ttl := time.Until(expiry).Truncate(time.Millisecond)
	if ttl <= 0 {
		return s.Delete(ctx, key)
	}
	ctx, op := s.bound(ctx)
	defer op.release()
	k := s.prefix + key
	// string(data) copies: a command that outlives a timed-out call
	// must not read the caller's slice later.
	err := s.write(ctx, func(b rueidis.Builder) rueidis.Completed {
		return b.Set().Key(k).Value(string(data)).PxMilliseconds(ttl.Milliseconds()).Build()
	}, k)
	if err != nil {
		return fmt.Errorf("redisstore: commit: %w", err)
	}
	return nil
}

// Delete implements session.Store with a DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, op := s.bound(ctx)
	defer op.release()
	k := s.prefix + key
	err := s.write(ctx, func(b rueidis.Builder) rueidis.Completed {
		return b.Del().Key(k).Build()
	}, k)
	if err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}

// write sends the command cmd builds. On a caching client a PTTL of key
// follows it on the same connection, so the call returns only after
// rueidis has applied the invalidation Redis sends for this write (see
// the connection settings in Open).
func (s *Store) write(ctx context.Context, cmd func(rueidis.Builder) rueidis.Completed, key string) error {
	err := s.writeOnce(ctx, cmd, key)
	if err != nil && brokenConnection(err) && ctx.Err() == nil {
		// The connection broke under the command (Redis restarted, the
		// connection was killed, a failover): rueidis has a new one by
		// now. A store's writes (SET with its expiry, DEL) may run twice
		// with the same outcome, so one more try spares the caller an
		// error for what was a reconnection.
		err = s.writeOnce(ctx, cmd, key)
	}
	return err
}

// brokenConnection reports whether err is the loss of the connection a
// command was sent on, rather than Redis's answer to it.
func brokenConnection(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) || errors.As(err, &ne) && !ne.Timeout()
}

func (s *Store) writeOnce(ctx context.Context, cmd func(rueidis.Builder) rueidis.Completed, key string) error {
	return s.run(ctx, func(c *client) error {
		if !c.cached {
			return c.Do(ctx, cmd(c.B())).Error()
		}
		rs := c.DoMulti(ctx, cmd(c.B()), c.B().Pttl().Key(key).Build())
		if err := rs[0].Error(); err != nil {
			return err
		}
		return rs[1].Error()
	})
}

// Ping checks that Redis answers, for start-up checks and health probes.
func (s *Store) Ping(ctx context.Context) error {
	ctx, op := s.bound(ctx)
	defer op.release()
	err := s.run(ctx, func(c *client) error {
		return c.Do(ctx, c.B().Ping().Build()).Error()
	})
	if err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Close closes the connections. Calls after Close fail; closing twice is
// not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	c := s.cur.Swap(nil)
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
	return nil
}
