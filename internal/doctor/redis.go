package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkTracking asks Redis, on a connection of its own, for what the
// redis store's in-process cache needs: RESP3 (HELLO 3) and CLIENT
// TRACKING. Without them the store still works, reading Redis on every
// request. Only a single server is probed: Sentinel and Cluster URLs
// name other nodes than the data's.
func checkTracking(ctx context.Context, in Input) Result {
	r := Result{Name: "redis client-side caching", Status: Skip}
	if in.Quick {
		r.Message = "not probed (quick)"
		return r
	}
	u, err := url.Parse(in.RedisURL)
	if err != nil {
		r.Message = "not probed: the URL does not parse"
		return r
	}
	q := u.Query()
	switch {
	case q.Get("client_cache") == "false":
		r.Message = "off by choice (client_cache=false): every request reads Redis"
		return r
	case q.Has("master_name") || q.Has("addr") || q.Get("cluster") == "true":
		r.Message = "not probed for Sentinel or Cluster; the store logs a warning at start-up if Redis refuses it"
		return r
	}
	if err := probeTracking(ctx, u); err != nil {
		r.Status = Warn
		r.Message = "Redis refuses client-side caching (" + err.Error() + "): sessions work, but every request reads Redis"
		r.Fix = "use Redis 6 or later (or Valkey) without a proxy that blocks HELLO 3 and CLIENT TRACKING, and an ACL that allows them"
		return r
	}
	r.Status, r.Message = OK, "RESP3 and CLIENT TRACKING accepted: sessions are read from memory, invalidated by Redis"
	return r
}

// probeTracking sends HELLO 3 (with the URL's credentials) and CLIENT
// TRACKING ON. Its errors hold Redis's own answer, never the password.
func probeTracking(ctx context.Context, u *url.URL) error {
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "6379")
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if u.Scheme == "rediss" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		conn = tc
	}
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	hello := []string{"HELLO", "3"}
	if u.User != nil {
		pw, _ := u.User.Password()
		user := u.User.Username()
		if user == "" {
			user = "default"
		}
		hello = append(hello, "AUTH", user, pw)
	}
	rd := bufio.NewReader(conn)
	for _, cmd := range [][]string{hello, {"CLIENT", "TRACKING", "ON"}} {
		if _, err := conn.Write(encodeCommand(cmd)); err != nil {
			return err
		}
		if err := skipReply(rd, 0); err != nil {
			return fmt.Errorf("%s: %s", strings.Join(cmd[:min(2, len(cmd))], " "), safeText(err, u))
		}
	}
	return nil
}

// safeText is an error's text without what Redis may echo of the
// command: older versions quote the arguments of an unknown command,
// which for HELLO include the password.
func safeText(err error, u *url.URL) string {
	t := err.Error()
	if i := strings.Index(t, ", with args"); i >= 0 {
		t = t[:i]
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		t = strings.ReplaceAll(t, pw, "xxxxx")
	}
	return t
}

func encodeCommand(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// redisError is an error reply of Redis.
type redisError string

func (e redisError) Error() string { return string(e) }

// skipReply reads one RESP2 or RESP3 reply and returns Redis's error
// reply as an error.
func skipReply(rd *bufio.Reader, depth int) error {
	if depth > 8 {
		return errors.New("reply nested too deep")
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return errors.New("empty reply")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '-':
		return redisError(clip(rest))
	case '+', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(rest)
		if err != nil || n > 1<<20 {
			return errors.New("malformed reply")
		}
		if n < 0 {
			return nil
		}
		if _, err := rd.Discard(n + 2); err != nil {
			return err
		}
		if kind == '!' {
			return errors.New("error reply")
		}
		return nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(rest)
		if err != nil || n > 1<<16 {
			return errors.New("malformed reply")
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		for range n {
			if err := skipReply(rd, depth+1); err != nil {
				return err
			}
		}
		if kind == '|' { // attributes come before the reply they describe
			return skipReply(rd, depth)
		}
		return nil
	}
	return errors.New("not a Redis reply")
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
