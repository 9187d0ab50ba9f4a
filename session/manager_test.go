package session_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

var user = map[string]string{"name": "Ada Lovelace", "oid": "00000000-0000-0000-0000-00000000ada1"}

func TestValidate(t *testing.T) {
	box := mustBox(t, testKey(1))
	store := memstore.New()
	tests := []struct {
		name string
		m    *session.Manager
		want []string // substrings of the error; none means valid
	}{
		{"defaults", &session.Manager{Store: store, Box: box}, nil},
		{"custom name", &session.Manager{Store: store, Box: box, CookieName: "app_sid"}, nil},
		{"everything missing", &session.Manager{}, []string{"Store is nil", "Box is nil"}},
		{"negative durations", &session.Manager{Store: store, Box: box, IdleTimeout: -1, Lifetime: -1, TouchInterval: -1},
			[]string{"IdleTimeout is negative", "Lifetime is negative", "TouchInterval is negative"}},
		{"touch not shorter than idle", &session.Manager{Store: store, Box: box, IdleTimeout: time.Minute, TouchInterval: time.Minute},
			[]string{"TouchInterval (1m0s) must be shorter than IdleTimeout (1m0s)"}},
		{"short idle with the derived touch interval", &session.Manager{Store: store, Box: box, IdleTimeout: 2 * time.Second}, nil},
		{"idle too short for any touch interval", &session.Manager{Store: store, Box: box, IdleTimeout: time.Second},
			[]string{"IdleTimeout (1s) must be longer than 1s"}},
		{"prefixed name", &session.Manager{Store: store, Box: box, CookieName: "__Host-sid"}, []string{"must not start with"}},
		{"invalid name", &session.Manager{Store: store, Box: box, CookieName: "my session"}, []string{"not a valid cookie name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid Manager")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestStartLoadRoundTrip(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			m, _, clk := newManager(t)
			values := maps.Clone(user)
			s, c := start(t, m, secure, values)
			values["name"] = "changed by the caller" // Start keeps a copy
			clk.Advance(5 * time.Second)

			got := load(t, m, secure, c)
			if got == nil {
				t.Fatal("Load found no session after Start")
			}
			if !maps.Equal(got.Values, user) {
				t.Errorf("Values = %v, want %v", got.Values, user)
			}
			if !got.Created.Equal(s.Created) || !got.LastSeen.Equal(s.LastSeen) || !s.Created.Equal(clk.t.Add(-5*time.Second)) {
				t.Errorf("Created, LastSeen = %v, %v; want %v for both", got.Created, got.LastSeen, s.Created)
			}
		})
	}
}

func TestSaveKeepsChanges(t *testing.T) {
	m, _, _ := newManager(t)
	s, c := start(t, m, true, nil)
	if s.Values == nil {
		t.Fatal("Start with nil values gave a nil map")
	}
	s.Values["theme"] = "dark"
	if err := m.Save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := load(t, m, true, c); got == nil || got.Values["theme"] != "dark" {
		t.Fatalf("after Save, Load = %+v", got)
	}
	if err := m.Save(context.Background(), &session.Session{}); err == nil {
		t.Error("Save of a Session not made by the Manager succeeded")
	}
}

// TestFixation plants a session id in the browser before sign-in, as an
// attacker who can set cookies would, and checks it never becomes a
// signed-in session.
func TestFixation(t *testing.T) {
	m, store, _ := newManager(t)
	ctx := context.Background()

	// The attacker's own session, whose cookie they plant in the victim's
	// browser.
	_, planted := start(t, m, true, map[string]string{"name": "attacker"})
	if load(t, m, true, planted) == nil {
		t.Fatal("setup: the planted session does not load")
	}

	w := httptest.NewRecorder()
	victim, err := m.Start(ctx, w, newRequest(true, planted), user)
	if err != nil {
		t.Fatal(err)
	}
	fresh := onlyCookie(t, w)
	if fresh.Value == planted.Value {
		t.Fatal("Start reused the id from the request's cookie")
	}
	if load(t, m, true, planted) != nil {
		t.Error("the planted session survived sign-in")
	}
	if _, found, _ := store.Store.Find(ctx, storeKey(t, planted.Value)); found {
		t.Error("the planted session's record is still in the store")
	}
	if got := load(t, m, true, fresh); got == nil || got.Values["name"] != victim.Values["name"] {
		t.Errorf("the new session does not load: %+v", got)
	}

	// An id the attacker made up (never stored) is not adopted either.
	made := &http.Cookie{Name: planted.Name, Value: strings.Repeat("A", 43)}
	w = httptest.NewRecorder()
	if _, err := m.Start(ctx, w, newRequest(true, made), user); err != nil {
		t.Fatal(err)
	}
	if onlyCookie(t, w).Value == made.Value {
		t.Error("Start adopted a made-up id")
	}
}

