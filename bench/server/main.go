// Command server is the target of bench/run.sh: an app on 127.0.0.1 with
// the same short handler served three ways, and a signed-in session for
// each protected one, made through an in-process emulator.
//
//	/bare   the handler alone (no entraweb)
//	/mem    behind RequireLogin, sessions in memory
//	/bolt   behind RequireLogin, sessions in a bolt file in a temp dir
//	/redis    behind RequireLogin, sessions in the Redis at -redis-url
//	          (only with that flag), read through client-side caching
//	/redisnc  the same with client-side caching off (client_cache=false):
//	          a GET per request
//
// When everything is ready it writes the URLs and Cookie header values to
// -out as shell assignments (BARE_URL, MEM_URL, MEM_COOKIE, BOLT_URL,
// BOLT_COOKIE, and REDIS_ROUTE_URL, REDIS_COOKIE, REDISNC_ROUTE_URL,
// REDISNC_COOKIE), then serves until it gets
// SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/demo"
	"github.com/entraweb/entraweb/session"
	_ "github.com/entraweb/entraweb/session/boltstore"
	_ "github.com/entraweb/entraweb/session/redisstore"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello\n")
})

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to serve on")
	out := flag.String("out", "", "file to write the URLs and cookies to (default: standard output)")
	user := flag.String("user", "alice", "emulator user to sign in")
	redisURL := flag.String("redis-url", "", "Redis for the /redis route (none: no /redis route)")
	flag.Parse()
	if err := run(*addr, *out, *user, *redisURL); err != nil {
		log.Fatal(err)
	}
}

func run(addr, out, user, redisURL string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr %q: want a loopback address such as 127.0.0.1:0", addr)
	}
	srv, err := entratest.Start(entratest.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "entraweb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	config := func(store, path string) entraweb.Config {
		cfg := demo.EmulatorConfig(srv) // the demo's app, signing in against srv
		cfg.Session = entraweb.SessionConfig{Store: store, Path: path}
		return cfg
	}
	mem, err := entraweb.New(context.Background(), config("memory", ""))
	if err != nil {
		return err
	}
	defer mem.Close()
	bolt, err := entraweb.New(context.Background(), config("bolt", filepath.Join(dir, "sessions.db")))
	if err != nil {
		return err
	}
	defer bolt.Close()

	memCookie, err := signIn(srv, mem, user)
	if err != nil {
		return fmt.Errorf("signing in to the memory-store app: %w", err)
	}
	boltCookie, err := signIn(srv, bolt, user)
	if err != nil {
		return fmt.Errorf("signing in to the bolt-store app: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("/bare", hello)
	mux.Handle("/mem", mem.RequireLogin(hello))
	mux.Handle("/bolt", bolt.RequireLogin(hello))

	var redisEnv string
	if redisURL != "" {
		key := make([]byte, 32)
		rand.Read(key)
		// The same Redis twice: as configured (client-side caching on),
		// and with caching off, for the cost of a GET per request.
		for _, route := range []struct{ name, url string }{{"redis", redisURL}, {"redisnc", redisURL + "?client_cache=false"}} {
			cfg := config("redis", "")
			cfg.Session.RedisURL = entraweb.Secret(route.url)
			cfg.Session.Key = entraweb.Secret(base64.StdEncoding.EncodeToString(key))
			red, err := entraweb.New(context.Background(), cfg)
			if err != nil {
				return err
			}
			defer red.Close()
			cookie, err := signIn(srv, red, user)
			if err != nil {
				return fmt.Errorf("signing in to the %s app: %w", route.name, err)
			}
			mux.Handle("/"+route.name, red.RequireLogin(hello))
			redisEnv += fmt.Sprintf("%s_ROUTE_URL='%s/%s'\n%s_COOKIE='%s'\n", strings.ToUpper(route.name), "BASE", route.name, strings.ToUpper(route.name), cookie)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	env := fmt.Sprintf("BARE_URL='%s/bare'\nMEM_URL='%s/mem'\nMEM_COOKIE='%s'\nBOLT_URL='%s/bolt'\nBOLT_COOKIE='%s'\n",
		base, base, memCookie, base, boltCookie)
	env += strings.ReplaceAll(redisEnv, "BASE", base)
	if err := writeOut(out, env); err != nil {
		hs.Close()
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// signIn signs user in to auth through the emulator, with auth's routes on
// a loopback server of their own (both apps use the default /auth/
// prefix, the one the emulator's demo app registers), and returns the
// session cookie as name=value. Cookies are not scoped by port, so the
// cookie is good for the benchmark server too.
func signIn(srv *entratest.Server, auth *entraweb.Auth, user string) (string, error) {
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(hello))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	b := srv.Browser()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, body, err := b.Visit(ctx, hs.URL+"/", user+"@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || body != "hello\n" {
		return "", fmt.Errorf("landed on %s with HTTP %d", resp.Request.URL, resp.StatusCode)
	}
	for _, c := range b.AppClient().Jar.Cookies(resp.Request.URL) {
		if c.Name == session.DefaultCookieName {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("no %s cookie after sign-in", session.DefaultCookieName)
}

// writeOut writes s to path by renaming a complete temporary file, so a
// script polling for path never reads half of it.
func writeOut(path, s string) error {
	if path == "" {
		_, err := io.WriteString(os.Stdout, s)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
