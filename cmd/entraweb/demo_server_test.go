package main

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/entraweb/entraweb/internal/servertest"
)

// TestDemoServerLimits checks the server the demo builds.
func TestDemoServerLimits(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	servertest.Limits(t, func(h http.Handler) *http.Server { return newDemoServer(h, quiet) })
}
