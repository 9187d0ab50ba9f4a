package redistest

import (
	"strings"
	"testing"
)

func TestStartCluster(t *testing.T) {
	c := StartCluster(t)
	for _, m := range c.Masters {
		info, err := m.Do("CLUSTER", "INFO")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_assigned:16384") {
			t.Errorf("%s: %q", m.Addr, info)
		}
		role, err := m.Do("ROLE")
		if err != nil || !strings.HasPrefix(role, "master") {
			t.Errorf("%s: ROLE %q, %v", m.Addr, role, err)
		}
	}
}

func TestStartSentinel(t *testing.T) {
	st := StartSentinel(t)
	if got, err := st.MasterAddr(); err != nil || got != st.Master.Addr {
		t.Errorf("the sentinel reports the master at %q (%v), want %s", got, err, st.Master.Addr)
	}
	role, err := st.Replica.Do("ROLE")
	if err != nil || !strings.HasPrefix(role, "slave") {
		t.Errorf("replica: ROLE %q, %v", role, err)
	}
}
