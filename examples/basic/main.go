// Command basic is the smallest complete web app signed in with entraweb.
// Every page needs a signed-in user; the home page greets them, and /admin/
// needs the app role DemoApp.Admin (the emulator's demo app defines it;
// use a role your own app registration defines).
//
// It reads its configuration from the environment (and appsettings.json, if
// one is in the working directory), so the same binary runs against a real
// tenant or the local emulator:
//
//	export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
//	export AZURE_AUTHORITY_HOST=https://127.0.0.1:8443/   # only for the emulator
//	export SSL_CERT_FILE=...                              # only for the emulator's CA
//	go run ./examples/basic -listen 127.0.0.1:8080
//
// Register http://127.0.0.1:8080/auth/callback as a redirect URI of the app.
//
// Sessions live in memory: the session/boltstore package is deliberately not
// imported. Linking it would make a bolt file and a generated key file appear
// in the working directory on the first run, which is a surprise in an
// example; losing sessions at a restart only costs a silent trip to Entra ID.
// An app that keeps sessions adds
//
//	import _ "github.com/entraweb/entraweb/session/boltstore"
//
// and sets Entraweb:Session:Key (or uses Redis for many instances).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/entraweb/entraweb"
)

// html/template escapes the user's name and username.
var home = template.Must(template.New("home").Parse(`<!doctype html>
<title>entraweb basic example</title>
<h1>Hello, {{.Name}}</h1>
<p>You are signed in as <b>{{.Username}}</b>.</p>
<p><a href="/admin/">Administration</a> (needs the role DemoApp.Admin) · <a href="/auth/logout">Sign out</a></p>
`))

var admin = template.Must(template.New("admin").Parse(`<!doctype html>
<title>entraweb basic example: administration</title>
<h1>Administration</h1>
<p>{{.Name}} holds the roles {{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}.</p>
<p><a href="/">Home</a></p>
`))

func main() {
	os.Exit(run())
}

func run() int {
	listen := flag.String("listen", "127.0.0.1:8080", "`address` to listen on")
	flag.Parse()

	cfg, err := entraweb.LoadConfig()
	if err != nil {
		return configError(err)
	}
	// New checks the whole configuration and then reads the provider's
	// discovery document, so a wrong tenant or an untrusted CA shows here,
	// not at the first sign-in.
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		return configError(err)
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		home.Execute(w, entraweb.UserFrom(r.Context()))
	})))
	// RequireRole admits DemoApp.Admin and nobody else: with the default
	// hierarchy (Admin ⊇ Write ⊇ Read), a RequireRole("DemoApp.Read", ·)
	// page would admit admins and writers too. Others get a 403 page that
	// names the role.
	mux.Handle("/admin/", auth.RequireRole("DemoApp.Admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		admin.Execute(w, entraweb.UserFrom(r.Context()))
	})))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "basic: %v\n", err)
		return 1
	}
	srv := newServer(mux)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	slog.Info("basic: listening", "url", "http://"+ln.Addr().String()+"/")

	select {
	case err := <-done:
		fmt.Fprintf(os.Stderr, "basic: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C ends the process at once
	slog.Info("basic: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(os.Stderr, "basic: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// newServer is the server run serves h with. Each limit stops a client
// from holding a connection, with its goroutine and file descriptor, open
// for as long as it likes: ReadHeaderTimeout alone lets a client drip a
// request body to /auth/callback forever, or park an idle keep-alive
// connection.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request, body included; the app's requests are small.
		ReadTimeout: 30 * time.Second,
		// Longer than the 30 s entraweb gives a call to Entra ID, so a
		// slow token exchange ends in an error page, not a dropped
		// connection.
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  2 * time.Minute,
		// The sign-in cookies take a few KB; the default allows 1 MB.
		MaxHeaderBytes: 64 << 10,
	}
}

// configError explains a configuration that cannot work. The error from
// entraweb already lists every problem with the name of its key.
func configError(err error) int {
	fmt.Fprintf(os.Stderr, "basic: cannot start:\n%v\n", err)
	if !errors.Is(err, entraweb.ErrProviderUnavailable) {
		fmt.Fprintln(os.Stderr, "\nSet AZURE_TENANT_ID, AZURE_CLIENT_ID and a credential such as AZURE_CLIENT_SECRET (and\n"+
			"AZURE_AUTHORITY_HOST for another authority, such as `go run ./cmd/entraweb emulator`),\n"+
			"or put them in appsettings.json.")
	}
	return 1
}
