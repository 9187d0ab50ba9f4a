// Package redistest runs a real redis-server for tests: on a free
// loopback port, with its data (an append-only file) in a temporary
// directory, stopped when the test ends. It can be stopped and started
// again on the same port, to play an outage.
//
// Without the redis-server binary a test is skipped with a message saying
// how to install it, except under CI (CI set to anything), where it fails:
// CI installs redis-server, so a missing binary there is a broken machine,
// not a reason to run less.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/testenv"
)

// Server is a redis-server child process.
type Server struct {
	// Addr is host:port on 127.0.0.1, the same across restarts.
	Addr string

	t        testing.TB
	bin      string
	dir      string
	password string
	debug    bool
	// extra goes after the standard redis-server arguments (a replica's
	// replicaof); sentinel, when set, makes this a redis-sentinel with
	// that configuration; cluster makes it a cluster node, with its bus
	// on clusterPort (see topology.go).
	extra       []string
	sentinel    string
	cluster     bool
	clusterPort string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Options changes how Start runs the server.
type Options struct {
	// Password, when set, is required of clients (requirepass).
	Password string
	// Debug allows the DEBUG command from loopback clients (Redis 7 or
	// later), for tests that change how the server expires keys.
	Debug bool
}

// Start runs redis-server for t and stops it in t.Cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{t: t, bin: need(t, "redis-server", "redis-server"), password: o.Password, debug: o.Debug}
	s.launch()
	return s
}

// need returns the path of the program bin, which Debian's package pkg
// installs. Without it the test is skipped, loudly, except under CI,
// where it fails.
func need(t testing.TB, bin, pkg string) string {
	t.Helper()
	return testenv.LookPath(t, "apt-get install -y "+pkg, bin)
}

// launch starts s for the first time on free loopback ports and stops it
// in t.Cleanup.
func (s *Server) launch() {
	s.t.Helper()
	s.dir = s.t.TempDir()
	s.t.Cleanup(s.Stop)
	// A free port may be taken between finding it and the server
	// binding it: then try others.
	for try := 1; ; try++ {
		s.Addr = freeAddr(s.t)
		if s.cluster {
			_, s.clusterPort, _ = net.SplitHostPort(freeAddr(s.t))
		}
		err := s.start()
		if err == nil {
			return
		}
		if try == 3 {
			s.t.Fatal(err)
		}
	}
}

// URL is a redis:// URL for the server, with its password if it has one.
func (s *Server) URL() string {
	if s.password != "" {
		return "redis://:" + s.password + "@" + s.Addr
	}
	return "redis://" + s.Addr
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Restart starts the server again after Stop (Start has already started
// it once). The data written before Stop is read back from its file.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redistest: Restart of a running server")
	}
	args, err := s.args()
	if err != nil {
		return err
	}
	out := &bytes.Buffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.ping(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			s.cmd = nil
			return fmt.Errorf("redistest: redis-server did not answer PING within 10s: %v\n%s", err, out)
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("redistest: redis-server on %s exited at start:\n%s", s.Addr, out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// args are the command line of the server.
func (s *Server) args() ([]string, error) {
	_, port, _ := net.SplitHostPort(s.Addr)
	if s.sentinel != "" {
		// redis-sentinel rewrites its file as it learns the topology, so
		// a restart starts from what it knew.
		conf := filepath.Join(s.dir, "sentinel.conf")
		if _, err := os.Stat(conf); os.IsNotExist(err) {
			if err := os.WriteFile(conf, []byte(s.sentinel), 0o600); err != nil {
				return nil, err
			}
		}
		return []string{conf, "--port", port, "--bind", "127.0.0.1", "--dir", s.dir, "--daemonize", "no", "--logfile", ""}, nil
	}
	args := []string{
		"--port", port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--daemonize", "no", "--logfile", "", "--databases", "16",
	}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	if s.debug {
		args = append(args, "--enable-debug-command", "local")
	}
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-port", s.clusterPort,
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "3000")
	}
	return append(args, s.extra...), nil
}

// Stop shuts the server down (SIGTERM, so it flushes its append-only
// file) and waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// ping sends PING and wants PONG, authenticating first when needed.
func (s *Server) ping() error {
	reply, err := s.Do("PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// Do sends one command on a new connection and returns the reply as text:
// a simple or bulk string as is, an integer in decimal, an error as a Go
// error. It is enough for the few commands tests need (INFO, DBSIZE, TTL,
// KEYS) without a client library.
func (s *Server) Do(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	if s.password != "" {
		if _, err := roundTrip(conn, r, "AUTH", s.password); err != nil {
			return "", err
		}
	}
	return roundTrip(conn, r, args...)
}

func roundTrip(conn net.Conn, r *bufio.Reader, args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(r)
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err // a nil bulk string reads as ""
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		var parts []string
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// Calls returns how many times each data command has run since the
// server started or since ResetStats, from INFO commandstats, keyed by
// lower-case command name ("get", "set", "del"). The commands of the
// counting itself (INFO, CONFIG RESETSTAT) are left out.
func (s *Server) Calls() map[string]int {
	s.t.Helper()
	info, err := s.Do("INFO", "commandstats")
	if err != nil {
		s.t.Fatalf("redistest: INFO commandstats: %v", err)
	}
	calls := ParseCommandStats(info)
	for name := range calls {
		if name == "info" || strings.HasPrefix(name, "config") {
			delete(calls, name)
		}
	}
	return calls
}

// ParseCommandStats reads the calls of each command from the text of INFO
// commandstats.
func ParseCommandStats(info string) map[string]int {
	calls := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				n, _ := strconv.Atoi(v)
				calls[strings.TrimPrefix(name, "cmdstat_")] = n
			}
		}
	}
	return calls
}

// ResetStats zeroes the command counters (CONFIG RESETSTAT).
func (s *Server) ResetStats() {
	s.t.Helper()
	if _, err := s.Do("CONFIG", "RESETSTAT"); err != nil {
		s.t.Fatalf("redistest: CONFIG RESETSTAT: %v", err)
	}
}
