// Package soak holds the soak test (make soak): 200 virtual users sign in,
// browse, get access tokens, go through the proxy and sign out against
// the Entra ID emulator, three app instances sharing one Redis and the
// proxy, while faults are injected at random; every response is checked
// and the run's figures are printed.
//
// It is only a test: go test ./... skips it unless ENTRAWEB_SOAK is set to
// a duration, and its checkers' own tests run every time.
// ENTRAWEB_SOAK_USERS (at most 200) sets the number of users,
// ENTRAWEB_SOAK_SEED repeats a run's faults, and
// ENTRAWEB_SOAK_HEAPPROFILE writes the heap left after the run.
//
//	ENTRAWEB_SOAK=30s go test -v -run TestSoak ./soak/
//	make soak SOAK_DURATION=10m
package soak
