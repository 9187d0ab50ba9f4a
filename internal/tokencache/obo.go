package tokencache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// OnBehalfOf returns a token for scopes of the user whose access token
// (assertion, already validated by the caller, valid until assertionExp)
// called the app's API: MSAL Go's on-behalf-of grant. Tokens are kept
// per incoming token and scope set, in the store, under the SHA-256 of
// the assertion (MSAL's own partition key for this flow), and the entry
// ends when the incoming token does: a client that comes back with the
// same token gets the same downstream token without a call to Entra ID,
// and nothing outlives the user's own token. Concurrent calls for one
// assertion share one request. tenant, when set, is the user's tenant,
// for an app whose authority is organizations or common. Errors as
// Token's.
func (c *Cache) OnBehalfOf(ctx context.Context, assertion string, assertionExp time.Time, tenant string, scopes []string) (string, error) {
	sum := sha256.Sum256([]byte(assertion))
	partition := "obo:" + hex.EncodeToString(sum[:])
	key := scopesKey(scopes)
	idx, err := c.recs.loadIndex(ctx, partition)
	if err != nil {
		return "", storeFailure(err)
	}
	if tok, ok := idx.lookup(key, c.now(), RefreshMargin); ok {
		return tok, nil
	}
	unlock := c.recs.lock(partition)
	defer unlock()
	if idx, err = c.recs.loadIndex(ctx, partition); err != nil {
		return "", storeFailure(err)
	}
	if tok, ok := idx.lookup(key, c.now(), RefreshMargin); ok {
		return tok, nil
	}
	cl, err := c.obo.get(c.newApp)
	if err != nil {
		return "", err
	}
	defer c.obo.put(cl)
	var opts []confidential.AcquireOnBehalfOfOption
	if tenant != "" {
		opts = append(opts, confidential.WithTenantID(tenant))
	}
	res, err := cl.app.AcquireTokenOnBehalfOf(ctx, assertion, scopes, opts...)
	cl.uses++
	if err != nil {
		return "", Failure(err)
	}
	idx.remember(key, res.AccessToken, res.ExpiresOn)
	if err := c.recs.saveIndex(ctx, partition, idx, assertionExp); err != nil {
		c.log.Warn("entraweb: could not store an on-behalf-of token", "err", err)
	}
	return res.AccessToken, nil
}

// oboClients lends MSAL clients for on-behalf-of calls. MSAL Go v1.10.1
// cannot hand its on-behalf-of cache to a cache accessor (its partitioned
// store refuses to be unmarshaled), so these clients keep MSAL's own
// in-memory cache; a client is retired after oboClientUses calls so that
// cache stays small (the index in the store is what serves repeats).
type oboClients struct {
	mu   sync.Mutex
	free []*oboClient
}

type oboClient struct {
	app  confidential.Client
	uses int
}

const (
	oboClientUses = 64
	oboClientsMax = 8
)

func (p *oboClients) get(newApp func(cache.ExportReplace) (confidential.Client, error)) (*oboClient, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		cl := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return cl, nil
	}
	p.mu.Unlock()
	app, err := newApp(nil)
	if err != nil {
		return nil, err
	}
	return &oboClient{app: app}, nil
}

func (p *oboClients) put(cl *oboClient) {
	if cl.uses >= oboClientUses {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < oboClientsMax {
		p.free = append(p.free, cl)
	}
}
