// Command chi is entraweb in a chi app. entraweb's middleware already has
// chi's shape, func(http.Handler) http.Handler, so it goes straight into
// Use and With.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

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
	r := chi.NewRouter()
	// chi leaves r.URL.Path whole when it mounts, which is what Routes
	// matches on.
	r.Mount("/auth", auth.Routes())
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireLogin)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			u := entraweb.UserFrom(r.Context())
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "hello %s (%s)\n", u.Name, u.Username)
		})
	})
	r.With(auth.Role(adminRole)).Get("/admin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "admin page for %s\n", entraweb.UserFrom(r.Context()).Name)
	})
	return r
}
