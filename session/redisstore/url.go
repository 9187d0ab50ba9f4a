package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults for what a URL leaves out.
const (
	DefaultKeyPrefix = "entraweb:"
	DefaultTimeout   = time.Second
)

// settings is what a URL describes.
type settings struct {
	opts          redis.UniversalOptions
	keyPrefix     string
	localCacheTTL time.Duration
}

// parseURL reads a redis:// or rediss:// URL. Its errors never contain the
// URL's password: they name the URL in its redacted form.
func parseURL(raw string) (*settings, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole input, password included.
		return nil, errors.New("redisstore: the Redis URL does not parse; it must look like redis://user:password@host:6379/0")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("redisstore: Redis URL %s: %s", Redact(raw), fmt.Sprintf(format, args...))
	}
	s := &settings{keyPrefix: DefaultKeyPrefix}
	o := &s.opts
	switch u.Scheme {
	case "redis":
	case "rediss":
		// No ServerName: each node is checked against the host it is
		// dialled by, which matters with several nodes.
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	default:
		return nil, fail("the scheme must be redis:// or rediss:// (TLS)")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fail("no host; write redis://host:6379")
	}
	if u.Fragment != "" {
		return nil, fail("a fragment (#...) has no meaning here")
	}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	addr, err := hostPort(u.Host)
	if err != nil {
		return nil, fail("%v", err)
	}
	o.Addrs = []string{addr}
	switch db := strings.Trim(u.Path, "/"); {
	case db == "":
	default:
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, fail("the path must be a database number such as /0, not %q", u.Path)
		}
		o.DB = n
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fail("the query does not parse")
	}
	cluster := false
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = DefaultTimeout, DefaultTimeout, DefaultTimeout
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		vs := q[name]
		v := vs[len(vs)-1]
		if name != "addr" && len(vs) > 1 {
			return nil, fail("parameter %s is given %d times", name, len(vs))
		}
		switch name {
		case "key_prefix":
			s.keyPrefix = v
		case "addr":
			for _, a := range vs {
				hp, err := hostPort(a)
				if err != nil {
					return nil, fail("addr: %v", err)
				}
				o.Addrs = append(o.Addrs, hp)
			}
		case "master_name":
			if v == "" {
				return nil, fail("master_name is empty")
			}
			o.MasterName = v
		case "sentinel_username":
			o.SentinelUsername = v
		case "sentinel_password":
			o.SentinelPassword = v
		case "cluster":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fail("cluster must be true or false")
			}
			cluster = b
		case "local_cache_ttl":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, fail("local_cache_ttl must be a duration such as 1s, not %q", v)
			}
			s.localCacheTTL = d
		case "dial_timeout", "read_timeout", "write_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fail("%s must be a positive duration such as 500ms or 2s, not %q", name, v)
			}
			switch name {
			case "dial_timeout":
				o.DialTimeout = d
			case "read_timeout":
				o.ReadTimeout = d
			default:
				o.WriteTimeout = d
			}
		case "pool_size":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fail("pool_size must be a positive number, not %q", v)
			}
			o.PoolSize = n
		default:
			return nil, fail("unknown parameter %q (known: addr, cluster, dial_timeout, key_prefix, local_cache_ttl, master_name, pool_size, read_timeout, sentinel_password, sentinel_username, write_timeout)", name)
		}
	}
	switch {
	case o.MasterName != "" && cluster:
		return nil, fail("master_name (Sentinel) and cluster=true exclude each other")
	case o.MasterName == "" && (o.SentinelUsername != "" || o.SentinelPassword != ""):
		return nil, fail("sentinel_username and sentinel_password need master_name")
	case o.MasterName == "" && (cluster || len(o.Addrs) > 1):
		// Several addresses without a master name are cluster seeds.
		o.IsClusterMode = true
		if o.DB != 0 {
			return nil, fail("a Redis Cluster has only database 0")
		}
	}
	return s, nil
}

// hostPort checks host[:port] and adds the default port 6379.
func hostPort(hp string) (string, error) {
	if hp == "" {
		return "", errors.New("empty address")
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		// No port: the whole thing is the host (brackets and all for IPv6).
		host, port = strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]"), "6379"
	}
	if host == "" || strings.ContainsAny(host, "/@?# ") {
		return "", fmt.Errorf("%q is not a host[:port]", hp)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("%q has no valid port", hp)
	}
	return net.JoinHostPort(host, port), nil
}

// Redact returns a Redis URL fit for logs and error messages: its password
// and the values of any parameter whose name mentions a password are
// replaced by "xxxxx". A URL that does not parse is not shown at all.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = "(unparsable query)"
		} else {
			for k := range q {
				if strings.Contains(strings.ToLower(k), "password") {
					q[k] = []string{"xxxxx"}
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}
