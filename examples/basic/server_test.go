package main

import (
	"testing"

	"github.com/entraweb/entraweb/internal/servertest"
)

// TestServerLimits checks the server run builds.
func TestServerLimits(t *testing.T) { servertest.Limits(t, newServer) }
