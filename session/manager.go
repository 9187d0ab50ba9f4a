package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Manager's fields.
const (
	DefaultIdleTimeout = time.Hour
	DefaultLifetime    = 12 * time.Hour
)

// TouchInterval returns the touch interval a Manager uses when its
// TouchInterval field is zero: a quarter of idle, the idle timeout in
// force, but at most a minute and at least a second.
//
// LastSeen may lag a request by up to the interval, so a session ends
// after as little as idle minus the interval without use; a quarter keeps
// a user active at least every three quarters of the idle timeout signed
// in. A minute is short enough that the lag is noise for long timeouts,
// and a second is the resolution of the stored LastSeen, so a shorter
// interval would only add writes. Because of that floor, an idle timeout
// of a second or less leaves no valid interval.
func TouchInterval(idle time.Duration) time.Duration {
	return min(max(idle/4, time.Second), time.Minute)
}

// Manager issues and checks sessions whose cookie holds nothing but a
// 256-bit random id; everything else lives sealed in the Store.
//
// Set the fields before first use and do not change them afterwards, nor
// copy the Manager. Call Validate once at start-up: the methods assume a
// valid Manager.
type Manager struct {
	// Store keeps the sealed session records. Required.
	Store Store
	// Box seals the records, binding each to its store key. Required.
	Box *Box
	// IdleTimeout ends a session not seen for this long. Zero means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after it started, however active.
	// Zero means DefaultLifetime.
	Lifetime time.Duration
	// TouchInterval is how stale LastSeen may get before Touch writes it,
	// so a busy session costs one store read per request and a write only
	// now and then. It must be shorter than the idle timeout; a session
	// used less often than every IdleTimeout minus TouchInterval may end.
	// Zero means TouchInterval(IdleTimeout): a quarter of the idle
	// timeout, between a second and a minute.
	TouchInterval time.Duration
	// CookieName names the cookie; on secure requests it gets the
	// "__Host-" prefix. Zero means DefaultCookieName.
	CookieName string
	// IsSecure reports whether r reached the user over https. It decides
	// the cookie's Secure attribute and prefix. Nil means r.TLS != nil;
	// behind a TLS-terminating proxy pass a test that trusts only the
	// proxy's forwarded headers.
	IsSecure func(r *http.Request) bool
	// Now returns the current time. Nil means time.Now; tests inject a
	// clock here.
	Now func() time.Time
	// Logger receives events such as a record failing authentication.
	// Nil means slog.Default().
	Logger *slog.Logger
	// OpenedCacheSize is how many sessions Load keeps decrypted and
	// decoded, each with the sealed bytes it came from (every Load still
	// reads the store). Zero means 10,000; a negative value turns the
	// cache off.
	OpenedCacheSize int

	opened openedCache
}

// openedCache remembers the records Load decrypted and decoded, keyed by
// store key with the exact sealed bytes they came from. Every Load still
// reads the store (so a deleted session is gone at once, on every
// instance); only when the store hands back the very bytes seen before are
// the decryption and decoding skipped. It is bounded.
type openedCache struct {
	mu sync.Mutex
	m  map[string]openedRecord
}

type openedRecord struct {
	sealed []byte
	s      *Session
}

const maxOpened = 10000

// get returns the shared Session of key if sealed is the version cached.
func (c *openedCache) get(key string, sealed []byte, size int) (*Session, bool) {
	if size < 0 {
		return nil, false
	}
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !bytes.Equal(r.sealed, sealed) {
		return nil, false
	}
	return r.s, true
}

func (c *openedCache) put(key string, sealed []byte, s *Session, size int) {
	if size < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]openedRecord{}
	}
	limit := size
	if limit == 0 {
		limit = maxOpened
	}
	if len(c.m) >= limit {
		for k := range c.m { // drop one at random
			delete(c.m, k)
			break
		}
	}
	c.m[key] = openedRecord{sealed: sealed, s: s}
}

