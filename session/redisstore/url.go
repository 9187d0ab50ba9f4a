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

	"github.com/redis/rueidis"
)

// Defaults for what a URL leaves out.
const (
	DefaultKeyPrefix = "entraweb:"
	DefaultTimeout   = time.Second
)

// Topologies a URL can name.
const (
	modeStandalone = "standalone"
	modeCluster    = "cluster"
	modeSentinel   = "sentinel"
)

// settings is what a URL describes.
type settings struct {
	opt       rueidis.ClientOption
	mode      string
	keyPrefix string
	// noCache is client_cache=false: read Redis on every Find.
	noCache bool
	// ignored names parameters that old URLs carry and this version
	// accepts without effect, for one log line at Open.
	ignored []string
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
	o := &s.opt
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
	o.InitAddress = []string{addr}
	if db := strings.Trim(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, fail("the path must be a database number such as /0, not %q", u.Path)
		}
		o.SelectDB = n
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fail("the query does not parse")
	}
	cluster := false
	dial, read, write := DefaultTimeout, DefaultTimeout, DefaultTimeout
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
				o.InitAddress = append(o.InitAddress, hp)
			}
		case "master_name":
			if v == "" {
				return nil, fail("master_name is empty")
			}
			o.Sentinel.MasterSet = v
		case "sentinel_username":
			o.Sentinel.Username = v
		case "sentinel_password":
			o.Sentinel.Password = v
		case "cluster":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fail("cluster must be true or false")
			}
			cluster = b
		case "client_cache":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fail("client_cache must be true or false")
			}
			s.noCache = !b
		case "local_cache_ttl":
			// The store's own TTL cache is gone: client-side caching
			// does its work without its staleness. An old URL still
			// opens; Open says once that the parameter does nothing.
			s.ignored = append(s.ignored, name)
		case "dial_timeout", "read_timeout", "write_timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fail("%s must be a positive duration such as 500ms or 2s, not %q", name, v)
			}
			switch name {
			case "dial_timeout":
				dial = d
			case "read_timeout":
				read = d
			default:
				write = d
			}
		case "pool_size":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return nil, fail("pool_size must be a positive number, not %q", v)
			}
			o.BlockingPoolSize = n
		default:
			return nil, fail("unknown parameter %q (known: addr, client_cache, cluster, dial_timeout, key_prefix, master_name, pool_size, read_timeout, sentinel_password, sentinel_username, write_timeout)", name)
		}
	}
	switch {
	case o.Sentinel.MasterSet != "" && cluster:
		return nil, fail("master_name (Sentinel) and cluster=true exclude each other")
	case o.Sentinel.MasterSet == "" && (o.Sentinel.Username != "" || o.Sentinel.Password != ""):
		return nil, fail("sentinel_username and sentinel_password need master_name")
	case o.Sentinel.MasterSet != "":
		s.mode = modeSentinel
	case cluster || len(o.InitAddress) > 1:
		// Several addresses without a master name are cluster seeds.
		s.mode = modeCluster
		if o.SelectDB != 0 {
			return nil, fail("a Redis Cluster has only database 0")
		}
	default:
		s.mode = modeStandalone
		// One address is one server: no probe for a cluster first.
		o.ForceSingleClient = true
	}

	o.Dialer = net.Dialer{Timeout: dial, KeepAlive: time.Second}
	if s.mode == modeSentinel {
		o.Sentinel.Dialer = o.Dialer
		if o.TLSConfig != nil {
			o.Sentinel.TLSConfig = o.TLSConfig.Clone()
		}
	}
	// rueidis has one bound for the reply to anything sent on a
	// connection (and for its keep-alive PINGs): the longer of the two.
	o.ConnWriteTimeout = max(read, write)
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
