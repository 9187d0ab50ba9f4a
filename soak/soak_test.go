package soak

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxUsers bounds ENTRAWEB_SOAK_USERS.
const maxUsers = 200

// Leeway after the run: goroutines above the count before it (the
// runtime's and net/http's own may linger a moment), and heap.
const (
	goroutineLeeway = 10
	heapLeeway      = 8 << 20
)

// TestSoak is make soak. ENTRAWEB_SOAK is the run's duration (e.g. 30s);
// without it the test is skipped. ENTRAWEB_SOAK_USERS (at most 200, the
// default) sets the number of virtual users.
func TestSoak(t *testing.T) {
	d, users := settings(t)
	// The faults' order comes from the seed; ENTRAWEB_SOAK_SEED repeats a
	// run's (the timing of everything else still varies).
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ENTRAWEB_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ENTRAWEB_SOAK_SEED=%q: want a number", v)
		}
		seed = n
	}
	t.Logf("fault seed %d (ENTRAWEB_SOAK_SEED=%d repeats the faults' order)", seed, seed)
	runtime.GC()
	baseGo := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc

	st := newStats(&faultLog{t0: time.Now()})
	r := newRig(t, users, st)
	seen, fails := &owners{}, &violations{}
	vus := make([]*user, users)
	for i := range vus {
		vus[i] = newUser(r, i, seen, fails)
	}

	sampling, stopSampling := context.WithCancel(context.Background())
	go st.sampleGoroutines(sampling)

	// The run: users start over the first two seconds; the injector runs
	// here until the end and undoes its last fault.
	ctx, cancel := context.WithTimeout(context.Background(), d)
	start := time.Now()
	st.faults.t0 = start
	var wg sync.WaitGroup
	for i, u := range vus {
		wg.Go(func() {
			if sleep(ctx, time.Duration(i)*2*time.Second/time.Duration(users)) {
				u.run(ctx)
			}
		})
	}
	r.inject(ctx, rand.New(rand.NewPCG(seed, 7)))
	st.ended.Store(true)
	wg.Wait()
	cancel()
	elapsed := time.Since(start)

	// Faults are over: everyone who did not sign out is still signed in,
	// at the app and at the proxy.
	time.Sleep(afterFault)
	st.ended.Store(false) // what fails from here on counts
	final, cancelFinal := context.WithTimeout(context.Background(), time.Minute)
	sem := make(chan struct{}, 20)
	for _, u := range vus {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			u.final(final)
		})
	}
	wg.Wait()
	cancelFinal()
	stopSampling()
	peakRSS := procStatus("VmHWM")

	// Everything stopped: goroutines and memory are back where they were.
	// The test lets go of its own data first (the users' browsers hold
	// the emulator, the samples grow with the run).
	r.close()
	r, vus, seen = nil, nil, nil
	st.freeze()
	afterGo := runtime.NumGoroutine()
	for deadline := time.Now().Add(15 * time.Second); afterGo > baseGo+goroutineLeeway && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		afterGo = runtime.NumGoroutine()
	}
	runtime.GC()
	runtime.GC() // sync.Pools are emptied over two collections
	runtime.ReadMemStats(&ms)
	afterHeap := ms.HeapAlloc
	if p := os.Getenv("ENTRAWEB_SOAK_HEAPPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}

	t.Log("\n" + st.report(summary{users: users, duration: elapsed, baseGo: baseGo, afterGo: afterGo,
		baseHeap: baseHeap, afterHeap: afterHeap, peakRSS: peakRSS, violations: fails.n}))
	t.Log("faults (seconds from the start):\n" + st.faults.timeline())
	for _, m := range fails.msgs {
		t.Error(m)
	}
	if fails.n > len(fails.msgs) {
		t.Errorf("... and %d more violations", fails.n-len(fails.msgs))
	}
	if afterGo > baseGo+goroutineLeeway {
		var b strings.Builder
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Errorf("%d goroutines after the run, %d before: leaked?\n%s", afterGo, baseGo, b.String())
	}
	if afterHeap > baseHeap+heapLeeway {
		t.Errorf("heap in use %d MB after the run, %d MB before: leaked?", afterHeap>>20, baseHeap>>20)
	}
}

// settings reads ENTRAWEB_SOAK and ENTRAWEB_SOAK_USERS, or skips.
func settings(t *testing.T) (time.Duration, int) {
	v := os.Getenv("ENTRAWEB_SOAK")
	if v == "" {
		t.Skip("SKIPPING the soak test: set ENTRAWEB_SOAK to a duration (make soak, or ENTRAWEB_SOAK=30s go test -v -run TestSoak ./soak/)")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 5*time.Second {
		t.Fatalf("ENTRAWEB_SOAK=%q: want a duration of at least 5s, such as 30s or 10m", v)
	}
	// The run, the final checks (a minute at most) and the teardown must
	// end before go test's -timeout, or the figures are never printed.
	if dl, ok := t.Deadline(); ok && time.Until(dl) < d+3*time.Minute {
		t.Fatalf("ENTRAWEB_SOAK=%s does not fit in go test's -timeout: give it %v or more (make soak SOAK_TIMEOUT=...)", v, (d + 3*time.Minute).Round(time.Minute))
	}
	users := maxUsers
	if v := os.Getenv("ENTRAWEB_SOAK_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUsers {
			t.Fatalf("ENTRAWEB_SOAK_USERS=%q: want a number from 1 to %d", v, maxUsers)
		}
		users = n
	}
	return d, users
}
