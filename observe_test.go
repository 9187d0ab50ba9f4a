package entraweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
)

// recorder keeps the events an app was told of.
type recorder struct {
	mu     sync.Mutex
	events []entraweb.Event
}

func (r *recorder) observe(_ context.Context, e entraweb.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// take returns the events since the last take.
func (r *recorder) take() []entraweb.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

func only(ev []entraweb.Event, kind entraweb.EventKind) []entraweb.Event {
	var out []entraweb.Event
	for _, e := range ev {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// The observer hears of every sign-in, failed sign-in, refusal, refresh
// and store call, with the reasons and codes a dashboard needs.
func TestObserverIsToldWhatHappens(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rec := &recorder{}
	cfg := graphConfig(srv)
	cfg.Observe = rec.observe
	a, _ := graphApp(t, srv, cfg)
	mux := http.NewServeMux() // graphApp's mux has no role pages: add one
	mux.Handle("/auth/", a.auth.Routes())
	mux.Handle("/admin", a.auth.RequireRole("DemoApp.Admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	ctx := context.Background()
	carol := "carol@" + entratest.DemoTenantDomain

	// A sign-in: one EventSignIn, and the store was used (and timed).
	b := srv.Browser()
	if resp, body, err := b.Visit(ctx, a.url+"/profile", carol, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v %.200s", err, resp, body)
	}
	ev := rec.take()
	if n := len(only(ev, entraweb.EventSignIn)); n != 1 {
		t.Errorf("sign-in events = %d, want 1 (all: %v)", n, kinds(ev))
	}
	ops := map[string]bool{}
	for _, e := range only(ev, entraweb.EventStore) {
		if e.Duration <= 0 || e.Err != nil {
			t.Errorf("store event %+v: want a duration and no error", e)
		}
		ops[e.Op] = true
	}
	if !ops["find"] || !ops["commit"] {
		t.Errorf("store ops seen %v, want find and commit", ops)
	}

	// A token for another resource: one refresh, timed, no error.
	if _, err := a.auth.AccessToken(requestAs(t, b, a.url), "api://"+entratest.DemoClientID+"/access_as_user"); err != nil {
		t.Fatal(err)
	}
	refreshes := only(rec.take(), entraweb.EventTokenRefresh)
	if len(refreshes) != 1 || refreshes[0].Duration <= 0 || refreshes[0].Err != nil {
		t.Errorf("refresh events %+v, want one with a duration and no error", refreshes)
	}
	// The same again comes from the cache: no refresh event.
	if _, err := a.auth.AccessToken(requestAs(t, b, a.url), "api://"+entratest.DemoClientID+"/access_as_user"); err != nil {
		t.Fatal(err)
	}
	if r := only(rec.take(), entraweb.EventTokenRefresh); len(r) != 0 {
		t.Errorf("a cached token made refresh events %+v", r)
	}

	// A refresh the provider refuses: the reason and the AADSTS code.
	srv.RevokeUser(carol)
	if _, err := a.auth.AccessToken(requestAs(t, b, a.url), "Mail.Read"); err == nil {
		t.Fatal("token after revocation")
	}
	refreshes = only(rec.take(), entraweb.EventTokenRefresh)
	if len(refreshes) != 1 || refreshes[0].Err == nil || refreshes[0].Reason != "aadsts" || refreshes[0].AADSTS == "" {
		t.Errorf("refused refresh events %+v, want one with reason aadsts and a code", refreshes)
	}

	// A refusal: carol is no Admin.
	hs := httptest.NewServer(mux)
	defer hs.Close()
	resp, err := b.AppClient().Get(hs.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	refused := only(rec.take(), entraweb.EventRefused)
	if resp.StatusCode != http.StatusForbidden || len(refused) != 1 || refused[0].Reason != "forbidden" || refused[0].Status != 403 {
		t.Errorf("refusal: %d, events %+v", resp.StatusCode, refused)
	}

	// Failed sign-ins: by reason, with Entra ID's code.
	srv.FailNextSignIn(50105)
	b2 := srv.Browser()
	if resp, _, err := b2.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || resp.StatusCode == 200 {
		t.Fatalf("sign-in with AADSTS50105: %v %v", err, resp)
	}
	failed := only(rec.take(), entraweb.EventSignInFailed)
	if len(failed) != 1 || failed[0].Reason != "aadsts" || failed[0].AADSTS != "50105" {
		t.Errorf("failed sign-in events %+v, want reason aadsts, code 50105", failed)
	}
	resp, err = b2.AppClient().Get(a.url + "/auth/callback?state=nothing&code=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	failed = only(rec.take(), entraweb.EventSignInFailed)
	if len(failed) != 1 || failed[0].Reason != "unknown_state" || failed[0].Status != 400 {
		t.Errorf("callback without a pending sign-in: events %+v, want reason unknown_state", failed)
	}
}

func kinds(ev []entraweb.Event) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.Kind.String())
	}
	return strings.Join(s, ",")
}

// A request that is cancelled while its token is fetched (the client
// left) is not a failure: no 500 page, no refusal for the metrics.
func TestCancelledTokenIsNoRefusal(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rec := &recorder{}
	cfg := testConfig(srv)
	cfg.Observe = rec.observe
	a := newApp(t, srv, cfg)
	b := srv.Browser()
	if resp, _, err := b.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v", err, resp)
	}
	rec.take()
	ctx, cancel := context.WithCancel(context.Background())
	r := requestAs(t, b, a.url).WithContext(ctx)
	srv.SetLatency(time.Second) // the refresh is under way when the client leaves
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := a.auth.AccessToken(r, "User.Read")
	srv.SetLatency(0)
	if err == nil {
		t.Fatal("a token despite the cancellation")
	}
	w := httptest.NewRecorder()
	if !a.auth.Challenge(w, r, err) {
		t.Fatal("Challenge did not answer")
	}
	if w.Code == http.StatusInternalServerError || strings.Contains(w.Body.String(), "Something went wrong") {
		t.Errorf("a cancelled request got %d %q", w.Code, w.Body.String())
	}
	for _, e := range rec.take() {
		if e.Kind == entraweb.EventRefused {
			t.Errorf("a cancelled request counted as a refusal: %+v", e)
		}
		if e.Kind == entraweb.EventTokenRefresh && e.Reason != "canceled" {
			t.Errorf("the cancelled refresh: reason %q, want canceled", e.Reason)
		}
	}
}

// API refusals are refusals for the observer too, with their RFC 6750
// reason.
func TestObserverHearsAPIRefusals(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rec := &recorder{}
	cfg := testConfig(srv)
	cfg.Observe = rec.observe
	a := newApp(t, srv, cfg)
	api := httptest.NewServer(a.auth.RequireScope("access_as_user", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer api.Close()
	for _, tt := range []struct{ auth, reason string }{{"", "unauthorized"}, {"Bearer x.y.z", "invalid_token"}} {
		rec.take()
		req, _ := http.NewRequest("GET", api.URL, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := only(rec.take(), entraweb.EventRefused)
		if len(got) != 1 || got[0].Reason != tt.reason || got[0].Status != 401 {
			t.Errorf("%q: events %+v, want one refusal %s 401", tt.auth, got, tt.reason)
		}
	}
}

// Events never carry a token or a cookie, whatever happened: a sign-in,
// store calls, a refresh, and a refresh the provider refused.
func TestEventsCarryNoSecrets(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	rec := &recorder{}
	cfg := graphConfig(srv)
	cfg.Observe = rec.observe
	a, _ := graphApp(t, srv, cfg)
	b := srv.Browser()
	if resp, _, err := b.Visit(context.Background(), a.url+"/profile", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v %v", err, resp)
	}
	tok, err := a.auth.AccessToken(requestAs(t, b, a.url), apiScope)
	if err != nil {
		t.Fatal(err)
	}
	srv.RevokeUser(alice)
	if _, err := a.auth.AccessToken(requestAs(t, b, a.url), "Mail.Read"); err == nil {
		t.Fatal("a token after revocation")
	}
	secrets := []string{tok, entratest.DemoClientSecret, entratest.DemoPassword}
	u, _ := url.Parse(a.url)
	for _, c := range b.AppClient().Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	ev := rec.take()
	if len(only(ev, entraweb.EventTokenRefresh)) == 0 || len(only(ev, entraweb.EventStore)) == 0 {
		t.Fatalf("the test saw no refresh or store events: %s", kinds(ev))
	}
	for _, e := range ev {
		text := fmt.Sprintf("%+v %v", e, e.Err)
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("an event carries a secret (%.12s…): %s", s, text)
			}
		}
	}
}
