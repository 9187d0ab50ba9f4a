package redisstore

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		addrs   []string
		db      int
		user    string
		pass    string
		tls     bool
		cluster bool
		master  string
		prefix  string
	}{
		{url: "redis://cache", addrs: []string{"cache:6379"}, prefix: DefaultKeyPrefix},
		{url: "redis://127.0.0.1:7000/3", addrs: []string{"127.0.0.1:7000"}, db: 3, prefix: DefaultKeyPrefix},
		{url: "rediss://app:s3cret@cache.example.com:6380/0", addrs: []string{"cache.example.com:6380"}, user: "app", pass: "s3cret", tls: true, prefix: DefaultKeyPrefix},
		{url: "redis://:s3cret@[::1]:6379", addrs: []string{"[::1]:6379"}, pass: "s3cret", prefix: DefaultKeyPrefix},
		{url: "redis://cache?key_prefix=myapp:", addrs: []string{"cache:6379"}, prefix: "myapp:"},
		{url: "redis://n1:7000?addr=n2:7000&addr=n3", addrs: []string{"n1:7000", "n2:7000", "n3:6379"}, cluster: true, prefix: DefaultKeyPrefix},
		{url: "rediss://cfg.example.com?cluster=true", addrs: []string{"cfg.example.com:6379"}, cluster: true, tls: true, prefix: DefaultKeyPrefix},
		{url: "redis://:s3cret@s1:26379/2?master_name=mymaster&addr=s2:26379", addrs: []string{"s1:26379", "s2:26379"}, db: 2, pass: "s3cret", master: "mymaster", prefix: DefaultKeyPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := parseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			o := s.opts
			if !slices.Equal(o.Addrs, tt.addrs) || o.DB != tt.db || o.Username != tt.user || o.Password != tt.pass ||
				(o.TLSConfig != nil) != tt.tls || o.IsClusterMode != tt.cluster || o.MasterName != tt.master || s.keyPrefix != tt.prefix {
				t.Errorf("got addrs %v db %d user %q tls %v cluster %v master %q prefix %q", o.Addrs, o.DB, o.Username, o.TLSConfig != nil, o.IsClusterMode, o.MasterName, s.keyPrefix)
			}
			if o.DialTimeout != DefaultTimeout || o.ReadTimeout != DefaultTimeout || o.WriteTimeout != DefaultTimeout {
				t.Errorf("timeouts %v/%v/%v, want %v each", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, DefaultTimeout)
			}
		})
	}
}

func TestParseURLTimeouts(t *testing.T) {
	s, err := parseURL("redis://h?dial_timeout=250ms&read_timeout=2s&write_timeout=1500ms&pool_size=7&local_cache_ttl=500ms")
	if err != nil {
		t.Fatal(err)
	}
	if o := s.opts; o.DialTimeout != 250*time.Millisecond || o.ReadTimeout != 2*time.Second || o.WriteTimeout != 1500*time.Millisecond || o.PoolSize != 7 {
		t.Errorf("got %+v", o)
	}
	if s.localCacheTTL != 500*time.Millisecond {
		t.Errorf("local cache TTL %v", s.localCacheTTL)
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
