package redisstore_test

import (
	"context"
	"log"
	"net/http"

	"github.com/entraweb/entraweb"
	_ "github.com/entraweb/entraweb/session/redisstore" // makes "redis" a store configuration can name
)

// An app that runs as several instances: each one loads the same
// configuration, with the Redis URL and the shared session key from the
// environment (ENTRAWEB_REDIS_URL, Entraweb__Session__Key).
func Example() {
	cfg, err := entraweb.LoadConfig()
	if err != nil {
		log.Fatal(err)
	}
	// Or in code:
	//	cfg.Session.Store = "redis"
	//	cfg.Session.RedisURL = "rediss://:password@cache.example.com:6380/0"
	//	cfg.Session.KeyPrefix = "myapp:"
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err) // names every problem, never the Redis password
	}
	defer auth.Close()
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello " + entraweb.UserFrom(r.Context()).Name))
	})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