func TestTimeouts(t *testing.T) {
	// newManager: idle 30m, lifetime 8h, touch interval 1m.
	tests := []struct {
		name  string
		steps []time.Duration // clock advances, each followed by Load+Touch
		last  time.Duration   // final advance before the checked Load
		want  bool
	}{
		{name: "fresh", last: 0, want: true},
		{name: "just inside idle", last: 30*time.Minute - time.Second, want: true},
		{name: "idle timeout", last: 30 * time.Minute, want: false},
		{name: "touched within idle", steps: []time.Duration{20 * time.Minute}, last: 20 * time.Minute, want: true},
		{name: "touch too recent to be written", steps: []time.Duration{30 * time.Second}, last: 30 * time.Minute, want: false},
		{name: "active until just before lifetime", steps: repeat(23, 20*time.Minute), last: 20*time.Minute - time.Second, want: true},
		{name: "absolute lifetime despite activity", steps: repeat(23, 20*time.Minute), last: 20 * time.Minute, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store, clk := newManager(t)
			ctx := context.Background()
			_, c := start(t, m, true, user)
			for i, d := range tt.steps {
				clk.Advance(d)
				s := load(t, m, true, c)
				if s == nil {
					t.Fatalf("step %d: session ended early", i)
				}
				if err := m.Touch(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(tt.last)
			got := load(t, m, true, c)
			if (got != nil) != tt.want {
				t.Fatalf("Load after %v: session=%v, want %v", clk.t.Sub(newClock().t), got != nil, tt.want)
			}
			if !tt.want {
				// The Manager must not rely on the store's own expiry:
				// check the record really is gone or hidden.
				if _, found, _ := store.Store.Find(ctx, storeKey(t, c.Value)); found {
					t.Error("an expired session's record is still visible in the store")
				}
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

// TestExpiredRecordDeleted covers a record the store still returns after
// the Manager's timeout, as after the timeouts were shortened.
func TestExpiredRecordDeleted(t *testing.T) {
	m, store, clk := newManager(t)
	_, c := start(t, m, true, user)
	m.IdleTimeout = 10 * time.Minute
	m.TouchInterval = time.Minute
	clk.Advance(15 * time.Minute)
	store.reset()
	if load(t, m, true, c) != nil {
		t.Fatal("Load returned a session past the new idle timeout")
	}
	if store.deletes != 1 {
		t.Errorf("Load made %d deletes, want 1", store.deletes)
	}
}

// TestTouchWritesAtMostOncePerInterval sends a steady stream of requests
// and counts store calls: one read per request, one write per interval.
func TestTouchWritesAtMostOncePerInterval(t *testing.T) {
	tests := []struct {
		name        string
		interval    time.Duration
		every       time.Duration
		requests    int
		wantCommits int
	}{
		{"every second for 10 minutes", time.Minute, time.Second, 600, 10},
		{"every 10s for 5 minutes, 2m interval", 2 * time.Minute, 10 * time.Second, 30, 2},
		{"slower than the interval", time.Minute, 90 * time.Second, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store, clk := newManager(t)
			m.TouchInterval = tt.interval
			ctx := context.Background()
			_, c := start(t, m, true, user)
			store.reset()
			for range tt.requests {
				clk.Advance(tt.every)
				s := load(t, m, true, c)
				if s == nil {
					t.Fatal("session ended")
				}
				if err := m.Touch(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if store.finds != tt.requests || store.commits != tt.wantCommits || store.deletes != 0 {
				t.Errorf("finds, commits, deletes = %d, %d, %d; want %d, %d, 0", store.finds, store.commits, store.deletes, tt.requests, tt.wantCommits)
			}
		})
	}
}

func TestTouchInterval(t *testing.T) {
	tests := []struct{ idle, want time.Duration }{
		{0, time.Second},
		{time.Second, time.Second},
		{4 * time.Second, time.Second},
		{6 * time.Second, 1500 * time.Millisecond},
		{30 * time.Second, 7500 * time.Millisecond},
		{4 * time.Minute, time.Minute},
		{session.DefaultIdleTimeout, time.Minute},
		{session.DefaultLifetime, time.Minute},
	}
	for _, tt := range tests {
		if got := session.TouchInterval(tt.idle); got != tt.want {
			t.Errorf("TouchInterval(%v) = %v, want %v", tt.idle, got, tt.want)
		}
	}
}

// TestTouchIntervalFollowsIdleTimeout has a user with a 30s idle timeout
// send a request every 10s. With the interval derived from the idle
// timeout they stay signed in; with one that leaves less than 10s of the
// idle timeout (as a fixed minute did), LastSeen lags too far and the
// session ends while in use.
func TestTouchIntervalFollowsIdleTimeout(t *testing.T) {
	const idle, every, active = 30 * time.Second, 10 * time.Second, 2 * time.Minute
	tests := []struct {
		name       string
		touch      time.Duration
		wantActive bool
	}{
		{"derived", 0, true},
		{"explicit, too long for the requests", 25 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, clk := newManager(t)
			m.IdleTimeout, m.TouchInterval = idle, tt.touch
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, c := start(t, m, true, user)
			for elapsed := every; elapsed <= active; elapsed += every {
				clk.Advance(every)
				s := load(t, m, true, c)
				if s == nil {
					if tt.wantActive {
						t.Fatalf("signed out after %v of a request every %v", elapsed, every)
					}
					return
				}
				if err := m.Touch(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if !tt.wantActive {
				t.Fatalf("still signed in after %v of a request every %v; the test no longer shows the lag", active, every)
			}
			// Load alone writes nothing, so the user is still idle
			// from the last request on.
			clk.Advance(idle - time.Second)
			if load(t, m, true, c) == nil {
				t.Fatalf("signed out after %v idle, within the %v idle timeout", idle-time.Second, idle)
			}
			clk.Advance(2 * time.Second)
			if load(t, m, true, c) != nil {
				t.Fatalf("still signed in after %v idle", idle+time.Second)
			}
		})
	}
}

func TestTamperedRecords(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, m *session.Manager, raw session.Store, keyA, keyB string)
	}{
		{"flipped byte", func(t *testing.T, m *session.Manager, raw session.Store, keyA, _ string) {
			data, _, _ := raw.Find(ctx, keyA)
			data[len(data)/2] ^= 1
			raw.Commit(ctx, keyA, data, time.Now().AddDate(1, 0, 0))
		}},
		{"truncated", func(t *testing.T, m *session.Manager, raw session.Store, keyA, _ string) {
			raw.Commit(ctx, keyA, []byte("short"), time.Now().AddDate(1, 0, 0))
		}},
		{"swapped with another session", func(t *testing.T, m *session.Manager, raw session.Store, keyA, keyB string) {
			b, _, _ := raw.Find(ctx, keyB)
			raw.Commit(ctx, keyA, b, time.Now().AddDate(1, 0, 0))
		}},
		{"sealed under a foreign key", func(t *testing.T, m *session.Manager, raw session.Store, keyA, _ string) {
			other := mustBox(t, testKey(9))
			raw.Commit(ctx, keyA, other.Seal([]byte(`{"c":1,"l":1,"v":{"name":"admin"}}`), []byte(keyA)), time.Now().AddDate(1, 0, 0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store, _ := newManager(t)
			_, a := start(t, m, true, map[string]string{"name": "a"})
			_, b := start(t, m, true, map[string]string{"name": "b"})
			keyA := storeKey(t, a.Value)
			tt.tamper(t, m, store.Store, keyA, storeKey(t, b.Value))

			if s := load(t, m, true, a); s != nil {
				t.Fatalf("Load accepted a tampered record: %v", s.Values)
			}
			if _, found, _ := store.Store.Find(ctx, keyA); found {
				t.Error("the tampered record was not deleted")
			}
			if s := load(t, m, true, b); s == nil || s.Values["name"] != "b" {
				t.Error("the untouched session was harmed")
			}
		})
	}
}

// TestAtRest checks what someone holding a copy of the store would see:
// neither the cookie value nor the session's values.
func TestAtRest(t *testing.T) {
	m, store, _ := newManager(t)
	_, c := start(t, m, true, user)
	if len(store.findKeys) != 0 {
		t.Fatalf("Start read the store: %v", store.findKeys)
	}
	load(t, m, true, c)
	key := store.findKeys[0]
	if key != storeKey(t, c.Value) || strings.Contains(key, c.Value) {
		t.Errorf("store key %q: want the hash of the id, never the id %q", key, c.Value)
	}
	data, _, _ := store.Store.Find(context.Background(), key)
	for _, v := range user {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("stored record contains %q in the clear", v)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	m, store, _ := newManager(t) // seals under oldKey
	_, c := start(t, m, true, user)

	m.Box = mustBox(t, newKey, oldKey)
	got := load(t, m, true, c)
	if got == nil {
		t.Fatal("after rotation, a session sealed under the old key no longer loads")
	}
	if err := m.Save(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	key := storeKey(t, c.Value)
	data, _, _ := store.Store.Find(context.Background(), key)
	if _, err := mustBox(t, newKey).Open(data, []byte(key)); err != nil {
		t.Errorf("after Save, the record is not sealed under the new key: %v", err)
	}
	if _, err := mustBox(t, oldKey).Open(data, []byte(key)); err == nil {
		t.Error("after Save, the record still opens with the old key alone")
	}

	m.Box = mustBox(t, newKey) // old key retired
	if load(t, m, true, c) == nil {
		t.Error("a re-saved session does not load once the old key is retired")
	}
}

func TestStoreFailures(t *testing.T) {
	ctx := context.Background()
	outage := errors.New("store unreachable")
	m, store, _ := newManager(t)
	s, c := start(t, m, true, user)
	store.err = outage

	t.Run("Load", func(t *testing.T) {
		got, err := m.Load(ctx, newRequest(true, c))
		if got != nil || !errors.Is(err, outage) {
			t.Fatalf("Load = %v, %v; want nil and an error wrapping the store's", got, err)
		}
	})
	t.Run("Load without a cookie does not touch the store", func(t *testing.T) {
		if got, err := m.Load(ctx, newRequest(true)); got != nil || err != nil {
			t.Fatalf("Load = %v, %v; want nil, nil", got, err)
		}
	})
	t.Run("Start", func(t *testing.T) {
		w := httptest.NewRecorder()
		if _, err := m.Start(ctx, w, newRequest(true), user); !errors.Is(err, outage) {
			t.Fatalf("Start error = %v", err)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Error("Start set a cookie for a session it could not store")
		}
	})
	t.Run("Start cannot delete the previous session", func(t *testing.T) {
		if _, err := m.Start(ctx, httptest.NewRecorder(), newRequest(true, c), user); !errors.Is(err, outage) {
			t.Fatalf("Start error = %v", err)
		}
	})
	t.Run("Save", func(t *testing.T) {
		if err := m.Save(ctx, s); !errors.Is(err, outage) {
			t.Fatalf("Save error = %v", err)
		}
	})
	t.Run("Touch", func(t *testing.T) {
		s.LastSeen = s.LastSeen.Add(-time.Hour)
		if err := m.Touch(ctx, s); !errors.Is(err, outage) {
			t.Fatalf("Touch error = %v", err)
		}
	})
	t.Run("Destroy", func(t *testing.T) {
		w := httptest.NewRecorder()
		if err := m.Destroy(ctx, w, newRequest(true, c), s); !errors.Is(err, outage) {
			t.Fatalf("Destroy error = %v", err)
		}
		if got := onlyCookie(t, w); got.MaxAge >= 0 {
			t.Error("Destroy did not expire the cookie when the store failed")
		}
	})
}

func TestDestroy(t *testing.T) {
	tests := []struct {
		name       string
		secure     bool
		passLoaded bool // pass the loaded Session, or nil
	}{
		{"https with session", true, true},
		{"https cookie only", true, false},
		{"http with session", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, store, _ := newManager(t)
			_, c := start(t, m, tt.secure, user)
			var s *session.Session
			if tt.passLoaded {
				s = load(t, m, tt.secure, c)
			}
			w := httptest.NewRecorder()
			if err := m.Destroy(context.Background(), w, newRequest(tt.secure, c), s); err != nil {
				t.Fatal(err)
			}
			expired := onlyCookie(t, w)
			if expired.Name != c.Name || expired.MaxAge >= 0 || expired.Value != "" || expired.Path != "/" || expired.Secure != tt.secure {
				t.Errorf("Destroy set %v; want %s expired with the same attributes", expired, c.Name)
			}
			if load(t, m, tt.secure, c) != nil {
				t.Error("the session loads after Destroy")
			}
			if _, found, _ := store.Store.Find(context.Background(), storeKey(t, c.Value)); found {
				t.Error("the record is still in the store")
			}
		})
	}
}

// TestRevoke ends a session by its Key, with no request from its browser:
// the cookie opens nothing afterwards, even for a Manager that had
// opened it before.
func TestRevoke(t *testing.T) {
	m, store, _ := newManager(t)
	s, c := start(t, m, true, user)
	if load(t, m, true, c) == nil {
		t.Fatal("the session does not load")
	}
	if s.Key() == "" || s.Key() != storeKey(t, c.Value) || strings.Contains(s.Key(), c.Value) {
		t.Fatalf("Key() = %q: not the store key, or it shows the id", s.Key())
	}
	if err := m.Revoke(context.Background(), s.Key()); err != nil {
		t.Fatal(err)
	}
	if load(t, m, true, c) != nil {
		t.Error("the session loads after Revoke")
	}
	if _, found, _ := store.Store.Find(context.Background(), s.Key()); found {
		t.Error("the record is still in the store")
	}
}

// TestDefaults checks the zero-value Manager's timeouts against its
// documented defaults.
func TestDefaults(t *testing.T) {
	clk := newClock()
	mem := memstore.New()
	mem.Now = clk.Now
	m := &session.Manager{Store: mem, Box: mustBox(t, testKey(1)), Now: clk.Now}
	_, c := start(t, m, true, user)
	if c.Name != "__Host-"+session.DefaultCookieName {
		t.Errorf("cookie name %q", c.Name)
	}
	clk.Advance(session.DefaultIdleTimeout - time.Second)
	s := load(t, m, true, c)
	if s == nil {
		t.Fatal("session ended before the default idle timeout")
	}
	m.Touch(context.Background(), s)
	clk.Advance(session.DefaultIdleTimeout)
	if load(t, m, true, c) != nil {
		t.Error("session outlived the default idle timeout")
	}
}

// TestLoadShared: the requests that read one stored version of a session
// share one Session and one Memo result; Load hands out copies of their
// own; Touch on a shared Session saves a copy and leaves it unchanged, and
// the next LoadShared sees the new version.
func TestLoadShared(t *testing.T) {
	m, _, clk := newManager(t)
	_, c := start(t, m, true, user)
	ctx := context.Background()
	s1, err := m.LoadShared(ctx, newRequest(true, c))
	if err != nil || s1 == nil {
		t.Fatal(err)
	}
	s2, _ := m.LoadShared(ctx, newRequest(true, c))
	if s1 != s2 {
		t.Fatal("two reads of the same version gave two Sessions")
	}
	calls := 0
	decode := func(s *session.Session) any { calls++; return s.Values["name"] }
	for _, s := range []*session.Session{s1, s2, s1} {
		if got := s.Memo(decode); got != user["name"] {
			t.Fatalf("Memo = %v", got)
		}
	}
	if calls != 1 {
		t.Errorf("Memo computed %d times for one version, want 1", calls)
	}
	if own := load(t, m, true, c); own == s1 {
		t.Error("Load handed out the shared Session")
	} else {
		own.Values["name"] = "changed"
		if s1.Values["name"] == "changed" {
			t.Error("a change to Load's Session reached the shared one")
		}
	}
	seen := s1.LastSeen
	clk.Advance(2 * time.Minute) // past the touch interval
	if err := m.Touch(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if s1.LastSeen != seen {
		t.Error("Touch changed a shared Session")
	}
	s3, _ := m.LoadShared(ctx, newRequest(true, c))
	if s3 == s1 || !s3.LastSeen.After(seen) {
		t.Errorf("after Touch: same Session %v, LastSeen %v (was %v)", s3 == s1, s3.LastSeen, seen)
	}
	if s3.Memo(decode); calls != 2 {
		t.Errorf("the new version's Memo did not run: %d calls", calls)
	}
}
