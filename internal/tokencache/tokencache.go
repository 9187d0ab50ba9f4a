// Package tokencache acquires and keeps the tokens of entraweb's users
// and of the app itself with MSAL Go: a bounded pool of MSAL clients, each
// user's partition of MSAL's serialized cache in the session store beside
// a small index of access tokens, and the one place that sorts MSAL's
// failures into what the caller can act on.
package tokencache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/session"
)

// Errors a caller branches on. The root package exports
// ErrStoreUnavailable under the same name.
var (
	// ErrStoreUnavailable means the session store failed; it never means
	// that the user has no tokens.
	ErrStoreUnavailable = errors.New("entraweb: the session store is unavailable")
	// ErrNoRefreshToken means nothing is cached to refresh with: only a
	// new sign-in can help.
	ErrNoRefreshToken = errors.New("no token cache for this user: sign in again")
	// ErrDeclinedScopes means the provider did not grant every scope
	// asked for.
	ErrDeclinedScopes = errors.New("entra id did not grant every scope asked for")
)

// RefreshMargin: a token with less than this left is not handed out, as
// MSAL itself does; the caller's request must not carry a token that
// expires on the way.
const RefreshMargin = 5 * time.Minute

// Config is what a Cache needs.
type Config struct {
	Store session.Store
	Box   *session.Box
	// Life is how long a partition is kept after its last write.
	Life time.Duration
	Now  func() time.Time
	Log  *slog.Logger
	// NewClient makes an MSAL confidential client; a nil cache leaves
	// MSAL its own in-memory cache (for the app's own tokens).
	NewClient func(cache.ExportReplace) (confidential.Client, error)
	// OnRefresh, when set, is told of each refresh of a user's token with
	// the refresh token: how long the call took and its failure.
	OnRefresh func(ctx context.Context, took time.Duration, err error)
}

// Partition names one signed-in session's tokens: where they are stored
// (Key, one per session, so that signing out in one browser leaves the
// user's other browsers their tokens) and whose they are (Account, MSAL's
// home account id "oid.tid", from the validated ID token).
type Partition struct {
	Key     string
	Account string
}

// Cache gets tokens for users (by their partition) and for the app.
type Cache struct {
	recs *records
	pool *clientPool
	log  *slog.Logger
	now  func() time.Time

	appOnce sync.Once
	app     confidential.Client
	appErr  error
	newApp  func(cache.ExportReplace) (confidential.Client, error)
	obo     oboClients

	onRefresh func(context.Context, time.Duration, error)
}

// New makes a Cache.
func New(c Config) *Cache {
	return &Cache{
		recs:   &records{store: c.Store, box: c.Box, life: c.Life, now: c.Now},
		pool:   newClientPool(c.NewClient),
		log:    c.Log,
		now:    c.Now,
		newApp: c.NewClient,

		onRefresh: c.OnRefresh,
	}
}

func storeFailure(err error) error {
	return fmt.Errorf("%w: token cache: %w", ErrStoreUnavailable, err)
}

