package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entraweb/entraweb"
)

// maxSamples bounds the latencies kept per operation: beyond it, a
// uniform sample of them (reservoir sampling) is kept.
const maxSamples = 200_000

// latencies keeps request durations of one kind for percentiles.
type latencies struct {
	mu   sync.Mutex
	n    int
	kept []time.Duration
	// frozen holds the figures once freeze has dropped the samples.
	frozen *[3]time.Duration
}

// freeze computes the figures and lets the samples go, so that the heap
// measured after the run holds none of the test's own data.
func (l *latencies) freeze() {
	_, p50, p99, mx := l.percentiles()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen, l.kept = &[3]time.Duration{p50, p99, mx}, nil
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frozen != nil {
		return
	}
	l.n++
	if len(l.kept) < maxSamples {
		l.kept = append(l.kept, d)
	} else if i := rand.IntN(l.n); i < maxSamples {
		l.kept[i] = d
	}
}

// percentiles returns the count, p50, p99 and maximum.
func (l *latencies) percentiles() (int, time.Duration, time.Duration, time.Duration) {
	l.mu.Lock()
	if f := l.frozen; f != nil {
		l.mu.Unlock()
		return l.n, f[0], f[1], f[2]
	}
	s := slices.Clone(l.kept)
	n := l.n
	l.mu.Unlock()
	if len(s) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return n, at(0.50), at(0.99), s[len(s)-1]
}

// tally counts things by name.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int{}
	}
	t.m[name]++
}

func (t *tally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.m))
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

// stats are the run's figures: what Config.Observe reported, and what the
// virtual users measured.
type stats struct {
	faults *faultLog
	ended  atomic.Bool // the users have stopped

	// From Config.Observe (the three app instances and the proxy).
	signIns        atomic.Int64
	refreshes      atomic.Int64
	refreshTime    latencies
	storeTime      latencies
	observedErrors tally // "sign_in_failed/reason", "token_refresh/reason", "refused/503 reason", "store/op", each "injected" or "not injected"

	// From the virtual users.
	requests     atomic.Int64 // answers received by the front and the proxy
	ops          map[string]*latencies
	outcomes     tally // "op ok", "op during <fault>", "op VIOLATION"
	waitMu       sync.Mutex
	longestWait  time.Duration
	longestStory string
	stale        latencies // how long ended sessions were still served elsewhere
	signOuts     atomic.Int64
	peakGo       atomic.Int64
}

func newStats(faults *faultLog) *stats {
	s := &stats{faults: faults, ops: map[string]*latencies{}}
	for _, op := range []string{"sign-in", "page", "token", "proxy", "proxy-sign-in", "sign-out", "proxy-sign-out"} {
		s.ops[op] = &latencies{}
	}
	return s
}

// observe is every instance's Config.Observe.
func (s *stats) observe(_ context.Context, e entraweb.Event) {
	now := time.Now()
	cause := func(what string) {
		if s.ended.Load() {
			// Users' requests cut short by the end of the run.
			s.observedErrors.add(what + " (after the run's end)")
		} else if f := s.faults.excuse(now, now); f != "" {
			s.observedErrors.add(what + " (injected: " + f + ")")
		} else {
			s.observedErrors.add(what + " (NOT injected)")
		}
	}
	switch e.Kind {
	case entraweb.EventSignIn:
		s.signIns.Add(1)
	case entraweb.EventSignInFailed:
		cause(fmt.Sprintf("sign-in failed %d %s%s", e.Status, e.Reason, aadsts(e.AADSTS)))
	case entraweb.EventTokenRefresh:
		s.refreshes.Add(1)
		s.refreshTime.add(e.Duration)
		if e.Err != nil {
			cause("token refresh failed " + e.Reason + aadsts(e.AADSTS) + errClass(e.Err))
		}
	case entraweb.EventRefused:
		cause(fmt.Sprintf("refused %d %s", e.Status, e.Reason))
	case entraweb.EventStore:
		s.storeTime.add(e.Duration)
		if e.Err != nil {
			cause("store " + e.Op + " failed" + errClass(e.Err))
		}
	}
}

// errClass tells a request its client gave up on from a timeout and from
// a failure.
func errClass(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return ": client gone"
	case errors.Is(err, context.DeadlineExceeded):
		return ": timeout"
	}
	return ""
}

func aadsts(code string) string {
	if code == "" {
		return ""
	}
	return " AADSTS" + code
}

// freeze drops every sample (see latencies.freeze).
func (s *stats) freeze() {
	for _, l := range s.ops {
		l.freeze()
	}
	s.refreshTime.freeze()
	s.storeTime.freeze()
	s.stale.freeze()
}

