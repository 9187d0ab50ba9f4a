package entratest_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/entraweb/entraweb/entratest"
)

// Many browsers signing in and apps redeeming at once, with a config
// update and key rotation in the middle: run under -race.
func TestConcurrentSignIns(t *testing.T) {
	e := newEmu(t, nil)
	users := []string{emuAlice, emuBob, emuCarol, emuDave, emuErin}
	const workers, rounds = 12, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			b := e.srv.Browser()
			user := users[w%len(users)]
			for r := range rounds {
				state := fmt.Sprintf("w%d-r%d", w, r)
				cb, err := b.SignIn(t.Context(), e.authURL("", url.Values{"state": {state}}), user, entratest.DemoPassword)
				if err != nil {
					errs <- err
					return
				}
				if cb.Params.Get("state") != state {
					errs <- fmt.Errorf("state %q, want %q", cb.Params.Get("state"), state)
					return
				}
				st, body := e.post(t, "", emuRedeemForm(cb.Params.Get("code")), nil)
				if st != 200 {
					errs <- fmt.Errorf("%s: redeem: HTTP %d %v", user, st, body)
					return
				}
				_, c := emuClaims(t, body["id_token"].(string))
				if c["preferred_username"] != user {
					errs <- fmt.Errorf("token for %v, want %s", c["preferred_username"], user)
					return
				}
				st, body = e.post(t, "", emuRefreshForm(body["refresh_token"].(string), emuScopes), nil)
				if st != 200 {
					errs <- fmt.Errorf("%s: refresh: HTTP %d %v", user, st, body)
					return
				}
			}
		})
	}
	wg.Go(func() {
		if err := e.srv.Update(func(c *entratest.Config) { c.Tenants[0].DisplayName = "Contoso (updated)" }); err != nil {
			errs <- err
		}
		if err := e.srv.RotateKeys(); err != nil {
			errs <- err
		}
		e.srv.ResetCalls()
		_ = e.srv.Calls(entratest.EndpointToken)
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
