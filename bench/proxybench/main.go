// Command proxybench is the helper of bench/proxy.sh. It runs in one of
// two modes.
//
//	proxybench env -out FILE
//
// starts the emulator (in process), a hello upstream on loopback and a
// control endpoint, writes them to FILE as shell assignments (EMU_URL,
// TENANT_ID, CLIENT_ID, CLIENT_SECRET, CA_FILE, UPSTREAM_URL,
// CONTROL_URL) and serves until SIGINT or SIGTERM. The control endpoint
// GET /signin?url=U&cookie=NAME signs the demo user in at U, through
// whatever proxy serves it and the emulator, as a browser would, and
// answers with the Cookie header value the proxy set (every cookie whose
// name starts with NAME). GET /identity-bytes answers how many bytes
// of identity headers (names and values) the upstream's last request
// with an X-Bench-Probe header had.
//
//	proxybench bare -listen ADDR -upstream URL
//
// serves a bare httputil.ReverseProxy in front of URL: a transport with
// enough idle connections per host and a buffer pool, and nothing else
// (the baseline a proxy with sign-in is compared with).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: proxybench env -out FILE | proxybench bare -listen ADDR -upstream URL")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "env":
		fs := flag.NewFlagSet("env", flag.ExitOnError)
		out := fs.String("out", "", "file for the shell assignments")
		fs.Parse(os.Args[2:])
		err = runEnv(ctx, *out)
	case "bare":
		fs := flag.NewFlagSet("bare", flag.ExitOnError)
		listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
		upstream := fs.String("upstream", "", "the upstream's URL")
		pprofAddr := fs.String("pprof", "", "loopback address to serve net/http/pprof on, for profiling the baseline")
		identity := fs.Bool("identity-sized-headers", false, "add fixed headers the size of entraweb's identity headers for a user (X-MS-CLIENT-PRINCIPAL 1,348 bytes, the assertion 828, the -ID, -NAME, -IDP), to measure what sending them costs by itself")
		fs.Parse(os.Args[2:])
		if *pprofAddr != "" {
			go http.ListenAndServe(*pprofAddr, nil) // DefaultServeMux holds pprof's handlers
		}
		err = runBare(ctx, *listen, *upstream, *identity)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func runEnv(ctx context.Context, out string) error {
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	// oauth2-proxy's callback, on any loopback port.
	if err := srv.Update(func(c *entratest.Config) {
		for t := range c.Tenants {
			apps := c.Tenants[t].Apps
			for i := range apps {
				if apps[i].ClientID == entratest.DemoClientID {
					apps[i].RedirectURIs = append(apps[i].RedirectURIs, "http://127.0.0.1/oauth2/callback")
				}
			}
		}
	}); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "entraweb-proxybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
		return err
	}

	// The hello upstream notes how many bytes of identity headers the
	// last request had, so the script can check that the bare proxy's
	// stand-ins have the size of what entraweb sends.
	var identityBytes atomic.Int64
	up, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Bench-Probe") != "" {
			n := 0
			for k, v := range r.Header {
				if _, ok := identityHeaders[k]; ok {
					n += len(k) + len(v[0])
				}
			}
			identityBytes.Store(int64(n))
		}
		io.WriteString(w, "hello\n")
	}))
	if err != nil {
		return err
	}
	defer up.Close()

	var mu sync.Mutex // one sign-in at a time
	control, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/identity-bytes" {
			fmt.Fprint(w, identityBytes.Load())
			return
		}
		mu.Lock()
		defer mu.Unlock()
		cookie, err := signIn(r.Context(), srv, r.URL.Query().Get("url"), r.URL.Query().Get("cookie"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, cookie)
	}))
	if err != nil {
		return err
	}
	defer control.Close()

	env := fmt.Sprintf("EMU_URL='%s'\nTENANT_ID='%s'\nCLIENT_ID='%s'\nCLIENT_SECRET='%s'\nCA_FILE='%s'\nUPSTREAM_URL='%s'\nCONTROL_URL='%s'\n",
		srv.URL, entratest.DemoTenantID, entratest.DemoClientID, entratest.DemoClientSecret, ca, up.url, control.url)
	if err := writeOut(out, env); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// signIn visits pageURL as the demo user and returns the named cookie.
func signIn(ctx context.Context, srv *entratest.Server, pageURL, name string) (string, error) {
	u, err := url.Parse(pageURL)
	if err != nil || u.Hostname() != "127.0.0.1" || name == "" {
		return "", errors.New("want url=http://127.0.0.1:port/... and cookie=NAME")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b := srv.Browser()
	resp, body, err := b.Visit(ctx, pageURL, "alice@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || body != "hello\n" {
		return "", fmt.Errorf("signing in at %s ended at %s with HTTP %d: %.300s", pageURL, resp.Request.URL, resp.StatusCode, body)
	}
	// A proxy that keeps the session in the cookie may split it in parts
	// (oauth2-proxy's _oauth2_proxy_0, _1...): every cookie whose name
	// starts with name is sent.
	var cookies []string
	for _, c := range b.AppClient().Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, name) {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
	}
	if len(cookies) == 0 {
		return "", fmt.Errorf("no %s cookie after signing in at %s", name, pageURL)
	}
	return strings.Join(cookies, "; "), nil
}

func runBare(ctx context.Context, listen, upstream string, identity bool) error {
	target, err := url.Parse(upstream)
	if err != nil || target.Host == "" {
		return fmt.Errorf("-upstream %q: want http://host:port", upstream)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if identity {
				for k, v := range identityHeaders {
					pr.Out.Header[k] = v
				}
			}
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		BufferPool: &pool{},
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Printf("bare proxy on http://%s\n", ln.Addr())
	<-ctx.Done()
	return hs.Close()
}

// identityHeaders have the sizes of what entraweb proxy sends for the
// emulator's alice (the values are filler).
var identityHeaders = map[string][]string{
	"X-Ms-Client-Principal":      {strings.Repeat("e", 1348)},
	"X-Entraweb-Assertion":       {strings.Repeat("a", 828)},
	"X-Ms-Client-Principal-Id":   {strings.Repeat("i", 36)},
	"X-Ms-Client-Principal-Name": {strings.Repeat("n", 29)},
	"X-Ms-Client-Principal-Idp":  {"aad"},
}

type pool struct{ p sync.Pool }

func (p *pool) Get() []byte {
	if b, ok := p.p.Get().(*[32 << 10]byte); ok {
		return b[:]
	}
	return new([32 << 10]byte)[:]
}

func (p *pool) Put(b []byte) {
	if cap(b) == 32<<10 {
		p.p.Put((*[32 << 10]byte)(b[:32<<10]))
	}
}

type server struct {
	*http.Server
	url string
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &server{Server: hs, url: "http://" + ln.Addr().String()}, nil
}

// writeOut writes s to path by renaming a complete file, so a script
// polling for path never reads half of it.
func writeOut(path, s string) error {
	if path == "" {
		_, err := io.WriteString(os.Stdout, s)
		return err
	}
	if err := os.WriteFile(path+".tmp", []byte(s), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
