package redistest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DistributedEnv names the variable that turns on the tests of Redis
// Cluster and Sentinel (make test-distributed sets it): they start
// several servers and wait for failovers, so go test ./... leaves them
// out.
const DistributedEnv = "ENTRAWEB_DISTRIBUTED"

// distributed skips t unless DistributedEnv is set.
func distributed(t testing.TB) {
	t.Helper()
	if os.Getenv(DistributedEnv) == "" {
		t.Skipf("SKIPPING: Redis Cluster and Sentinel tests run with %s=1 (make test-distributed; CI runs it)", DistributedEnv)
	}
}

// Cluster is a Redis Cluster of three masters without replicas, on
// loopback, with its data in append-only files so a restarted master
// comes back with its keys.
type Cluster struct {
	Masters [3]*Server
}

// StartCluster starts three cluster-enabled redis-servers, joins them
// with redis-cli --cluster create (the 16384 slots split in three) and
// waits until every node reports the cluster ok. The test is skipped
// unless DistributedEnv is set.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	distributed(t)
	bin := need(t, "redis-server", "redis-server")
	cli := need(t, "redis-cli", "redis-tools")
	c := &Cluster{}
	addrs := make([]string, 0, 3)
	for i := range c.Masters {
		s := &Server{t: t, bin: bin, cluster: true}
		s.launch()
		c.Masters[i] = s
		addrs = append(addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range c.Masters {
		for {
			info, err := s.Do("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redistest: the cluster is not ok on %s after 20s: %q %v", s.Addr, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// URL is a redis:// URL that names every master, which makes
// redisstore a cluster client.
func (c *Cluster) URL() string {
	return "redis://" + c.Masters[0].Addr + "?addr=" + c.Masters[1].Addr + "&addr=" + c.Masters[2].Addr
}

// WaitOK waits until every master reports the cluster ok again (after a
// restart), or fails t after timeout.
func (c *Cluster) WaitOK(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, s := range c.Masters {
		for {
			info, err := s.Do("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("redistest: the cluster is not ok on %s after %v: %v", s.Addr, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Sentinel is a master, a replica of it and one sentinel watching them,
// on loopback. The sentinel's quorum is 1, it calls the master down after
// a second without an answer and a failover gives up after three, so a
// stopped master is replaced within a few seconds.
type Sentinel struct {
	Master, Replica *Server
	Sentinel        *Server
	// MasterName is the name the sentinel knows the master by.
	MasterName string
}

// StartSentinel starts the master, the replica and the sentinel, and
// waits until the replica is in sync and the sentinel knows it (a
// failover needs both). The test is skipped unless DistributedEnv is set.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	distributed(t)
	bin := need(t, "redis-server", "redis-server")
	sbin := need(t, "redis-sentinel", "redis-sentinel")
	st := &Sentinel{MasterName: "mymaster"}
	st.Master = &Server{t: t, bin: bin}
	st.Master.launch()
	host, port := splitAddr(st.Master.Addr)
	st.Replica = &Server{t: t, bin: bin, extra: []string{"--replicaof", host, port}}
	st.Replica.launch()
	var conf bytes.Buffer
	fmt.Fprintf(&conf, "sentinel monitor %s %s %s 1\n", st.MasterName, host, port)
	fmt.Fprintf(&conf, "sentinel down-after-milliseconds %s 1000\n", st.MasterName)
	fmt.Fprintf(&conf, "sentinel failover-timeout %s 3000\n", st.MasterName)
	fmt.Fprintf(&conf, "sentinel parallel-syncs %s 1\n", st.MasterName)
	st.Sentinel = &Server{t: t, bin: sbin, sentinel: conf.String()}
	st.Sentinel.launch()

	deadline := time.Now().Add(20 * time.Second)
	for {
		repl, err1 := st.Replica.Do("INFO", "replication")
		known, err2 := st.Sentinel.Do("SENTINEL", "REPLICAS", st.MasterName)
		if err1 == nil && err2 == nil && strings.Contains(repl, "master_link_status:up") && strings.Contains(known, st.Replica.Addr) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: the sentinel setup is not ready after 20s: replica %q (%v), sentinel knows %q (%v)", repl, err1, known, err2)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is a redis:// URL that names the sentinel and the master's name,
// which makes redisstore a Sentinel client.
func (st *Sentinel) URL() string {
	return "redis://" + st.Sentinel.Addr + "?master_name=" + st.MasterName
}

// MasterAddr is the master's address as the sentinel reports it now.
func (st *Sentinel) MasterAddr() (string, error) {
	reply, err := st.Sentinel.Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", st.MasterName)
	if err != nil {
		return "", err
	}
	host, port, ok := strings.Cut(reply, "\n")
	if !ok {
		return "", fmt.Errorf("redistest: SENTINEL GET-MASTER-ADDR-BY-NAME answered %q", reply)
	}
	return host + ":" + port, nil
}

func splitAddr(addr string) (host, port string) {
	i := strings.LastIndex(addr, ":")
	return addr[:i], addr[i+1:]
}
