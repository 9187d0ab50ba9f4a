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
// Redis removes what has expired, so there is nothing to sweep. The
// session's last-seen time is written at most once per
// session.Manager.TouchInterval.
//
// # Reads from memory, invalidated by Redis
//
// The store talks to Redis with github.com/redis/rueidis over RESP3 and
// uses its client-side caching: a Find keeps what it read in this
// process, and Redis (CLIENT TRACKING) pushes an invalidation to every
// instance that holds a key the moment any instance writes or deletes
// it. So a signed-in request on an instance that has read the session
// before costs no Redis command at all, and a sign-out on one instance
// ends the session on the others within milliseconds: the push travels
// as fast as a reply would. A value is never kept past its record's
// expiry (the TTL is read with it), nor past a minute, nor once its
// connection is lost (the values it carried are dropped with it; rueidis
// pings an idle connection every second, so a silent one is found within
// about two). What this instance writes or deletes is seen by its next
// Find however soon it follows: the write and a PTTL of the key go out on
// the connection that caches the key, and the call returns only after
// the invalidation Redis sends between their replies has been applied.
//
// Redis 6 or later without a proxy in between is needed for this. When
// Redis refuses it (RESP2 only, CLIENT TRACKING blocked by a proxy or an
// ACL), the store logs one warning and reads Redis on every Find. The URL
// parameter client_cache=false turns caching off by choice.
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
//	dial_timeout=         to connect (default 1s)
//	read_timeout=, write_timeout=   for a reply on a connection (default 1s; rueidis has one bound for both, the longer is used)
//	client_cache=false    read Redis on every Find (default true)
//	pool_size=N           connections for commands that cannot share a connection; the store sends none,
//	                      its commands are pipelined on one connection per node (see below)
//
// Unknown parameters are errors. local_cache_ttl, the store's former
// time-based cache, is accepted and ignored with a logged warning: the
// client-side cache does its work without its staleness, and an
// upgraded app should not fail to start over it. Errors and Redact show a
// URL with its passwords replaced by "xxxxx".
//
// One connection per node carries everything, auto-pipelined: the
// ordering described above needs a key's writes and cached reads on the
// same connection, and reads that are answered from memory leave it
// idle most of the time.
//
// # When Redis is down
//
// Every operation is bounded: 1s to dial, 1s for a reply, one retry of a
// read after 10ms, and Config.OpTimeout (2s) overall, whatever the
// request's context. A refused connection fails at once, so during an
// outage a request that needs the store fails within milliseconds (or
// the timeouts, for an unreachable host), and entraweb answers it with a
// 503 page or JSON that says the session is not lost: a store error is
// never taken for "signed out", and nothing is deleted because of one.
// Values read before the outage are not served during it: they went
// with their connection. When Redis is back, requests succeed again
// without a restart. Sessions survive a Redis restart as far as Redis
// persists them (appendonly yes, or RDB snapshots).
//
// With Sentinel, a stopped master costs the failover's time (with a
// down-after-milliseconds of 1s, two to three seconds in the tests) of 503
// answers; the store follows the sentinels' +switch-master and asks them
// every two seconds as well, and carries on with the new master. In a
// Cluster, only the users whose sessions live on a master that is down
// get 503s.
package redisstore
