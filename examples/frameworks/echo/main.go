// Command echo is entraweb in an echo app: echo.WrapHandler mounts the
// sign-in routes and echo.WrapMiddleware turns entraweb's middleware into
// echo's.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entraweb/entraweb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "`address` to listen on")
	flag.Parse()
	// The first SIGINT or SIGTERM cancels ctx, and run shuts down
	// gracefully; stop then restores the default handling, so a second
	// signal ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	cfg, err := entraweb.LoadConfig() // appsettings.json and AZURE_* variables
	if err != nil {
		log.Fatal(err)
	}
	auth, err := entraweb.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		auth.Close()
		log.Fatal(err)
	}
	code := run(ctx, ln, newHandler(auth))
	auth.Close() // after the last request has finished with it
	os.Exit(code)
}

// run serves h on ln until ctx is done, then stops taking connections and
// gives the requests in flight up to 10 s to finish. It returns the exit
// status: 0 after a clean shutdown.
func run(ctx context.Context, ln net.Listener, h http.Handler) int {
	// Every limit is set: each one left at zero lets a client hold a
	// connection open as long as it likes, by dripping a request body,
	// say, or idling on keep-alive.
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // beyond entraweb's 30 s for a call to Entra ID
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // the sign-in cookies take a few KB
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Printf("listening on http://%s/", ln.Addr())
	select {
	case err := <-served:
		log.Print(err)
		return 1
	case <-ctx.Done():
	}
	log.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Printf("shutdown: %v", err)
		return 1
	}
	return 0
}

// adminRole is an app role of the emulator's DemoApp; use one of your
// app registration's roles.
const adminRole = "DemoApp.Admin"

func newHandler(auth *entraweb.Auth) http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.Any("/auth/*", echo.WrapHandler(auth.Routes()))
	e.GET("/", func(c echo.Context) error {
		u := entraweb.UserFrom(c.Request().Context())
		return c.String(http.StatusOK, "hello "+u.Name+" ("+u.Username+")\n")
	}, echo.WrapMiddleware(auth.RequireLogin))
	e.GET("/admin", func(c echo.Context) error {
		return c.String(http.StatusOK, "admin page for "+entraweb.UserFrom(c.Request().Context()).Name+"\n")
	}, echo.WrapMiddleware(auth.Role(adminRole)))
	return e
}
