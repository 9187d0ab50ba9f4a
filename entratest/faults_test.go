package entratest_test

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
)

func TestIDTokenFaults(t *testing.T) {
	clock := newEmuClock()
	e := newEmu(t, &entratest.Options{Now: clock.Now})
	b := e.srv.Browser()
	e.signIn(t, b, e.authURL("", nil), emuCarol)
	issuer := e.srv.Issuer(entratest.DemoTenantID)
	now := float64(clock.Now().Unix())

	type idTok struct {
		raw           string
		header, claim map[string]any
		nonce         string
		keys          map[string]*rsa.PublicKey
	}
	// next runs a silent sign-in with a nonce and returns its ID token.
	next := func(t *testing.T) idTok {
		t.Helper()
		nonce := fmt.Sprint("n", time.Now().UnixNano())
		q := emuWantRedirect(t, b.HTTPClient(), e.authURL("", url.Values{"nonce": {nonce}}), emuCallback)
		raw := e.tokens(t, emuRedeemForm(q.Get("code")))["id_token"].(string)
		h, c := emuClaims(t, raw)
		return idTok{raw, h, c, nonce, e.jwks(t)}
	}
	clean := func(tk idTok) error {
		switch {
		case emuVerify(tk.raw, tk.keys) != nil:
			return emuVerify(tk.raw, tk.keys)
		case tk.claim["aud"] != entratest.DemoClientID, tk.claim["iss"] != issuer, tk.claim["nonce"] != tk.nonce:
			return fmt.Errorf("aud/iss/nonce %v %v %v", tk.claim["aud"], tk.claim["iss"], tk.claim["nonce"])
		case tk.claim["exp"].(float64) <= now, tk.claim["nbf"].(float64) > now:
			return fmt.Errorf("not valid now")
		}
		for _, k := range []string{"oid", "tid", "sub", "iat"} {
			if tk.claim[k] == nil {
				return fmt.Errorf("no %s", k)
			}
		}
		return nil
	}
	has := func(tk idTok, k string) bool { _, ok := tk.claim[k]; return ok }
	tests := []struct {
		name    string
		fault   entratest.TokenFault
		spoiled func(idTok) bool
	}{
		{"Expired", entratest.FaultExpired, func(tk idTok) bool { return tk.claim["exp"].(float64) < now && emuVerify(tk.raw, tk.keys) == nil }},
		{"NotYetValid", entratest.FaultNotYetValid, func(tk idTok) bool { return tk.claim["nbf"].(float64) > now }},
		{"BadSignature", entratest.FaultBadSignature, func(tk idTok) bool {
			return tk.keys[fmt.Sprint(tk.header["kid"])] != nil && emuVerify(tk.raw, tk.keys) != nil
		}},
		{"Unsigned", entratest.FaultUnsigned, func(tk idTok) bool { return tk.header["alg"] == "none" && tk.raw[len(tk.raw)-1] == '.' }},
		{"HMAC", entratest.FaultHMAC, func(tk idTok) bool { return tk.header["alg"] == "HS256" }},
		{"UnknownKID", entratest.FaultUnknownKID, func(tk idTok) bool { return tk.keys[fmt.Sprint(tk.header["kid"])] == nil }},
		{"WrongAudience", entratest.FaultWrongAudience, func(tk idTok) bool { return tk.claim["aud"] != entratest.DemoClientID }},
		{"WrongIssuer", entratest.FaultWrongIssuer, func(tk idTok) bool { return tk.claim["iss"] != issuer }},
		{"WrongNonce", entratest.FaultWrongNonce, func(tk idTok) bool { return has(tk, "nonce") && tk.claim["nonce"] != tk.nonce }},
		{"MissingNonce", entratest.FaultMissingNonce, func(tk idTok) bool { return !has(tk, "nonce") }},
		{"MissingOID", entratest.FaultMissingOID, func(tk idTok) bool { return !has(tk, "oid") }},
		{"MissingTID", entratest.FaultMissingTID, func(tk idTok) bool { return !has(tk, "tid") }},
		{"MissingSub", entratest.FaultMissingSub, func(tk idTok) bool { return !has(tk, "sub") }},
		{"MissingIAT", entratest.FaultMissingIAT, func(tk idTok) bool { return !has(tk, "iat") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.FaultNextIDTokens(tc.fault, 2)
			for i := range 2 {
				if tk := next(t); !tc.spoiled(tk) {
					t.Errorf("ID token %d not spoiled: header %v claims %v", i+1, tk.header, tk.claim)
				}
			}
			if err := clean(next(t)); err != nil {
				t.Errorf("the fault outlived its count: %v", err)
			}
		})
	}
	t.Run("FaultNone clears", func(t *testing.T) {
		e.srv.FaultNextIDTokens(entratest.FaultWrongAudience, 5)
		e.srv.FaultNextIDTokens(entratest.FaultNone, 0)
		if err := clean(next(t)); err != nil {
			t.Error(err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	e := newEmu(t, nil)
	old := e.srv.SigningKeyID()
	if err := e.srv.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	cur := e.srv.SigningKeyID()
	if cur == old {
		t.Fatal("RotateKeys kept the kid")
	}
	keys := e.jwks(t)
	if keys[old] == nil || keys[cur] == nil || len(keys) != 2 {
		t.Errorf("JWKS kids %v, want the old and the new", keys)
	}
	idt := e.signInTokens(t, emuAlice)["id_token"].(string)
	if h, _ := emuClaims(t, idt); h["kid"] != cur {
		t.Errorf("signed with kid %v, want the new %s", h["kid"], cur)
	}
	if err := emuVerify(idt, keys); err != nil {
		t.Error(err)
	}
	e.srv.RetireOldKeys()
	keys = e.jwks(t)
	if keys[old] != nil || keys[cur] == nil || len(keys) != 1 {
		t.Errorf("after RetireOldKeys: %v", keys)
	}
}

func TestEndpointFaults(t *testing.T) {
	e := newEmu(t, nil)
	disc := e.srv.Authority() + "/v2.0/.well-known/openid-configuration"
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {entratest.DemoClientID},
		"client_secret": {entratest.DemoClientSecret}, "scope": {"https://graph.microsoft.com/.default"}}

	t.Run("SetLatency", func(t *testing.T) {
		const d = 80 * time.Millisecond
		e.srv.SetLatency(d)
		start := time.Now()
		if st, _, _ := e.getJSON(t, disc, nil); st != 200 {
			t.Fatalf("HTTP %d", st)
		}
		if el := time.Since(start); el < d {
			t.Errorf("answered after %v, before the latency %v", el, d)
		}
		e.srv.SetLatency(0)
	})
	t.Run("FailNext", func(t *testing.T) {
		e.srv.FailNext(entratest.EndpointToken, 2, http.StatusServiceUnavailable)
		if st, _, _ := e.getJSON(t, disc, nil); st != 200 {
			t.Errorf("discovery failed with the token endpoint: HTTP %d", st)
		}
		for range 2 {
			st, body := e.post(t, "", cc, nil)
			emuWantErr(t, st, body, 503, "temporarily_unavailable", 90033)
		}
		if st, body := e.post(t, "", cc, nil); st != 200 {
			t.Errorf("after 2 failures: HTTP %d %v", st, body)
		}
	})
	t.Run("Outage503", func(t *testing.T) {
		e.srv.SetOutage(entratest.Outage503)
		st, _, body := e.getJSON(t, disc, nil)
		emuWantErr(t, st, body, 503, "temporarily_unavailable", 90033)
		st, body = e.post(t, "", cc, nil)
		emuWantErr(t, st, body, 503, "temporarily_unavailable", 90033)
		e.srv.SetOutage(entratest.OutageNone)
		if st, _, _ := e.getJSON(t, disc, nil); st != 200 {
			t.Errorf("after the outage: HTTP %d", st)
		}
	})
	t.Run("OutageReset", func(t *testing.T) {
		e.srv.SetOutage(entratest.OutageReset)
		if resp, err := e.srv.Client().Get(disc); err == nil {
			resp.Body.Close()
			t.Errorf("got HTTP %d during a reset outage", resp.StatusCode)
		}
		e.srv.SetOutage(entratest.OutageNone)
		if st, _, _ := e.getJSON(t, disc, nil); st != 200 {
			t.Errorf("after the outage: HTTP %d", st)
		}
	})
	t.Run("FailNextSignIn", func(t *testing.T) {
		e.srv.FailNextSignIn(50105)
		cb := e.signIn(t, e.srv.Browser(), e.authURL("", url.Values{"state": {"fs"}}), emuAlice)
		emuWantAppError(t, cb.Params, "fs", "access_denied", "50105")
		cb = e.signIn(t, e.srv.Browser(), e.authURL("", nil), emuAlice)
		if cb.Params.Get("code") == "" {
			t.Errorf("second sign-in: %v", cb.Params)
		}
	})
	t.Run("Calls", func(t *testing.T) {
		e.srv.ResetCalls()
		for ep := range entratest.EndpointGraph + 1 {
			if n := e.srv.Calls(ep); n != 0 {
				t.Errorf("%v: %d calls after ResetCalls", ep, n)
			}
		}
		e.getJSON(t, disc, nil)
		e.getJSON(t, disc, nil)
		e.jwks(t)
		e.post(t, "", cc, nil)
		want := map[entratest.Endpoint]int64{entratest.EndpointDiscovery: 2, entratest.EndpointKeys: 1, entratest.EndpointToken: 1}
		for ep := range entratest.EndpointGraph + 1 {
			if got := e.srv.Calls(ep); got != want[ep] {
				t.Errorf("Calls(%v) = %d, want %d", ep, got, want[ep])
			}
		}
	})
}
