package oidc

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

// Access-token validation, next to its floor: a bare RSA verification.
//
//   - Cold: the cache is off, so every iteration parses the token and
//     verifies its signature.
//   - Miss: the cache is on but holds one token and two alternate, so
//     every iteration misses, verifies and evicts: the cold path plus the
//     cache's own cost.
//   - Warm: one token again and again, as a busy client sends it: a hash
//     and a map lookup.
//
// Each counts the verifications (the Principal hook runs once per
// verification) to prove it ran on what its name says.

func benchVerifier(b *testing.B) (*AccessVerifier, []string) {
	b.Helper()
	srv := entratest.NewServer(b, &entratest.Options{Config: apiWorld(false)})
	v := newAccessVerifier(srv, entratest.DemoTenantID, time.Now)
	if err := v.Keys.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	toks := []string{daemonAPIToken(b, srv), daemonAPIToken(b, srv)}
	return v, toks
}

func daemonAPIToken(tb testing.TB, srv *entratest.Server) string {
	return appToken(tb, srv, daemonID, daemonSecret, "api://"+entratest.DemoClientID+"/.default")
}

func benchVerify(b *testing.B, v *AccessVerifier, toks []string, wantVerifications func(n int) int) {
	verified := 0
	v.Principal = func(*AccessClaims) any { verified++; return nil }
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if _, err := v.VerifyAccessToken(ctx, toks[n%len(toks)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	if want := wantVerifications(n); verified != want {
		b.Fatalf("%d verifications in %d iterations, want %d", verified, n, want)
	}
}

func BenchmarkVerifyAccessTokenCold(b *testing.B) {
	v, toks := benchVerifier(b)
	v.EnableCache(0)
	benchVerify(b, v, toks[:1], func(n int) int { return n })
}

func BenchmarkVerifyAccessTokenMiss(b *testing.B) {
	v, toks := benchVerifier(b)
	v.EnableCache(1)
	benchVerify(b, v, toks, func(n int) int { return n })
}

func BenchmarkVerifyAccessTokenWarm(b *testing.B) {
	v, toks := benchVerifier(b)
	v.EnableCache(16)
	benchVerify(b, v, toks[:1], func(int) int { return 1 })
}

// BenchmarkRSAVerifyPKCS1v15 is the floor of the cold path: the RS256
// check of the same token's signature, nothing else.
func BenchmarkRSAVerifyPKCS1v15(b *testing.B) {
	v, toks := benchVerifier(b)
	tok := toks[0]
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	h, _ := emuHeaderKID(tok)
	k, err := v.Keys.Key(context.Background(), h, Trusted)
	if err != nil {
		b.Fatal(err)
	}
	signing := []byte(tok[:i])
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256(signing)
		if err := rsa.VerifyPKCS1v15(k.Pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// emuHeaderKID reads the kid of a token's header.
func emuHeaderKID(tok string) (string, error) {
	hb, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		return "", err
	}
	_, rest, _ := strings.Cut(string(hb), `"kid":"`)
	kid, _, _ := strings.Cut(rest, `"`)
	return kid, nil
}
