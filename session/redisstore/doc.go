// Package redisstore is a session.Store in Redis (or Valkey), for an app
// that runs as several instances behind a load balancer. Every instance
// sees every session and every user's token cache, so no sticky sessions
// are needed: a sign-in started on one instance can finish on another, and
// signing out on one ends the session on all of them at their next
// request.
//
// # Use
//
// Import the package for its side effect and name the store in
// configuration:
//
//	import _ "github.com/entraweb/entraweb/session/redisstore"
//
//	// appsettings.json
//	"Entraweb": {"Session": {"Store": "redis", "RedisUrl": "rediss://:password@cache.example.com:6380/0", "Key": "..."}}
//
// or set ENTRAWEB_REDIS_URL, which selects this store by itself. Every
// instance needs the same Entraweb:Session:Key (openssl rand -base64 32):
// it seals the records in Redis and the cookie that carries a pending
// sign-in, so an instance with another key could finish neither. entraweb.New
// refuses the redis store without a configured key.
//
// # What is stored
//
// Each record is one Redis string: SET with a millisecond TTL that ends at
// the record's expiry, GET, DEL. The values arrive sealed (AES-256-GCM,
// bound to their key) by the session manager and the token cache, so
// Redis, its backups and anyone reading the wire without TLS see only
// ciphertext; a session's key is a hash of its cookie's id, not the id.
// Redis removes what has expired, so there is nothing to sweep. A
// signed-in request costs one GET; the session's last-seen time is
// written at most once per session.Manager.TouchInterval.
//
// # URL
//
//	redis://[user:password@]host[:port][/db][?param=value&...]
//	rediss://...   TLS (system roots; SSL_CERT_FILE or Config.TLSConfig for a private CA)
//
// The port defaults to 6379 and the database to 0. Parameters:
//
//	key_prefix=app1:      put before every key (default "entraweb:"); apps sharing a database need distinct ones
//	addr=host:port        another node; repeat it. Without master_name several nodes mean a Cluster
//	cluster=true          Redis Cluster behind a single address (a configuration endpoint)
//	master_name=mymaster  Sentinel: host and addr are the sentinels, user and password the data nodes'
//	sentinel_username=, sentinel_password=   the sentinels' own credentials
//	dial_timeout=, read_timeout=, write_timeout=   default 1s each
//	pool_size=N           connections per node (default 10 per CPU)
//
// Unknown parameters are errors. Errors and Redact show a URL with its
// passwords replaced by "xxxxx".
//
// # When Redis is down
//
// Every operation is bounded: 1s to dial, read or write, and
// Config.OpTimeout (2s) overall, whatever the request's context. A failed
// dial is not retried within a call, and once dials keep failing the
// client stops dialling per call and probes in the background every
// second. So during an outage a request that needs the store fails within
// milliseconds (a refused connection) or the timeouts (an unreachable
// host), and entraweb answers it with a 503 page or JSON that says the
// session is not lost: a store error is never taken for "signed out", and
// nothing is deleted because of one. When Redis is back, requests succeed
// again without a restart. Sessions survive a Redis restart as far as
// Redis persists them (appendonly yes, or RDB snapshots).
//
// # No local cache
//
// The store keeps no copy of its own: every request reads Redis, so the
// staleness after a sign-out on another instance is zero. (The session
// manager does keep decrypted records, but only reuses one when Redis
// hands back exactly the same bytes.) On loopback that GET costs a few
// tens of microseconds; see bench/run.sh for figures.
package redisstore
