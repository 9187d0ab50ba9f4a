package entraweb

import (
	"errors"
	"fmt"
	"strings"

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

// ErrInteractionRequired is matched (errors.Is) by the errors of
// AccessToken that only the user can fix by signing in again: consent
// missing, a refresh token revoked or expired, a claims challenge.
var ErrInteractionRequired = errors.New("entraweb: the user must sign in again")

// InteractionRequiredError says what a new sign-in must ask for. Pass it
// to Auth.Challenge.
type InteractionRequiredError struct {
	Scopes []string // the scopes the token was asked for
	Claims string   // a claims challenge to send to Entra ID, if any
	Cause  error    // the provider's answer (*AADSTSError) or why there is no token
}

func (e *InteractionRequiredError) Error() string {
	return fmt.Sprintf("entraweb: sign-in needed for %s: %v", strings.Join(e.Scopes, " "), e.Cause)
}

func (e *InteractionRequiredError) Is(target error) bool { return target == ErrInteractionRequired }
func (e *InteractionRequiredError) Unwrap() error        { return e.Cause }

// AADSTSError is an error answered by Microsoft Entra ID, from the token
// endpoint or an authorize redirect.
type AADSTSError struct {
	Code        int    // the AADSTS number, 0 when the answer had none
	Err         string // the OAuth error: invalid_grant, access_denied...
	SubError    string // refines Err: consent_required, bad_token...
	Description string // Entra's text, with its trace and correlation ids
	Status      int    // HTTP status of a token endpoint answer; 0 for a redirect
	Claims      string // a claims challenge the answer carried
}

func (e *AADSTSError) Error() string {
	if e.Code != 0 {
		h := aadstsMeaning(e.Code)
		return fmt.Sprintf("entra id: %s (AADSTS%d): %s What to do: %s", e.Err, e.Code, h.meaning, h.fix)
	}
	return "entra id: " + e.Err
}
