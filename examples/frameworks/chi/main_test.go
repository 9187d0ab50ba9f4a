package main

import (
	"testing"

	"github.com/entraweb/entraweb/examples/frameworks/internal/shutdowntest"
	"github.com/entraweb/entraweb/examples/frameworks/internal/signintest"
)

func TestSignIn(t *testing.T) { signintest.Run(t, newHandler) }

func TestGracefulShutdown(t *testing.T) { shutdowntest.Run(t, run) }