func (c *openedCache) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Validate reports every problem with m's configuration at once.
func (m *Manager) Validate() error {
	var errs []error
	if m.Store == nil {
		errs = append(errs, errors.New("session: Manager.Store is nil"))
	}
	if m.Box == nil {
		errs = append(errs, errors.New("session: Manager.Box is nil (make one with NewBox)"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"IdleTimeout", m.IdleTimeout}, {"Lifetime", m.Lifetime}, {"TouchInterval", m.TouchInterval}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("session: Manager.%s is negative (%v); use zero for the default", d.name, d.v))
		}
	}
	if m.IdleTimeout >= 0 && m.TouchInterval >= 0 && m.touchInterval() >= m.idleTimeout() {
		if m.TouchInterval == 0 {
			errs = append(errs, fmt.Errorf("session: Manager.IdleTimeout (%v) must be longer than %v, the shortest touch interval", m.idleTimeout(), m.touchInterval()))
		} else {
			errs = append(errs, fmt.Errorf("session: Manager.TouchInterval (%v) must be shorter than IdleTimeout (%v), or active sessions would time out", m.touchInterval(), m.idleTimeout()))
		}
	}
	if n := m.CookieName; n != "" {
		if strings.HasPrefix(n, "__") {
			errs = append(errs, fmt.Errorf("session: Manager.CookieName %q must not start with \"__\": the __Host- prefix is added on secure requests", n))
		} else if err := (&http.Cookie{Name: n}).Valid(); err != nil {
			errs = append(errs, fmt.Errorf("session: Manager.CookieName %q is not a valid cookie name", n))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) idleTimeout() time.Duration {
	if m.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return m.IdleTimeout
}

func (m *Manager) lifetime() time.Duration {
	if m.Lifetime == 0 {
		return DefaultLifetime
	}
	return m.Lifetime
}

func (m *Manager) touchInterval() time.Duration {
	if m.TouchInterval == 0 {
		return TouchInterval(m.idleTimeout())
	}
	return m.TouchInterval
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// expiry is when s ends unless touched again: at the idle timeout or the
// end of its lifetime, whichever comes first.
func (m *Manager) expiry(s *Session) time.Time {
	idle := s.LastSeen.Add(m.idleTimeout())
	if end := s.Created.Add(m.lifetime()); end.Before(idle) {
		return end
	}
	return idle
}

// Load returns the session named by r's cookie. It returns (nil, nil) when
// there is no valid session: no cookie or a malformed one, an unknown id,
// a session past its idle or absolute timeout, or a record that fails
// authentication (which it also deletes). It returns an error only when
// the store fails, so an outage is never taken for "signed out".
func (m *Manager) Load(ctx context.Context, r *http.Request) (*Session, error) {
	s, err := m.LoadShared(ctx, r)
	if s == nil || err != nil {
		return s, err
	}
	// A copy of its own: the caller may change Values before Save.
	return &Session{Created: s.Created, LastSeen: s.LastSeen, Values: maps.Clone(s.Values), key: s.key}, nil
}

// LoadShared is Load for readers: it returns the one Session instance that
// stands for the stored version of the session, shared by every request
// that reads the same version, so a request costs the store read and no
// decryption, decoding or copying. The caller must not change it: not
// Values, not the times (Touch and Save take it as it is). Memo keeps
// what is derived from it.
func (m *Manager) LoadShared(ctx context.Context, r *http.Request) (*Session, error) {
	v, ok := m.requestID(r)
	if !ok {
		return nil, nil
	}
	key := v.storeKey()
	data, found, err := m.Store.Find(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("session: load: %w", err)
	}
	if !found {
		m.opened.drop(key)
		return nil, nil
	}
	s, hit := m.opened.get(key, data, m.OpenedCacheSize)
	if !hit {
		s, err = m.open(key, data)
		if err == nil {
			s.shared, s.memo = true, &memo{}
		}
	}
	if err != nil {
		// Either the store was tampered with or the key that sealed the
		// record was retired; it can never be read again, so drop it.
		m.logger().WarnContext(ctx, "session: discarding a stored session that fails authentication", "error", err)
		m.discard(ctx, key)
		return nil, nil
	}
	if !m.now().Before(m.expiry(s)) {
		// The store would hide it soon anyway; deleting it now also
		// covers timeouts shortened since it was written.
		m.discard(ctx, key)
		return nil, nil
	}
	if !hit {
		m.opened.put(key, data, s, m.OpenedCacheSize)
	}
	return s, nil
}

func (m *Manager) open(key string, data []byte) (*Session, error) {
	pt, err := m.Box.Open(data, []byte(key))
	if err != nil {
		return nil, err
	}
	s, err := unmarshal(key, pt)
	if err != nil {
		return nil, fmt.Errorf("session: authenticated record does not decode: %w", err)
	}
	return s, nil
}

// discard deletes a record Load found unusable. A failure is only logged:
// the answer is "no session" either way.
func (m *Manager) discard(ctx context.Context, key string) {
	m.opened.drop(key)
	if err := m.Store.Delete(ctx, key); err != nil {
		m.logger().ErrorContext(ctx, "session: deleting an unusable session", "error", err)
	}
}

// Start begins a session holding a copy of values, as at sign-in. It first
// deletes the session named by r's cookie, then commits the new session
// under a fresh random id and sets the cookie. A new id at every sign-in
// defeats session fixation: an id planted in the browser before sign-in
// never becomes a signed-in session.
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, values map[string]string) (*Session, error) {
	if old, ok := m.requestID(r); ok {
		if err := m.Store.Delete(ctx, old.storeKey()); err != nil {
			return nil, fmt.Errorf("session: start: deleting the previous session: %w", err)
		}
	}
	v := newID()
	now := seconds(m.now())
	s := &Session{Created: now, LastSeen: now, Values: maps.Clone(values), key: v.storeKey()}
	if s.Values == nil {
		s.Values = map[string]string{}
	}
	if err := m.Save(ctx, s); err != nil {
		return nil, fmt.Errorf("session: start: %w", err)
	}
	m.setCookie(w, r, v.String())
	return s, nil
}

// Save seals s and commits it, with the store expiry set to when s would
// time out.
func (m *Manager) Save(ctx context.Context, s *Session) error {
	if s == nil || s.key == "" {
		return errors.New("session: save: the session was not made by Manager.Start or Manager.Load")
	}
	pt, err := s.marshal()
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	if err := m.Store.Commit(ctx, s.key, m.Box.Seal(pt, []byte(s.key)), m.expiry(s)); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	return nil
}

// Touch records that s is in use. It writes only when LastSeen is at least
// TouchInterval old, so a steady stream of requests costs one store read
// (in Load) and no write per request.
func (m *Manager) Touch(ctx context.Context, s *Session) error {
	now := m.now()
	if now.Sub(s.LastSeen) < m.touchInterval() {
		return nil
	}
	if s.shared {
		// Read by other requests: save a copy; the next Load sees the new
		// version.
		c := *s
		c.shared, c.memo = false, nil
		c.LastSeen = seconds(now)
		return m.Save(ctx, &c)
	}
	s.LastSeen = seconds(now)
	return m.Save(ctx, s)
}

// Revoke ends the session stored under key (Session.Key) without a
// request from its browser, as a sign-out from elsewhere does (front-channel
// logout). Its cookie stays in that browser and no longer opens anything.
func (m *Manager) Revoke(ctx context.Context, key string) error {
	m.opened.drop(key)
	if err := m.Store.Delete(ctx, key); err != nil {
		return fmt.Errorf("session: revoke: %w", err)
	}
	return nil
}

// Destroy ends s, as at sign-out: it deletes s and the session named by
// r's cookie from the store and expires the cookie. s may be nil. The
// cookie is expired even when the store fails, and the error is returned
// so the caller can say that sign-out did not complete on the server.
func (m *Manager) Destroy(ctx context.Context, w http.ResponseWriter, r *http.Request, s *Session) error {
	var errs []error
	var key string
	if s != nil && s.key != "" {
		key = s.key
		m.opened.drop(key)
		if err := m.Store.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	if v, ok := m.requestID(r); ok {
		if k := v.storeKey(); k != key {
			if err := m.Store.Delete(ctx, k); err != nil {
				errs = append(errs, err)
			}
		}
	}
	m.setCookie(w, r, "")
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("session: destroy: %w", err)
	}
	return nil
}