// waited records how long a user waited, from the first failed answer of
// a fault to the next good one, and keeps the longest wait's story.
func (s *stats) waited(d time.Duration, story string) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if d > s.longestWait {
		s.longestWait, s.longestStory = d, story
	}
}

// sampleGoroutines keeps the peak goroutine count until ctx ends.
func (s *stats) sampleGoroutines(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if n := int64(runtime.NumGoroutine()); n > s.peakGo.Load() {
			s.peakGo.Store(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// procStatus reads a "kB" line of /proc/self/status (VmHWM, VmRSS) in
// bytes; 0 where there is no /proc.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n << 10
		}
	}
	return 0
}

// summary is the table printed at the end of a run.
type summary struct {
	users           int
	duration        time.Duration
	baseGo, afterGo int
	baseHeap        uint64
	afterHeap       uint64
	peakRSS         int64
	violations      int
}

func (s *stats) report(sum summary) string {
	var b strings.Builder
	secs := sum.duration.Seconds()
	fmt.Fprintf(&b, "soak: %d virtual users for %s\n", sum.users, sum.duration.Round(time.Second))
	fmt.Fprintf(&b, "  sign-ins            %7d  (%.1f/s, Observe)\n", s.signIns.Load(), float64(s.signIns.Load())/secs)
	fmt.Fprintf(&b, "  sign-outs           %7d\n", s.signOuts.Load())
	fmt.Fprintf(&b, "  requests served     %7d  (%.0f/s, front and proxy)\n", s.requests.Load(), float64(s.requests.Load())/secs)
	n, p50, p99, mx := s.refreshTime.percentiles()
	fmt.Fprintf(&b, "  token refreshes     %7d  (%.1f/s) p50 %v p99 %v max %v (Observe)\n", s.refreshes.Load(), float64(s.refreshes.Load())/secs, ms(p50), ms(p99), ms(mx))
	_ = n
	n, p50, p99, mx = s.storeTime.percentiles()
	fmt.Fprintf(&b, "  store calls         %7d  p50 %v p99 %v max %v (Observe)\n", n, ms(p50), ms(p99), ms(mx))
	fmt.Fprintf(&b, "  %-18s %8s %9s %9s %9s\n", "user operation", "count", "p50", "p99", "max")
	for _, op := range []string{"sign-in", "page", "token", "proxy-sign-in", "proxy", "sign-out", "proxy-sign-out"} {
		n, p50, p99, mx := s.ops[op].percentiles()
		fmt.Fprintf(&b, "  %-18s %8d %9v %9v %9v\n", op, n, ms(p50), ms(p99), ms(mx))
	}
	if n, _, _, mx := s.stale.percentiles(); n > 0 {
		fmt.Fprintf(&b, "  ended sessions served again on another instance: %d of %d sign-outs, for at most %v\n", n, s.outcomes.snapshot()["sign-out ok"], ms(mx))
	}
	kinds, times := s.faults.counts()
	fmt.Fprintf(&b, "  faults injected:")
	for _, k := range sortedKeys(kinds) {
		fmt.Fprintf(&b, " %s ×%d (%v)", k, kinds[k], times[k].Round(100*time.Millisecond))
	}
	fmt.Fprintf(&b, "\n  longest wait on a fault: %v (%s)\n", ms(s.longestWait), s.longestStory)
	fmt.Fprintf(&b, "  answers by outcome:\n")
	out := s.outcomes.snapshot()
	for _, k := range sortedKeys(out) {
		fmt.Fprintf(&b, "    %-48s %7d\n", k, out[k])
	}
	fmt.Fprintf(&b, "  errors Observe reported:\n")
	oe := s.observedErrors.snapshot()
	if len(oe) == 0 {
		fmt.Fprintf(&b, "    none\n")
	}
	for _, k := range sortedKeys(oe) {
		fmt.Fprintf(&b, "    %-60s %7d\n", k, oe[k])
	}
	fmt.Fprintf(&b, "  goroutines: before %d, peak %d, after %d\n", sum.baseGo, s.peakGo.Load(), sum.afterGo)
	fmt.Fprintf(&b, "  heap in use after GC: before %.1f MB, after %.1f MB; peak RSS %.0f MB\n",
		mb(sum.baseHeap), mb(sum.afterHeap), float64(sum.peakRSS)/(1<<20))
	fmt.Fprintf(&b, "  invariant violations: %d\n", sum.violations)
	return b.String()
}

func ms(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
