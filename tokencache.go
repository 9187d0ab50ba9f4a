package entraweb

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/entraweb/entraweb/session"
)

// tokenStore keeps each user's MSAL token cache partition in the session
// store, encrypted, under a key derived from the partition key MSAL uses
// (the home account id, "oid.tid"). Beside MSAL's own serialized cache a
// record carries a small index of the access tokens in it, so that a
// cached token is served without deserializing MSAL's cache at all.
type tokenStore struct {
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
	Scopes  string `json:"s"` // scopesKey of the request
	Token   string `json:"t"`
	Expires int64  `json:"e"` // unix seconds
}

// partitionKey is MSAL's partition key for a user: the home account id.
func partitionKey(oid, tid string) string { return strings.ToLower(oid + "." + tid) }

func (ts *tokenStore) storeKey(partition string) string {
	sum := sha256.Sum256([]byte("entraweb-token-cache:" + partition))
	return "tc:" + base64.RawURLEncoding.EncodeToString(sum[:])
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

const recordVersion = 1

func (ts *tokenStore) load(ctx context.Context, partition string) (*tokenRecord, error) {
	key := ts.storeKey(partition)
	data, found, err := ts.store.Find(ctx, key)
	if err != nil || !found {
		return &tokenRecord{}, err
	}
	pt, err := ts.box.Open(data, []byte(key))
	if err != nil || len(pt) < 2 || pt[0] != recordVersion {
		// Unreadable (a retired key, tampering): start over, as on a miss.
		return &tokenRecord{}, nil
	}
	n, w := binary.Uvarint(pt[1:])
	if w <= 0 || n > uint64(len(pt)-1-w) {
		return &tokenRecord{}, nil
	}
	rec := &tokenRecord{msal: pt[1+w+int(n):]}
	if json.Unmarshal(pt[1+w:1+w+int(n)], &rec.index) != nil {
		return &tokenRecord{}, nil
	}
	return rec, nil
}

func (ts *tokenStore) save(ctx context.Context, partition string, rec *tokenRecord) error {
	now := ts.now().Unix()
	rec.index = slices.DeleteFunc(rec.index, func(t cachedToken) bool { return t.Expires <= now })
	idx, err := json.Marshal(rec.index)
	if err != nil {
		return err
	}
	pt := make([]byte, 0, 1+binary.MaxVarintLen64+len(idx)+len(rec.msal))
	pt = append(pt, recordVersion)
	pt = binary.AppendUvarint(pt, uint64(len(idx)))
	pt = append(pt, idx...)
	pt = append(pt, rec.msal...)
	key := ts.storeKey(partition)
	return ts.store.Commit(ctx, key, ts.box.Seal(pt, []byte(key)), ts.now().Add(ts.life))
}

func (ts *tokenStore) delete(ctx context.Context, partition string) error {
	return ts.store.Delete(ctx, ts.storeKey(partition))
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

func (ts *tokenStore) lock(partition string) func() {
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

var errNoPartition = errors.New("no token cache for this user: sign in again")
