package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb/proxy"
)

// cannedTransport answers every request at once with a small body, so the
// benchmarks measure the proxies and not an upstream or the network.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}},
		Body:          io.NopCloser(strings.NewReader("hello")),
		ContentLength: 5,
		Request:       r,
	}, nil
}

func serveN(b *testing.B, h http.Handler, req *http.Request) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// slicePool is the simplest BufferPool, for the baseline.
type slicePool struct{ p sync.Pool }

func (s *slicePool) Get() []byte {
	if b, ok := s.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (s *slicePool) Put(b []byte) { s.p.Put(&b) }

// BenchmarkBareReverseProxy is the baseline: a ReverseProxy with a buffer
// pool that only sets the forwarding headers.
func BenchmarkBareReverseProxy(b *testing.B) {
	u, _ := url.Parse("http://upstream.test")
	rp := &httputil.ReverseProxy{Transport: cannedTransport{}, BufferPool: &slicePool{}, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.SetXForwarded()
	}}
	req := httptest.NewRequest("GET", "http://proxy.test/dash/page", nil)
	serveN(b, rp, req)
}

// BenchmarkSignedIn is a signed-in user's request through the proxy: the
// session read, the identity headers, the spoofing filter, and the
// identity assertion from its cache.
func BenchmarkSignedIn(b *testing.B) { benchSignedIn(b, nil, false) }

// BenchmarkSignedInNoAssertion is the same without the assertion.
func BenchmarkSignedInNoAssertion(b *testing.B) {
	benchSignedIn(b, func(c *proxy.Config) { c.NoAssertion = true }, false)
}

// BenchmarkSignedInAssertionMiss signs a new assertion for every request
// (the clock moves past each one's reuse window): the cache's miss.
func BenchmarkSignedInAssertionMiss(b *testing.B) { benchSignedIn(b, nil, true) }

func benchSignedIn(b *testing.B, mod func(*proxy.Config), miss bool) {
	e := newEnv(b, func(c *proxy.Config) {
		c.Transport = cannedTransport{}
		c.AccessLog = false
		c.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
		if mod != nil {
			mod(c)
		}
	})
	if miss {
		var n atomic.Int64
		start := time.Now()
		proxy.SetClock(e.h, func() time.Time { return start.Add(time.Duration(n.Add(1)) * 5 * time.Minute) })
	}
	br := e.signIn(b, alice)
	u, _ := url.Parse(e.url)
	req := httptest.NewRequest("GET", e.url+"/dash/page", nil).WithContext(context.Background())
	for _, c := range br.AppClient().Jar.Cookies(u) {
		if strings.Contains(c.Name, "entraweb_session") {
			req.AddCookie(c)
		}
	}
	req.Header.Set("Sec-Fetch-Mode", "cors")
	serveN(b, e.h, req)
}

// BenchmarkPublic is an anonymous request for a public path.
func BenchmarkPublic(b *testing.B) {
	e := newEnv(b, func(c *proxy.Config) {
		c.Transport = cannedTransport{}
		c.AccessLog = false
		c.PublicPaths = []string{"/static/"}
	})
	req := httptest.NewRequest("GET", e.url+"/static/app.js", nil)
	serveN(b, e.h, req)
}
