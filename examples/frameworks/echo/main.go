// Command echo is entraweb in an echo app: echo.WrapHandler mounts the
// sign-in routes and echo.WrapMiddleware turns entraweb's middleware into
// echo's.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/entraweb/entraweb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "`address` to listen on")
	flag.Parse()
	cfg, err := entraweb.LoadConfig() // appsettings.json and AZURE_* variables
	if err != nil {
		log.Fatal(err)
	}
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on http://%s/", *listen)
	// Every limit is set: each one left at zero lets a client hold a
	// connection open as long as it likes, by dripping a request body,
	// say, or idling on keep-alive.
	srv := &http.Server{
		Addr:              *listen,
		Handler:           newHandler(auth),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // beyond entraweb's 30 s for a call to Entra ID
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // the sign-in cookies take a few KB
	}
	err = srv.ListenAndServe()
	auth.Close()
	log.Fatal(err)
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