// Token returns an access token for scopes of the session's user: from the index when one has time left (one store read, no
// MSAL), else refreshed by MSAL with the user's refresh token, once for
// any number of concurrent callers. Errors: ErrStoreUnavailable,
// ErrNoRefreshToken, ErrDeclinedScopes and ErrProviderUnavailable
// (wrapped), or the provider's refusal as an *oidc.ErrorResponse.
func (c *Cache) Token(ctx context.Context, p Partition, scopes []string) (string, error) {
	if p.Key == "" || p.Account == "" {
		return "", ErrNoRefreshToken
	}
	key := scopesKey(scopes)
	idx, err := c.recs.loadIndex(ctx, p.Key)
	if err != nil {
		return "", storeFailure(err)
	}
	if tok, ok := idx.lookup(key, c.now(), RefreshMargin); ok {
		return tok, nil
	}
	unlock := c.recs.lock(p.Key)
	defer unlock()
	// Another request of the session may have refreshed while this one
	// waited.
	rec, err := c.recs.load(ctx, p.Key)
	if err != nil {
		return "", storeFailure(err)
	}
	if tok, ok := rec.lookup(key, c.now(), RefreshMargin); ok {
		return tok, nil
	}
	// MSAL answers a cache without a refresh token with an error known
	// only by its text: look at the cache's structure first instead.
	if !hasRefreshToken(rec.msal, p.Account) {
		return "", ErrNoRefreshToken
	}
	cl, err := c.pool.get(ctx)
	if err != nil {
		return "", err
	}
	defer c.pool.put(cl)
	cl.cache.data = rec.msal
	acct, err := cl.app.Account(ctx, p.Account)
	if err != nil || acct.HomeAccountID == "" {
		return "", ErrNoRefreshToken
	}
	start := time.Now()
	res, err := cl.app.AcquireTokenSilent(ctx, scopes, confidential.WithSilentAccount(acct))
	if c.onRefresh != nil {
		c.onRefresh(ctx, time.Since(start), err)
	}
	if err != nil {
		return "", Failure(err)
	}
	rec.msal = cl.cache.data
	rec.remember(key, res.AccessToken, res.ExpiresOn)
	if err := c.recs.save(ctx, p.Key, rec); err != nil {
		// The token is good; only the next call will have to refresh.
		c.log.Warn("entraweb: could not store the token cache", "err", err)
	}
	return res.AccessToken, nil
}

// Redeemed is what a code redemption gives: the raw ID token (not yet
// validated: MSAL checks nothing) and the tokens to keep once it is.
type Redeemed struct {
	IDToken string
	msal    []byte // MSAL's cache after the redemption
	account string // the home account id MSAL filed the tokens under
	scopes  string // scopesKey of the resource scopes, "" for none
	token   string
	expires time.Time
}

// Redeem exchanges an authorization code (with its PKCE verifier) for
// tokens. scopes are the resource scopes of the sign-in, possibly none.
func (c *Cache) Redeem(ctx context.Context, code, redirectURI, verifier string, scopes []string, claims string) (*Redeemed, error) {
	cl, err := c.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	defer c.pool.put(cl)
	resource := len(scopes) > 0
	if !resource {
		// MSAL adds the OpenID scopes itself and wants at least one.
		scopes = []string{"openid"}
	}
	opts := []confidential.AcquireByAuthCodeOption{confidential.WithChallenge(verifier)}
	if claims != "" {
		opts = append(opts, confidential.WithClaims(claims))
	}
	res, err := cl.app.AcquireTokenByAuthCode(ctx, code, redirectURI, scopes, opts...)
	if err != nil {
		return nil, Failure(err)
	}
	out := &Redeemed{IDToken: res.IDToken.RawToken, msal: cl.cache.data, account: strings.ToLower(res.Account.HomeAccountID)}
	if resource {
		out.scopes, out.token, out.expires = scopesKey(scopes), res.AccessToken, res.ExpiresOn
	}
	return out, nil
}

// Keep stores the tokens of a redemption in a new session's partition,
// whose Account is the user its validated ID token names. It keeps
// nothing when MSAL filed the tokens under another account (and says so
// with kept false).
func (c *Cache) Keep(ctx context.Context, p Partition, r *Redeemed) (kept bool, err error) {
	rec := &tokenRecord{}
	kept = r.account == p.Account
	rec.msal = nil
	if kept {
		rec.msal = r.msal
		if r.token != "" {
			rec.remember(r.scopes, r.token, r.expires)
		}
	}
	if err := c.recs.save(ctx, p.Key, rec); err != nil {
		return kept, storeFailure(err)
	}
	return kept, nil
}

// Delete removes a session's partition (its Key).
func (c *Cache) Delete(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	if err := c.recs.delete(ctx, key); err != nil {
		return storeFailure(err)
	}
	return nil
}

// AppToken returns a token of the app itself (client credentials). Those
// tokens belong to no user, so MSAL's own in-memory cache serves every
// caller through one client.
func (c *Cache) AppToken(ctx context.Context, scopes []string) (string, error) {
	c.appOnce.Do(func() { c.app, c.appErr = c.newApp(nil) })
	if c.appErr != nil {
		return "", c.appErr
	}
	res, err := c.app.AcquireTokenByCredential(ctx, scopes)
	if err != nil {
		return "", Failure(err)
	}
	return res.AccessToken, nil
}
