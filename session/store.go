package session

import (
	"context"
	"time"
)

// Store keeps opaque bytes under a key until an expiry. The Manager keeps
// sealed session records in it; the entraweb package keeps per-user token
// caches in the same Store under keys of its own, so every method is
// keyed, TTL-based and knows nothing about what the bytes mean.
//
// Implementations must be safe for concurrent use. A Store must not keep a
// reference to the data passed to Commit. The slice Find returns is
// read-only for the caller: a store may hand out the bytes it keeps
// (memstore does, so a read costs no copy), and nothing in this module
// writes to it. The storetest package checks these rules.
type Store interface {
	// Find returns the data committed under key. found is false when the
	// key is absent or its expiry has passed; err is non-nil only when the
	// store could not answer, so callers never take an outage for a
	// missing key.
	Find(ctx context.Context, key string) (data []byte, found bool, err error)

	// Commit inserts or replaces the data under key. After expiry, Find
	// no longer returns it; an expiry that has already passed makes the
	// key absent.
	Commit(ctx context.Context, key string, data []byte, expiry time.Time) error

	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
