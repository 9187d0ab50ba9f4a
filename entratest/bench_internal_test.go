package entratest

import (
	"runtime"
	"strings"
	"testing"
)

// BenchmarkMemoryPerCode measures the heap an outstanding authorization
// code costs: the only per-sign-in state the emulator keeps.
func BenchmarkMemoryPerCode(b *testing.B) {
	s, err := Start(Options{MaxCodes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	w := s.world.Load()
	u := w.users["alice@contoso.onmicrosoft.com"]
	req := &authRequest{ClientID: DemoClientID, RedirectURI: "http://localhost:8080/auth/callback",
		Scope: "openid profile offline_access User.Read", Nonce: "n0nce-abcdefghijklmnopqrstuvwxyz012345",
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Method: "S256"}
	const n = 20000
	var before, after runtime.MemStats
	b.ReportAllocs()
	for b.Loop() {
		s.mu.Lock()
		clear(s.codes)
		s.mu.Unlock()
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			// Each code holds strings of its own, as codes from separate
			// requests do.
			r := *req
			r.Scope, r.Nonce, r.Challenge, r.RedirectURI = strings.Clone(r.Scope), strings.Clone(r.Nonce), strings.Clone(r.Challenge), strings.Clone(r.RedirectURI)
			if _, e := s.newCode(&r, u, strings.Clone("2f1c9a40-7d1e-4b8a-9c33-5e6f7a8b9c0d"), 1); e != nil {
				b.Fatal(e)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/code")
}
