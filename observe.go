package entraweb

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/tokencache"
	"github.com/entraweb/entraweb/session"
)

// EventKind says what an Event is about.
type EventKind uint8

const (
	// EventSignIn: a user signed in and got a session.
	EventSignIn EventKind = iota + 1
	// EventSignInFailed: a sign-in callback did not end in a session.
	// Reason is the problem's code (e.g. "unknown_state", "aadsts",
	// "invalid_token", "forbidden" for a user below the minimum role,
	// "provider_unavailable", "store_unavailable"); AADSTS is set when
	// Entra ID gave one.
	EventSignInFailed
	// EventTokenRefresh: a user's access token was refreshed (or the
	// refresh failed: Err) with the refresh token; Duration is the call to
	// the token endpoint. Served from the cache, a token makes no event.
	EventTokenRefresh
	// EventRefused: a signed-in user, or a request, was refused outside the
	// sign-in itself: a missing role or group (Status 403, Reason
	// "forbidden"), or an outage while serving a page (Status 5xx).
	EventRefused
	// EventStore: one call to the session store (Op "find", "commit" or
	// "delete"), with its Duration and its Err.
	EventStore
)

// String names the kind, for labels.
func (k EventKind) String() string {
	switch k {
	case EventSignIn:
		return "sign_in"
	case EventSignInFailed:
		return "sign_in_failed"
	case EventTokenRefresh:
		return "token_refresh"
	case EventRefused:
		return "refused"
	case EventStore:
		return "store"
	}
	return "unknown"
}

// Event is what Config.Observe is told. It never carries a token, a code
// or a cookie; Err is for counting and logging, and its text is as safe
// as entraweb's log lines.
type Event struct {
	Kind EventKind
	// Reason is a short stable word for failures and refusals (the
	// Problem's code); empty for successes.
	Reason string
	// AADSTS is Entra ID's error code ("50011") when it gave one. For a
	// failed sign-in it is read from the callback's error_description,
	// which anyone can send for a sign-in they started: bound the values
	// before using them as a metric label.
	AADSTS string
	// Status is the HTTP status entraweb answered with, for
	// EventSignInFailed and EventRefused.
	Status int
	// Op is the store call of an EventStore.
	Op string
	// Duration is the time of the token refresh or store call.
	Duration time.Duration
	// Err is the failure of a token refresh or a store call.
	Err error
}

// observe tells the configured observer of e.
func (a *Auth) observe(ctx context.Context, e Event) {
	if f := a.s.cfg.Observe; f != nil {
		f(ctx, e)
	}
}

// observedStore times every call to the store for the observer. It is
// only put in front of the store when an observer is configured.
type observedStore struct {
	session.Store
	observe func(context.Context, Event)
}

func (s observedStore) Find(ctx context.Context, key string) ([]byte, bool, error) {
	t := time.Now()
	data, found, err := s.Store.Find(ctx, key)
	s.observe(ctx, Event{Kind: EventStore, Op: "find", Duration: time.Since(t), Err: err})
	return data, found, err
}

func (s observedStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	t := time.Now()
	err := s.Store.Commit(ctx, key, data, expiry)
	s.observe(ctx, Event{Kind: EventStore, Op: "commit", Duration: time.Since(t), Err: err})
	return err
}

func (s observedStore) Delete(ctx context.Context, key string) error {
	t := time.Now()
	err := s.Store.Delete(ctx, key)
	s.observe(ctx, Event{Kind: EventStore, Op: "delete", Duration: time.Since(t), Err: err})
	return err
}

// inCallback marks a request's context as a sign-in callback, so that
// the problems answered during it count as failed sign-ins.
type inCallback struct{}

// refreshObserver tells the observer of token refreshes, with the
// provider's refusal sorted as elsewhere; nil without an observer.
func (a *Auth) refreshObserver() func(context.Context, time.Duration, error) {
	if a.s.cfg.Observe == nil {
		return nil
	}
	return func(ctx context.Context, took time.Duration, err error) {
		e := Event{Kind: EventTokenRefresh, Duration: took}
		if err != nil {
			e.Err = providerError(tokencache.Failure(err))
			var ae *AADSTSError
			switch {
			case ctx.Err() != nil && errors.Is(err, ctx.Err()):
				e.Reason = "canceled" // the caller left; the provider did not fail
			case errors.As(e.Err, &ae):
				e.Reason = "aadsts"
				if ae.Code != 0 {
					e.AADSTS = strconv.Itoa(ae.Code)
				}
			case errors.Is(e.Err, oidc.ErrProviderUnavailable):
				e.Reason = "provider_unavailable"
			default:
				e.Reason = "error"
			}
		}
		a.s.cfg.Observe(ctx, e)
	}
}
