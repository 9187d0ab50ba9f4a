package entraweb

import (
	"errors"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/tokencache"
)

// Conditions callers branch on.
var (
	// ErrNotSignedIn is returned when a request has no valid session.
	ErrNotSignedIn = errors.New("entraweb: not signed in")
	// ErrProviderUnavailable means the identity provider could not be
	// reached or answered with a server error; retrying later may work.
	ErrProviderUnavailable = oidc.ErrProviderUnavailable
	// ErrStoreUnavailable means the session store could not be read or
	// written (Redis down, say). It never means "signed out": the session
	// is still there, and retrying later may work.
	ErrStoreUnavailable = tokencache.ErrStoreUnavailable
)
