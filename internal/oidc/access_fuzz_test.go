package oidc

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyAccessToken feeds mutations of good and bad tokens to the
// access-token verifier (with its cache on): it never panics, every
// refusal is a TokenError, and whatever it accepts is a token for this
// API of the expected tenant that grants something.
func FuzzVerifyAccessToken(f *testing.F) {
	li := newLocalIssuer(f, "https://login.example/{tenantid}/v2.0")
	now := time.Now()
	good := li.claims(now)
	f.Add(li.sign(rs256, good))
	f.Add(li.sign(map[string]any{"alg": "RS256", "x5t": "t1"}, good))
	f.Add(li.sign(map[string]any{"alg": "none"}, good))
	f.Add(li.sign(map[string]any{"alg": "HS256", "kid": "k1"}, good))
	f.Add(li.sign(map[string]any{"alg": "RS256", "kid": "k1", "nonce": "x"}, good))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.")
	f.Add("..")
	v := li.verifier("https://login.example/"+localTenant+"/v2.0", time.Now)
	v.EnableCache(64)
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.VerifyAccessToken(context.Background(), raw)
		if err != nil {
			if te, ok := err.(*TokenError); !ok || !te.Access || strings.Contains(te.Error(), raw) && len(raw) > 16 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if len(c.Audience) != 1 || c.Audience[0] != good["aud"] || c.TenantID != localTenant || len(c.Scopes)+len(c.Roles) == 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
