package tokencache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

// apiToken signs user in at the emulator as DemoApp's client and returns
// the access token for DemoApp's own API.
func apiToken(t *testing.T, srv *entratest.Server, user string) string {
	t.Helper()
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	scope := "api://" + entratest.DemoClientID + "/access_as_user"
	q := url.Values{"client_id": {entratest.DemoClientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost/auth/callback"},
		"scope": {scope}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	cb, err := srv.Browser().SignIn(context.Background(), srv.Authority()+"/oauth2/v2.0/authorize?"+q.Encode(), user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().PostForm(srv.Authority()+"/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {entratest.DemoClientID}, "client_secret": {entratest.DemoClientSecret}, "code": {cb.Params.Get("code")},
		"redirect_uri": {"http://localhost/auth/callback"}, "code_verifier": {verifier}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if body.AccessToken == "" {
		t.Fatal("no access token")
	}
	return body.AccessToken
}

// TestOnBehalfOfCache: a repeat of the same incoming token is served
// from the store; concurrent first calls share one request; the entry
// ends when the incoming token does.
func TestOnBehalfOfCache(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	store := memstore.New()
	store.Now = clock
	box, err := session.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := confidential.NewCredFromSecret(entratest.DemoClientSecret)
	c := New(Config{Store: store, Box: box, Life: time.Hour, Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewClient: func(ca cache.ExportReplace) (confidential.Client, error) {
			opts := []confidential.Option{confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false)}
			if ca != nil {
				opts = append(opts, confidential.WithCache(ca))
			}
			return confidential.New(srv.Authority(), entratest.DemoClientID, cred, opts...)
		}})
	ctx := context.Background()
	assertion := apiToken(t, srv, "alice@contoso.onmicrosoft.com")
	exp := now.Add(50 * time.Minute)

	base := srv.Calls(entratest.EndpointToken)
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Go(func() {
			tok, err := c.OnBehalfOf(ctx, assertion, exp, "", []string{"User.Read"})
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	if calls := srv.Calls(entratest.EndpointToken) - base; calls != 1 {
		t.Errorf("8 concurrent first calls made %d token requests, want 1", calls)
	}
	for _, tok := range toks[1:] {
		if tok == "" || tok != toks[0] {
			t.Fatal("the callers got different tokens")
		}
	}

	sum := sha256.Sum256([]byte(assertion))
	ik, _ := c.recs.storeKeys("obo:" + hex.EncodeToString(sum[:]))
	if _, found, _ := store.Find(ctx, ik); !found {
		t.Fatal("no store entry under the hash of the incoming token")
	}
	mu.Lock()
	now = exp.Add(time.Second)
	mu.Unlock()
	if _, found, _ := store.Find(ctx, ik); found {
		t.Error("the entry outlived the incoming token")
	}
}
