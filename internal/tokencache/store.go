package tokencache

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entraweb/entraweb/session"
)

// records keeps each session's MSAL token cache partition in the session
// store, encrypted, under keys derived from the partition's Key. Beside
// MSAL's own serialized cache a partition carries a small index of the
// access tokens in it, so that a cached token is served without
// deserializing MSAL's cache at all.
type records struct {
	store session.Store
	box   *session.Box
	life  time.Duration
	now   func() time.Time

	mu    sync.Mutex
	locks map[string]*partitionLock
}

// tokenRecord is one user's partition.
type tokenRecord struct {
	index []cachedToken
	msal  []byte // MSAL's serialized cache, opaque here
}

type cachedToken struct {
	Scopes  string // scopesKey of the request
	Token   string
	Expires int64 // unix seconds
}

// AccountID is MSAL's name for a user's account (the home account id),
// which it also uses as the partition key of its cache.
func AccountID(oid, tid string) string { return strings.ToLower(oid + "." + tid) }

// storeKeys are the two records of a partition: the index of access
// tokens, read by every AccessToken call, and MSAL's cache, read only to
// refresh. Keeping them apart means a cached token costs the decryption of
// a small record, not of MSAL's whole cache.
func (ts *records) storeKeys(partition string) (index, msal string) {
	sum := sha256.Sum256([]byte("entraweb-token-cache:" + partition))
	h := base64.RawURLEncoding.EncodeToString(sum[:])
	return "ti:" + h, "tc:" + h
}

// scopesKey normalizes a scope list: the same set in any order and case
// names the same token.
func scopesKey(scopes []string) string {
	s := make([]string, len(scopes))
	for i, v := range scopes {
		s[i] = strings.ToLower(v)
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " ")
}

func (ts *records) open(ctx context.Context, key string) ([]byte, error) {
	data, found, err := ts.store.Find(ctx, key)
	if err != nil || !found {
		return nil, err
	}
	pt, err := ts.box.Open(data, []byte(key))
	if err != nil {
		// Unreadable (a retired key, tampering): start over, as on a miss.
		return nil, nil
	}
	return pt, nil
}

// loadIndex reads only the index of cached access tokens.
func (ts *records) loadIndex(ctx context.Context, partition string) (*tokenRecord, error) {
	ik, _ := ts.storeKeys(partition)
	pt, err := ts.open(ctx, ik)
	if err != nil {
		return nil, err
	}
	return &tokenRecord{index: decodeIndex(pt)}, nil
}

// load reads the whole partition: the index and MSAL's cache.
func (ts *records) load(ctx context.Context, partition string) (*tokenRecord, error) {
	rec, err := ts.loadIndex(ctx, partition)
	if err != nil {
		return nil, err
	}
	_, mk := ts.storeKeys(partition)
	if rec.msal, err = ts.open(ctx, mk); err != nil {
		return nil, err
	}
	return rec, nil
}

func (ts *records) save(ctx context.Context, partition string, rec *tokenRecord) error {
	now := ts.now()
	rec.index = slices.DeleteFunc(rec.index, func(t cachedToken) bool { return t.Expires <= now.Unix() })
	ik, mk := ts.storeKeys(partition)
	exp := now.Add(ts.life)
	// MSAL's cache first: an index pointing at tokens whose refresh token
	// was not kept would be worse than the reverse.
	if err := ts.store.Commit(ctx, mk, ts.box.Seal(rec.msal, []byte(mk)), exp); err != nil {
		return err
	}
	return ts.store.Commit(ctx, ik, ts.box.Seal(encodeIndex(rec.index), []byte(ik)), exp)
}

// saveIndex writes only the index of a partition that has no MSAL
// cache (on-behalf-of tokens), until exp.
func (ts *records) saveIndex(ctx context.Context, partition string, rec *tokenRecord, exp time.Time) error {
	now := ts.now()
	rec.index = slices.DeleteFunc(rec.index, func(t cachedToken) bool { return t.Expires <= now.Unix() })
	ik, _ := ts.storeKeys(partition)
	return ts.store.Commit(ctx, ik, ts.box.Seal(encodeIndex(rec.index), []byte(ik)), exp)
}

func (ts *records) delete(ctx context.Context, partition string) error {
	ik, mk := ts.storeKeys(partition)
	return errors.Join(ts.store.Delete(ctx, ik), ts.store.Delete(ctx, mk))
}

// The index is a version byte, then per token: scopes, token (each
// length-prefixed) and expiry; a binary form is several times cheaper to
// read than JSON, and it is read on every call.
func encodeIndex(idx []cachedToken) []byte {
	b := []byte{recordVersion}
	for _, t := range idx {
		b = binary.AppendUvarint(b, uint64(len(t.Scopes)))
		b = append(b, t.Scopes...)
		b = binary.AppendUvarint(b, uint64(len(t.Token)))
		b = append(b, t.Token...)
		b = binary.AppendVarint(b, t.Expires)
	}
	return b
}

func decodeIndex(b []byte) []cachedToken {
	if len(b) == 0 || b[0] != recordVersion {
		return nil
	}
	b = b[1:]
	var out []cachedToken
	str := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	for len(b) > 0 {
		sc, ok1 := str()
		tok, ok2 := str()
		exp, w := binary.Varint(b)
		if !ok1 || !ok2 || w <= 0 {
			return nil
		}
		b = b[w:]
		out = append(out, cachedToken{Scopes: sc, Token: tok, Expires: exp})
	}
	return out
}

// lookup returns a token for scopes with at least margin left.
func (rec *tokenRecord) lookup(key string, now time.Time, margin time.Duration) (string, bool) {
	for _, t := range rec.index {
		if t.Scopes == key && now.Add(margin).Unix() < t.Expires {
			return t.Token, true
		}
	}
	return "", false
}

func (rec *tokenRecord) remember(key, token string, expires time.Time) {
	rec.index = slices.DeleteFunc(rec.index, func(t cachedToken) bool { return t.Scopes == key })
	rec.index = append(rec.index, cachedToken{Scopes: key, Token: token, Expires: expires.Unix()})
}

// partitionLock serializes the refreshes of one user, so that concurrent
// requests cause one refresh, not many.
type partitionLock struct {
	mu   sync.Mutex
	refs int
}

func (ts *records) lock(partition string) func() {
	ts.mu.Lock()
	if ts.locks == nil {
		ts.locks = map[string]*partitionLock{}
	}
	l := ts.locks[partition]
	if l == nil {
		l = &partitionLock{}
		ts.locks[partition] = l
	}
	l.refs++
	ts.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		ts.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(ts.locks, partition)
		}
		ts.mu.Unlock()
	}
}

const recordVersion = 1
