package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/redisstore"
	"github.com/entraweb/entraweb/session/storetest"
)

// The tests in this file start a Redis Cluster or a Sentinel setup on
// loopback and run only with ENTRAWEB_DISTRIBUTED=1 (make
// test-distributed).

func TestClusterConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return open(t, redisstore.Config{URL: c.URL(), KeyPrefix: uniquePrefix()})
	})
}

// TestClusterSpreadsKeys: keys land on every master (Redis hashes each
// key to a slot; the store puts no hash tag in its keys), and each is
// found again through the cluster client.
func TestClusterSpreadsKeys(t *testing.T) {
	c := redistest.StartCluster(t)
	s := open(t, redisstore.Config{URL: c.URL()})
	ctx := context.Background()
	const n = 300
	for i := range n {
		if err := s.Commit(ctx, fmt.Sprint("s:", i), []byte("v"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, m := range c.Masters {
		got, err := m.Do("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		k, _ := strconv.Atoi(got)
		t.Logf("master %s holds %d keys", m.Addr, k)
		if k == 0 {
			t.Errorf("master %s holds no key", m.Addr)
		}
		total += k
	}
	if total != n {
		t.Errorf("the masters hold %d keys, want %d", total, n)
	}
	for i := range n {
		if _, found, err := s.Find(ctx, fmt.Sprint("s:", i)); err != nil || !found {
			t.Fatalf("key %d: %v, %v", i, found, err)
		}
	}
}

func TestSentinelConformance(t *testing.T) {
	st := redistest.StartSentinel(t)
	storetest.Run(t, func(t *testing.T) session.Store {
		return open(t, redisstore.Config{URL: st.URL(), KeyPrefix: uniquePrefix()})
	})
}

// TestSentinelFailover stops the master under a store: until the
// sentinel has promoted the replica, calls fail (never "absent"); then
// the same store finds every key on the new master and writes there.
func TestSentinelFailover(t *testing.T) {
	st := redistest.StartSentinel(t)
	s := open(t, redisstore.Config{URL: st.URL()})
	ctx := context.Background()
	const n = 50
	for i := range n {
		if err := s.Commit(ctx, fmt.Sprint("s:", i), []byte("v"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Find(ctx, fmt.Sprint("s:", i)); err != nil || !found { // cached
			t.Fatal(found, err)
		}
	}
	waitReplicated(t, st)

	st.Master.Stop()
	stopped := time.Now()
	failed := 0
	for {
		_, found, err := s.Find(ctx, "s:0")
		if err == nil && !found {
			t.Fatalf("during the failover a key was reported absent (%v after the stop)", time.Since(stopped))
		}
		if err == nil {
			break
		}
		failed++
		if time.Since(stopped) > 30*time.Second {
			t.Fatalf("the store still fails 30s after the master stopped: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval
	}
	t.Logf("the store answered again %v after the master stopped (%d failed calls in between)", time.Since(stopped), failed)
	if addr, err := st.MasterAddr(); err != nil || addr != st.Replica.Addr {
		t.Fatalf("the sentinel reports the master at %s (%v), want the old replica %s", addr, err, st.Replica.Addr)
	}
	for i := range n {
		if _, found, err := s.Find(ctx, fmt.Sprint("s:", i)); err != nil || !found {
			t.Errorf("key %d after the failover: %v, %v", i, found, err)
		}
	}
	if err := s.Commit(ctx, "s:after", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("a write after the failover: %v", err)
	}
	if got, err := st.Replica.Do("EXISTS", redisstore.DefaultKeyPrefix+"s:after"); err != nil || got != "1" {
		t.Errorf("the write did not reach the new master: %q, %v", got, err)
	}
}

// waitReplicated waits until the replica holds as many keys as the
// master: replication is asynchronous, and a failover loses what the
// replica had not received.
func waitReplicated(t *testing.T, st *redistest.Sentinel) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err1 := st.Master.Do("DBSIZE")
		r, err2 := st.Replica.Do("DBSIZE")
		if err1 == nil && err2 == nil && m == r {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica holds %s keys, the master %s (%v, %v)", r, m, err1, err2)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
