package tokencache

import (
	"context"
	"net/url"
	"runtime"
	"strings"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// clientPool lends MSAL Go confidential clients, one borrower at a time.
//
// One client shared by concurrent users misbehaves with a partitioned
// cache (MSAL replaces the cache under a read lock and reads outside it),
// and a client per call repeats the authority discovery every time. A
// small pool gives each call a client of its own that has done its
// discovery already. Each client's cache accessor starts every call from
// the cache the borrower hands it (empty unless given), so no token of one
// user is ever seen by another.
type clientPool struct {
	free    chan *msalClient
	tokens  chan struct{} // one per client that may still be created
	newFunc func() (*msalClient, error)
}

type msalClient struct {
	app   confidential.Client
	cache *callCache
}

// callCache is the token cache of one call: Replace loads data (or an
// empty cache), Export keeps what MSAL wrote.
type callCache struct{ data []byte }

func (c *callCache) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	if len(c.data) == 0 {
		return u.Unmarshal([]byte("{}"))
	}
	return u.Unmarshal(c.data)
}

func (c *callCache) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err == nil {
		c.data = b
	}
	return err
}

func newClientPool(newApp func(cache.ExportReplace) (confidential.Client, error)) *clientPool {
	size := min(max(2*runtime.GOMAXPROCS(0), 4), 32)
	p := &clientPool{free: make(chan *msalClient, size), tokens: make(chan struct{}, size)}
	for range size {
		p.tokens <- struct{}{}
	}
	p.newFunc = func() (*msalClient, error) {
		cc := &callCache{}
		app, err := newApp(cc)
		if err != nil {
			return nil, err
		}
		return &msalClient{app: app, cache: cc}, nil
	}
	return p
}

// get lends a client, making one if the pool may still grow, else
// waiting for one to come back.
func (p *clientPool) get(ctx context.Context) (*msalClient, error) {
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	select {
	case c := <-p.free:
		return c, nil
	case <-p.tokens:
		c, err := p.newFunc()
		if err != nil {
			p.tokens <- struct{}{}
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *clientPool) put(c *msalClient) {
	c.cache.data = nil
	p.free <- c
}

// IsMicrosoftHost reports whether MSAL's instance discovery knows the
// host; for any other (an emulator, a proxy) it must be off, or MSAL asks
// Microsoft about a host it has never heard of.
func IsMicrosoftHost(authorityHost string) bool {
	u, err := url.Parse(authorityHost)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Hostname()) {
	case "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net",
		"login.microsoftonline.us", "login.usgovcloudapi.net", "login.chinacloudapi.cn", "login.partner.microsoftonline.cn":
		return true
	}
	return false
}
