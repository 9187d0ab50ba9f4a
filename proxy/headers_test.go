package proxy

import (
	"strings"
	"testing"
)

func TestHeaderNames(t *testing.T) {
	identity := []string{"X-Ms-Client-Principal", "x_ms_client_principal_name", "X-MS-TOKEN-AAD-ID-TOKEN", "X_Auth_Request_Email",
		"X-Forwarded-User", "x_forwarded_preferred_username", "X-Entraweb-Assertion"}
	forwarding := []string{"X-Forwarded-For", "x_forwarded_host", "Forwarded", "X-Real-Ip", "X-Original-Url", "x_original_uri", "True-Client-Ip"}
	neither := []string{"X-Request-Id", "Authorization", "Cookie", "X-Forwarded", "X-Ms-Clientprincipal", "Accept", "Forwarded-For"}
	for _, n := range identity {
		if !isIdentityHeader(n) {
			t.Errorf("%s is not taken for an identity header", n)
		}
	}
	for _, n := range forwarding {
		if isIdentityHeader(n) || !isForwardingHeader(n) {
			t.Errorf("%s is not taken for a forwarding header only", n)
		}
	}
	for _, n := range neither {
		if isIdentityHeader(n) || isForwardingHeader(n) {
			t.Errorf("%s is taken for a header the proxy controls", n)
		}
	}
}

// FuzzHeaderNames checks that a header's class does not depend on how its
// name is spelled: case and "_" for "-" never let one through.
func FuzzHeaderNames(f *testing.F) {
	for _, s := range []string{"X-Ms-Client-Principal", "x_forwarded_user", "X-Forwarded-For", "Forwarded", "X-Original-Url", "Accept"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		// net/http refuses header names that are not tokens, so only
		// tokens reach the proxy.
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
				t.Skip()
			}
		}
		variants := []string{
			strings.ToUpper(name), strings.ToLower(name),
			strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(name, "_", "-"),
		}
		for _, v := range variants {
			if isIdentityHeader(v) != isIdentityHeader(name) || isForwardingHeader(v) != isForwardingHeader(name) {
				t.Fatalf("%q and %q are classed differently", name, v)
			}
		}
	})
}
