package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url    string
		addrs  []string
		db     int
		user   string
		pass   string
		tls    bool
		mode   string
		master string
		prefix string
	}{
		{url: "redis://cache", addrs: []string{"cache:6379"}, mode: modeStandalone, prefix: DefaultKeyPrefix},
		{url: "redis://127.0.0.1:7000/3", addrs: []string{"127.0.0.1:7000"}, db: 3, mode: modeStandalone, prefix: DefaultKeyPrefix},
		{url: "rediss://app:s3cret@cache.example.com:6380/0", addrs: []string{"cache.example.com:6380"}, user: "app", pass: "s3cret", tls: true, mode: modeStandalone, prefix: DefaultKeyPrefix},
		{url: "redis://:s3cret@[::1]:6379", addrs: []string{"[::1]:6379"}, pass: "s3cret", mode: modeStandalone, prefix: DefaultKeyPrefix},
		{url: "redis://cache?key_prefix=myapp:", addrs: []string{"cache:6379"}, mode: modeStandalone, prefix: "myapp:"},
		{url: "redis://n1:7000?addr=n2:7000&addr=n3", addrs: []string{"n1:7000", "n2:7000", "n3:6379"}, mode: modeCluster, prefix: DefaultKeyPrefix},
		{url: "rediss://cfg.example.com?cluster=true", addrs: []string{"cfg.example.com:6379"}, mode: modeCluster, tls: true, prefix: DefaultKeyPrefix},
		{url: "redis://:s3cret@s1:26379/2?master_name=mymaster&addr=s2:26379", addrs: []string{"s1:26379", "s2:26379"}, db: 2, pass: "s3cret", mode: modeSentinel, master: "mymaster", prefix: DefaultKeyPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := parseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			o := s.opt
			if !slices.Equal(o.InitAddress, tt.addrs) || o.SelectDB != tt.db || o.Username != tt.user || o.Password != tt.pass ||
				(o.TLSConfig != nil) != tt.tls || s.mode != tt.mode || o.Sentinel.MasterSet != tt.master || s.keyPrefix != tt.prefix {
				t.Errorf("got addrs %v db %d user %q tls %v mode %s master %q prefix %q", o.InitAddress, o.SelectDB, o.Username, o.TLSConfig != nil, s.mode, o.Sentinel.MasterSet, s.keyPrefix)
			}
			if o.ForceSingleClient != (tt.mode == modeStandalone) {
				t.Errorf("ForceSingleClient %v in mode %s", o.ForceSingleClient, s.mode)
			}
			if o.Dialer.Timeout != DefaultTimeout || o.ConnWriteTimeout != DefaultTimeout {
				t.Errorf("timeouts dial %v, reply %v; want %v each", o.Dialer.Timeout, o.ConnWriteTimeout, DefaultTimeout)
			}
			if s.noCache {
				t.Error("client-side caching is off by default")
			}
		})
	}
}

func TestParseURLSentinel(t *testing.T) {
	s, err := parseURL("rediss://app:data-pw@s1:26379?master_name=m&sentinel_username=sen&sentinel_password=sen-pw&dial_timeout=300ms")
	if err != nil {
		t.Fatal(err)
	}
	o := s.opt
	if o.Username != "app" || o.Password != "data-pw" || o.Sentinel.Username != "sen" || o.Sentinel.Password != "sen-pw" {
		t.Errorf("credentials: data %q/%q, sentinel %q/%q", o.Username, o.Password, o.Sentinel.Username, o.Sentinel.Password)
	}
	// rueidis dials sentinels with these alone: a zero timeout there
	// would wait for the kernel.
	if o.Sentinel.Dialer.Timeout != 300*time.Millisecond || o.Sentinel.TLSConfig == nil {
		t.Errorf("sentinel dialer timeout %v, TLS %v", o.Sentinel.Dialer.Timeout, o.Sentinel.TLSConfig != nil)
	}
}

func TestParseURLOptions(t *testing.T) {
	s, err := parseURL("redis://h?dial_timeout=250ms&read_timeout=2s&write_timeout=1500ms&pool_size=7&client_cache=false")
	if err != nil {
		t.Fatal(err)
	}
	if o := s.opt; o.Dialer.Timeout != 250*time.Millisecond || o.ConnWriteTimeout != 2*time.Second || o.BlockingPoolSize != 7 {
		t.Errorf("dial %v, reply %v, pool %d", o.Dialer.Timeout, o.ConnWriteTimeout, o.BlockingPoolSize)
	}
	if !s.noCache {
		t.Error("client_cache=false left caching on")
	}
	// An old URL with the retired local cache still opens; Open logs that
	// the parameter does nothing (TestLocalCacheTTLIsIgnored).
	s, err = parseURL("redis://h?local_cache_ttl=1s")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.ignored, []string{"local_cache_ttl"}) {
		t.Errorf("ignored %v", s.ignored)
	}
}

// TestURLErrorsHideThePassword checks every refusal names the problem and
// never the password, wherever in the URL it is.
func TestURLErrorsHideThePassword(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://u:s3cret@h", "scheme"},
		{"redis://u:s3cret@h/x", "database number"},
		{"redis://u:s3cret@h?foo=bar", `unknown parameter "foo"`},
		{"redis://u:s3cret@h?read_timeout=-1s", "read_timeout"},
		{"redis://u:s3cret@h/1?addr=h2", "only database 0"},
		{"redis://u:s3cret@h?master_name=m&cluster=true", "exclude"},
		{"redis://h?sentinel_password=s3cret", "need master_name"},
		{"redis://u:s3cret@h:99999", "port"},
		{"redis://u:s3cret@h#frag", "fragment"},
		{"redis://u:s3cret%zz@h", "does not parse"},
		{"redis://u:s3cret@h?key_prefix=a&key_prefix=b", "2 times"},
		{"redis:///0", "no host"},
		{"redis://u:s3cret@h?client_cache=maybe", "client_cache"},
		{"redis://u:s3cret@h?pool_size=0", "pool_size"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseURL(tt.url)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis://cache:6379/0", "redis://cache:6379/0"},
		{"rediss://app:s3cret@cache:6380/1", "rediss://app:xxxxx@cache:6380/1"},
		{"redis://:s3cret@s1?master_name=m&sentinel_password=s3cret", "redis://:xxxxx@s1?master_name=m&sentinel_password=xxxxx"},
		{"redis://u:s3cret%zz@h", "(unparsable URL)"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
